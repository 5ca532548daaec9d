from .source import SourcePivotalTracker

__all__ = ["SourcePivotalTracker"]
