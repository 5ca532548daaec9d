"""Export mode: reading Pivotal Tracker's CSV and ZIP exports instead of its (shut down) API."""

from .source import ExportSource, is_export_config

__all__ = ["ExportSource", "is_export_config"]
