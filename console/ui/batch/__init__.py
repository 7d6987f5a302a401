"""Batches in the window: compose a list of events, watch the size meters, preview the
exact requests, send them with progress and partial-acceptance handling.

Qt only; the rules (sizes, plans, limits, outcome tallies) live in `console.core.batch`
and `console.core.plan`.
"""

from console.ui.batch.composer import BatchComposer
from console.ui.batch.meters import SizeMeters
from console.ui.batch.model import BatchListModel
from console.ui.batch.preview import PreviewDialog, PreviewTarget
from console.ui.batch.send_panel import BatchSendPanel

__all__ = [
    "BatchComposer",
    "BatchListModel",
    "BatchSendPanel",
    "PreviewDialog",
    "PreviewTarget",
    "SizeMeters",
]
