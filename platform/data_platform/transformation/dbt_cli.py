"""dagster-dbt's ``DbtCliResource`` without two per-run costs this platform does not need.

Both are private hooks of ``DbtCliResource`` (no public option turns them off); they are
overridden here and nowhere else, so an upgrade that renames them touches this module only.

- ``_cli_version``: dagster-dbt runs ``dbt --version`` once per resource instance, which is
  once per run: 6-7 s on 2 cores, because dbt imports every installed adapter (Snowflake's
  connector included) to print their versions. The dbt this platform runs is the one installed
  beside this interpreter (``DBT_EXECUTABLE``), so its version is the installed dbt-core's.
- ``_initialize_dbt_core_adapter``: builds a dbt adapter inside the Dagster process (about 2 s
  a step: it loads the project's macros) only for ``fetch_row_counts`` and
  ``fetch_column_metadata``. The platform uses neither (the run summary counts rows itself,
  and an adapter held in the Dagster process keeps DuckDB's file lock from the next dbt step).
"""

from __future__ import annotations

import functools
from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


@functools.cache
def _installed_dbt_version() -> version.Version:
    return version.parse(installed_version("dbt-core"))


class PlatformDbtCliResource(DbtCliResource):
    @property
    def _cli_version(self) -> version.Version:
        return _installed_dbt_version()

    def _initialize_dbt_core_adapter(self, args: Any) -> None:  # type: ignore[override]
        return None
