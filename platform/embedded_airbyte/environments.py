"""Python Airbyte connectors from PyPI, each in its own virtual environment.

Airbyte isolates every connector (a container per connector); here each gets a virtual
environment, so a connector's pins (airbyte-cdk, pydantic, ...) never meet the platform's.
Environments are cached per package version under ``~/.cache/data-platform/connectors``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

_PINNED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[A-Za-z0-9_.+-]+)$")


class ConnectorInstallError(RuntimeError):
    pass


def install_connector(requirement: str, executable: str, root: Path) -> Path:
    """Install ``requirement`` (pinned: ``name==version``) into its own venv; return the connector's executable."""
    match = _PINNED.match(requirement)
    if not match:
        raise ConnectorInstallError(f"connector requirement {requirement!r} must be pinned as name==version")
    env_dir = root / f"{match['name']}-{match['version']}"
    binary = env_dir / "bin" / executable
    marker = env_dir / ".installed"
    if marker.exists() and binary.exists():
        return binary
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    proc = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not binary.exists():
        raise ConnectorInstallError(
            f"installing {requirement} into {env_dir} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
            + ("" if binary.exists() else f"; it provides no executable {executable!r}")
        )
    marker.write_text(sys.version)
    return binary
