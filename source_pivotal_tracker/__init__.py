"""source-pivotal-tracker: two ways in, one runtime.

- The API way in: ``manifest.yaml`` (streams, paging, cursors, the spec), ``schemas/``,
  ``components.py`` (what the manifest cannot say) and ``source.py`` (the declarative source),
  helped by ``api/`` (sign-in, request safety, deadlines, skipped projects).
- The export way in: ``exports/`` (Tracker's CSV/ZIP/XLSX exports into the same streams).
- What both share: ``runtime/`` (output, signals, time limits, the manifest's spec and schemas) and
  ``checks/`` (config, catalog and state validation, secret masking).
- ``cdk_seams/``: the one room for every reach past the CDK's public surface.
- ``run.py``: the command, which picks a way in from the config.

Imports go one way: the two ways in use ``runtime/``, ``checks/`` and ``cdk_seams/``, never each
other; ``runtime/`` and ``checks/`` use neither way in (unit_tests/test_package_layout.py).
"""

from .cdk_seams.cdk_range import require_supported_cdk
from .runtime import attribute_docs
from .runtime.gc_pause import collection_paused

require_supported_cdk()  # before anything imports the CDK, an unsupported one stops (cdk_range.py)
attribute_docs.install()  # before the CDK's import builds its serializers (attribute_docs.py)
with collection_paused():  # the CDK's import, without ~700 garbage collections (gc_pause.py)
    from .source import SourcePivotalTracker

__all__ = ["SourcePivotalTracker"]
