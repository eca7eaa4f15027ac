"""dagster-dbt's ``DbtCliResource`` with the platform's environment, without two per-run costs it does not need.

- ``environment``: variables the dbt process gets on top of the inherited ones. The profile finds
  the local warehouse through ``DATA_PLATFORM_DATA_DIR``; the platform passes the data folder its
  settings resolved, so dbt writes where the Airbyte runner and the checks do even when the
  variable is unset (the default folder) or the process was started elsewhere. dagster-dbt builds
  the dbt process's environment from ``os.environ`` inside ``cli()`` and offers no parameter for
  it, so ``cli()`` lays these variables over ``os.environ`` for the duration of that call only.
  A call may add its own (``cli(args, environment=...)``): a partitioned run's window travels as
  ``DBT_PARTITION_MIN_DATE``/``DBT_PARTITION_MAX_DATE``, read by the ``incremental_window``
  macro. As environment variables, not ``--vars``: dbt discards its saved parse whenever the
  vars change (a full parse, 2-3 s per invocation), but for a changed environment variable it
  re-parses only the files that read it.

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

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping
from importlib.metadata import version as installed_version
from typing import Any

import pydantic
from dagster_dbt import DbtCliResource
from packaging import version


@functools.cache
def _installed_dbt_version() -> version.Version:
    return version.parse(installed_version("dbt-core"))


@contextlib.contextmanager
def _laid_over_environ(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


PARTITION_MIN_DATE = "DBT_PARTITION_MIN_DATE"
PARTITION_MAX_DATE = "DBT_PARTITION_MAX_DATE"
NO_PARTITION_WINDOW = {PARTITION_MIN_DATE: "", PARTITION_MAX_DATE: ""}
"""Set on every invocation unless a call passes a window, so a variable left in the shell never
narrows a build, and a parse and a plain build read the same values (no re-parse between them)."""


def partition_window_environment(start: str, end: str) -> dict[str, str]:
    """The dbt process's variables for a partition window ``[start, end)`` (ISO dates)."""
    return {PARTITION_MIN_DATE: start, PARTITION_MAX_DATE: end}


class PlatformDbtCliResource(DbtCliResource):
    environment: dict[str, str] = pydantic.Field(default_factory=dict)
    """Variables for the dbt process (the platform's data folder), laid over the inherited environment."""

    def cli(self, args, *, environment: Mapping[str, str] | None = None, **kwargs):  # type: ignore[override]
        with _laid_over_environ({**NO_PARTITION_WINDOW, **self.environment, **(environment or {})}):
            return super().cli(args, **kwargs)

    @property
    def _cli_version(self) -> version.Version:
        return _installed_dbt_version()

    def _initialize_dbt_core_adapter(self, args: Any) -> None:  # type: ignore[override]
        return None
