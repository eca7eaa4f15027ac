"""Data contracts a test declares by hand."""

from __future__ import annotations

from pathlib import Path

from data_platform.governance.contracts import ContractColumn, StreamContract


def declared_contract(namespace: str, stream: str, columns: dict[str, str] | None = None, primary_key: tuple[str, ...] = ()):
    """A minimal data contract for a stream a test declares by hand (``columns``: name -> ODCS logical
    type; none: the stream is typed from what the source discovers)."""
    return StreamContract(
        path=Path(f"{namespace}.{stream}.odcs.yaml"),
        id=f"test.{namespace}.{stream}",
        version="1.0.0",
        namespace=namespace,
        stream=stream,
        description=f"{stream}, declared by a test",
        team="data-platform",
        owners=("team:data-platform", "data-platform@example.com"),
        slack_channel=None,
        email=None,
        columns=tuple(ContractColumn(name, logical_type) for name, logical_type in (columns or {}).items()),
        primary_key=primary_key,
        freshness_error_minutes=360,
        freshness_warn_minutes=120,
        freshness_column=None,
    )
