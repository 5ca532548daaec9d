from . import attribute_docs
from .cdk_range import require_supported_cdk
from .gc_pause import collection_paused

require_supported_cdk()  # before anything imports the CDK: an unsupported one stops here (cdk_range.py)
attribute_docs.install()  # before the CDK's import builds its serializers (attribute_docs.py)
with collection_paused():  # the CDK's import, without ~700 garbage collections (gc_pause.py)
    from .source import SourcePivotalTracker

__all__ = ["SourcePivotalTracker"]
