from .gc_pause import collection_paused

with collection_paused():  # the CDK's import, without ~700 garbage collections (gc_pause.py)
    from .source import SourcePivotalTracker

__all__ = ["SourcePivotalTracker"]
