"""The catalog: every data product with its owners, columns, contract, lineage, health and cost,
and the glossary of KPIs with how each is computed, as a static site (``data-platform catalog``)."""
