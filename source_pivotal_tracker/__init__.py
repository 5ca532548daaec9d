from . import attribute_docs
from .gc_pause import collection_paused

attribute_docs.install()  # before the CDK's import builds its serializers (attribute_docs.py)
with collection_paused():  # the CDK's import, without ~700 garbage collections (gc_pause.py)
    from .source import SourcePivotalTracker

__all__ = ["SourcePivotalTracker"]
