"""The history window: a virtual table over every event sent, with filters and actions."""

from console.ui.history.model import HistoryTableModel
from console.ui.history.reader import HistoryReader
from console.ui.history.view import HistoryView

__all__ = ["HistoryReader", "HistoryTableModel", "HistoryView"]
