"""The catalog's metadata as OpenLineage events, for a catalog someone else runs (Marquez,
DataHub, OpenMetadata, a cloud lineage service), through the ``openlineage-python`` client.

Behind a setting: ``DATA_PLATFORM_OPENLINEAGE=true``; where the events go is the client's own
configuration (``OPENLINEAGE_URL``, ``OPENLINEAGE_CONFIG`` or ``OPENLINEAGE__TRANSPORT__*``
variables: HTTP, Kafka, a file...). Each data product is one static-lineage ``JobEvent`` (no run:
what the platform declares, not what a run did): the job is the asset, its inputs the assets it
reads, its output the asset's dataset with its schema (columns, types, descriptions), owners,
description and tags (layer, domain, PII columns). The platform writes no catalog server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from data_platform.catalog.collect import Catalog, Product

PRODUCER = "https://github.com/data-platform/data-platform"


def namespace_of(product_key: str, catalog: Catalog) -> str:
    product = catalog.products.get(product_key)
    return f"data-platform/{product.domain if product else 'external'}"


def lineage_events(catalog: Catalog) -> Iterable[object]:
    from openlineage.client.event_v2 import InputDataset, Job, JobEvent, OutputDataset
    from openlineage.client.facet_v2 import documentation_dataset, ownership_dataset, ownership_job, schema_dataset, tags_dataset

    now = dt.datetime.now(dt.UTC).isoformat()
    for product in catalog.products.values():
        owners = [ownership_dataset.Owner(name=o) for o in product.owners]
        facets = {
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name=c.name, type=c.type, description=c.description or None)
                    for c in product.columns
                ]
            ),
            "ownership": ownership_dataset.OwnershipDatasetFacet(owners=owners),
            "tags": tags_dataset.TagsDatasetFacet(tags=_tags(product)),
        }
        if product.description:
            facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(description=product.description)
        yield JobEvent(
            eventTime=now,
            producer=PRODUCER,
            job=Job(
                namespace=namespace_of(product.key, catalog),
                name=product.key,
                facets={"ownership": ownership_job.OwnershipJobFacet(owners=[ownership_job.Owner(name=o) for o in product.owners])},
            ),
            inputs=[InputDataset(namespace=namespace_of(u, catalog), name=u) for u in product.upstream],
            outputs=[OutputDataset(namespace=namespace_of(product.key, catalog), name=product.key, facets=facets)],
        )


def _tags(product: Product) -> list[object]:
    from openlineage.client.facet_v2 import tags_dataset

    tags = [
        tags_dataset.TagsDatasetFacetFields(key="layer", value=product.group),
        tags_dataset.TagsDatasetFacetFields(key="team", value=product.team),
    ]
    tags += [tags_dataset.TagsDatasetFacetFields(key="classification", value=c.pii, field=c.name) for c in product.columns if c.pii]
    return tags


def emit(catalog: Catalog) -> int:
    """Send every data product's event with the client's configured transport; returns how many."""
    from openlineage.client import OpenLineageClient

    client = OpenLineageClient()
    sent = 0
    for event in lineage_events(catalog):
        client.emit(event)
        sent += 1
    return sent
