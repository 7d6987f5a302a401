"""Workspace widgets: the template browser, the scenario runner panel, the rendered preview.

Wiring (the main window owns these):
    watcher = WorkspaceWatcher(workspace)            # re-reads files changed outside the app
    browser = TemplateBrowser(workspace, watcher)    # browser.template_opened(name, text)
    runner = RunnerPanel(workspace, watcher, environments, secrets, client, tasks)
    preview = RenderedPreview(workspace)             # preview.set_source(editor_text)
"""

from console.ui.workspace.preview import RenderedPreview
from console.ui.workspace.runner_panel import RunnerPanel
from console.ui.workspace.template_browser import TemplateBrowser
from console.ui.workspace.watcher import WorkspaceWatcher

__all__ = ["RenderedPreview", "RunnerPanel", "TemplateBrowser", "WorkspaceWatcher"]
