"""`spec` without building the source: the manifest's Spec component, and nothing else.

The generic `source-declarative-manifest spec` prints a spec from a file; ours built all fourteen
streams' worth of manifest first, for a message that only needs the `spec` block. The block goes
through the same CDK steps as in the source (references resolved, types propagated, the Spec
component built and asked for its ConnectorSpecification), so the message is the same; a unit
test compares the two, line for line.
"""

from __future__ import annotations

import logging

from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.sources.declarative.models.declarative_component_schema import Spec as SpecModel
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import (
    ManifestComponentTransformer,
)
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import (
    ManifestReferenceResolver,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

from .manifest_loading import manifest_with_placeholders


def connector_spec() -> ConnectorSpecification:
    resolved = ManifestReferenceResolver().preprocess_manifest(manifest_with_placeholders())
    propagated = ManifestComponentTransformer().propagate_types_and_parameters("", resolved, {})
    spec = ModelToComponentFactory().create_component(SpecModel, propagated["spec"], {})
    return spec.generate_spec()  # type: ignore[no-any-return]


class SpecOnlySource:
    """What the CDK's entrypoint asks of a source to run `spec`: its name, spec and message queue."""

    name = "SourcePivotalTracker"
    message_repository = None

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return connector_spec()
