"""The warehouse, decided once: what kind it is, where raw and modelled data live, how a table is named.

The resolver (``settings.py``) builds one ``WarehouseProfile`` from the environment; every
module that names a table, picks a dialect or labels an asset's kind asks it, instead of
deciding local-or-prod again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from data_platform.warehouse.sql import WarehouseDialect

WAREHOUSE_POOL = "warehouse"
"""Steps that write the warehouse share this Dagster pool; the local instance limits it to 1 (DuckDB is single-writer)."""


@dataclasses.dataclass(frozen=True)
class SnowflakeConnection:
    """What connects to Snowflake, except the secrets (those stay ``dg.EnvVar``s, read at run time)."""

    role: str = "TRANSFORMER"
    warehouse: str = "TRANSFORMING"
    key_pair: bool = False
    """Authenticate with ``SNOWFLAKE_PRIVATE_KEY_PATH`` instead of ``SNOWFLAKE_PASSWORD``."""
    key_passphrase: bool = False
    endpoint: tuple[tuple[str, str | int], ...] = ()
    """host, port, protocol of an endpoint other than ``<account>.snowflakecomputing.com`` (a proxy, an emulator)."""


@dataclasses.dataclass(frozen=True)
class WarehouseProfile:
    kind: str
    """``duckdb`` (local) or ``snowflake`` (prod): also the dbt target and the assets' kind."""
    raw_database: str
    """Where Airbyte lands the raw tables: the DuckDB file's catalog, or Snowflake's RAW database."""
    analytics_database: str | None
    """Where dbt builds the models; None: the connection's default catalog (the DuckDB file)."""
    duckdb_path: Path | None = None
    snowflake: SnowflakeConnection | None = None

    @property
    def dialect(self) -> WarehouseDialect:
        return WarehouseDialect(self.kind)

    @property
    def dbt_target(self) -> str:
        return self.kind

    @property
    def pool(self) -> str:
        return WAREHOUSE_POOL

    def raw_table(self, namespace: str, stream: str) -> str:
        """``database.namespace.stream``: valid SQL in DuckDB (the file is the catalog) and Snowflake."""
        return f"{self.raw_database}.{namespace}.{stream}"

    def analytics_table(self, schema: str, name: str) -> str:
        """A table dbt (or a Python consumer) builds: ``[database.]schema.name``."""
        return f"{self.analytics_database}.{schema}.{name}" if self.analytics_database else f"{schema}.{name}"

    def analytics_schema(self, schema: str) -> str:
        return f"{self.analytics_database}.{schema}" if self.analytics_database else schema

    @property
    def pii_key_table(self) -> str:
        """Where SQL reads the PII key's pads (``pii_key.py``): an attached file locally, RAW on Snowflake."""
        from data_platform.warehouse.pii_key import KEY_TABLE, SECRETS_CATALOG

        return f"{SECRETS_CATALOG}.main.{KEY_TABLE}" if self.kind == "duckdb" else f"{self.raw_database}.{SECRETS_CATALOG}.{KEY_TABLE}"

    def ensure_local_folder(self) -> None:
        """Create the DuckDB file's folder (a dbt model with no upstream can run before anything else did) and the PII key."""
        if self.duckdb_path is not None:
            from data_platform.warehouse.pii_key import ensure_local_key

            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            ensure_local_key(self.duckdb_path)  # dbt's profile attaches it: staging pseudonymises PII with it
