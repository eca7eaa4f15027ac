"""``deploy/Dockerfile`` read as Docker reads it (there is no Docker engine here to build it): what
it copies exists and gets past its ``.dockerignore``, it installs from the lock file, prepares the
dbt manifests, and serves as a non-root user."""

from __future__ import annotations

import fnmatch
import re

from data_platform.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
IGNORE = REPO_ROOT / "deploy" / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


def admitted(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-admits."""
    verdict = True
    for pattern in [p.strip() for p in IGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.split("/")[0], pattern):
            verdict = negated
    return verdict


def test_everything_it_copies_from_the_repository_exists_and_is_not_ignored():
    copies = [args for op, args in instructions() if op == "COPY" and "--from=" not in args]
    sources = [source.rstrip("/") for args in copies for source in args.split()[:-1]]
    assert sources, "the build copies the repository's files"
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert admitted(source), f"{source} is excluded by {IGNORE.name}"


def test_it_installs_the_locked_dependencies_and_prepares_the_dbt_manifests():
    runs = " ".join(args for op, args in instructions() if op == "RUN")
    assert "uv sync --locked" in runs and "uv.lock" in " ".join(a for op, a in instructions() if op == "COPY")
    assert "data-platform prepare-dbt" in runs and "DATA_PLATFORM_ENV=prod" in runs


def test_it_compiles_the_platforms_own_code_after_installing_it():
    runs = [args for op, args in instructions() if op == "RUN"]
    compiled = next(i for i, args in enumerate(runs) if "compileall" in args and "platform" in args)
    assert compiled >= next(i for i, args in enumerate(runs) if "uv sync --locked" in args and "--no-install-project" not in args)


def test_it_runs_as_a_non_root_user():
    users = [args for op, args in instructions() if op == "USER"]
    assert users and not users[-1].startswith(("root", "0"))


def test_local_data_and_build_leftovers_stay_out_of_the_image():
    for path in ("data", ".venv", "assets_tests", ".git"):
        assert not admitted(path), path
