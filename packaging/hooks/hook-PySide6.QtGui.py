"""PySide6.QtGui, with only the Qt plugins a widgets desktop app needs.

Why this overrides PyInstaller's own hook: that hook collects every plugin type tied to QtGui
(eglfs device integrations, evdev input, the virtual keyboard, GTK theme, ...). Some of them
link further Qt modules (the virtual keyboard pulls in QtQuick and QtQml) and the binary
dependency analysis, which runs after the hooks, would bundle those too. Filtering here, before
that analysis, keeps them out. User hooks (`hookspath`) take priority over the built-in one.

Kept: platforms xcb/wayland/offscreen (+ windows/cocoa), the SVG image format and SVG icon
engine (PNG is built into QtGui), the xdg-desktop-portal theme (native file dialogs, dark
mode), compose/ibus input methods, the xcb GL integrations and the wayland shell and
decoration plugins.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

KEEP = {
    "platforms": {"xcb", "wayland", "wayland-egl", "wayland-generic", "offscreen", "windows",
                  "cocoa"},
    "imageformats": {"svg"},
    "iconengines": {"svgicon"},
    "platformthemes": {"xdgdesktopportal"},
    "platforminputcontexts": {"composeplatforminputcontextplugin",
                              "ibusplatforminputcontextplugin"},
    "xcbglintegrations": {"xcb-glx-integration", "xcb-egl-integration"},
    "wayland-shell-integration": {"xdg-shell"},
    "wayland-decoration-client": {"adwaita", "bradient"},
    "platforms/darwin": None,  # None: keep every plugin of this type
    "styles": None,
}


def _plugin_name(path):
    """libqxcb.so -> xcb, qwindows.dll -> windows, libqsvgicon.dylib -> svgicon."""
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0]
    stem = stem.removeprefix("lib")
    return stem[1:] if stem.startswith("q") and not stem.startswith("qt-") else stem


def _wanted(src, dest_dir):
    dest = dest_dir.replace("\\", "/")
    marker = "/plugins/"
    if marker not in f"/{dest}/":
        return True
    plugin_type = f"/{dest}".split(marker, 1)[1].strip("/")
    if plugin_type not in KEEP:
        return False
    names = KEEP[plugin_type]
    return names is None or _plugin_name(src) in names


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if _wanted(src, dest)]
