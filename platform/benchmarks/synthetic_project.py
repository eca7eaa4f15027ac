"""A synthetic dbt project of any size, for the benchmark's definitions-load comparison.

Layered like the platform's projects (staging views on literal rows, trusted tables, marts), a
quarter of the models tagged ``daily``, each model documented with a ``unique`` and a
``not_null`` test on its key, so the translator and the checks see what a real project gives them.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import yaml

from data_platform.settings import REPO_ROOT
from data_platform.transformation.project import DBT_EXECUTABLE

LAYER_SHARES = (("staging", 0.2), ("trusted", 0.5), ("marts", 0.3))


def synthetic_project(root: Path, models: int, seed: int = 7) -> Path:
    """Write a project of ``models`` models under ``root/dbt/synthetic`` and parse it (the manifest
    in ``target/duckdb``, as the platform's projects have theirs); returns the project folder."""
    dbt_dir = root / "dbt"
    project = dbt_dir / "synthetic"
    shutil.copytree(REPO_ROOT / "dbt" / "macros", dbt_dir / "macros", dirs_exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dbt" / "profiles.yml", dbt_dir / "profiles.yml")
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "synthetic",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "data_platform",
                "model-paths": ["models"],
                "macro-paths": ["../macros"],
                "vars": {"min_date": "", "max_date": ""},
                "models": {"synthetic": {layer: {"+schema": layer} for layer, _ in LAYER_SHARES}},
            }
        )
    )
    rng = random.Random(seed)
    names: dict[str, list[str]] = {layer: [] for layer, _ in LAYER_SHARES}
    documented = []
    number = 0
    for index, (layer, share) in enumerate(LAYER_SHARES):
        folder = project / "models" / layer
        folder.mkdir(exist_ok=True)
        count = models - number if index == len(LAYER_SHARES) - 1 else int(models * share)
        for _ in range(count):
            name = f"{layer[:3]}_{number:05d}"
            number += 1
            daily = layer != "staging" and rng.random() < 0.25
            config = "{{ config(materialized='view', tags=['daily']) }}\n" if daily else ""
            if layer == "staging":
                body = f"select 1 as id, 'synthetic' as label, current_date as day -- {name}"
            else:
                parents = rng.sample(names[LAYER_SHARES[index - 1][0]], k=min(2, len(names[LAYER_SHARES[index - 1][0]])))
                body = "\nunion all\n".join(f"select id, label, day from {{{{ ref('{p}') }}}}" for p in parents)
            (folder / f"{name}.sql").write_text(f"{config}{body}\n")
            names[layer].append(name)
            documented.append(
                {
                    "name": name,
                    "description": f"Synthetic {layer} model number {number}.",
                    "columns": [
                        {"name": "id", "description": "The key.", "data_tests": ["unique", "not_null"]},
                        {"name": "label", "description": "A label."},
                    ],
                }
            )
    (project / "models" / "models.yml").write_text(yaml.safe_dump({"version": 2, "models": documented}, sort_keys=False))
    subprocess.run(
        [DBT_EXECUTABLE, "--quiet", "parse", "--profiles-dir", str(dbt_dir), "--target-path", "target/duckdb"],
        cwd=project,
        env={**os.environ, "DBT_TARGET": "duckdb", "DATA_PLATFORM_DATA_DIR": str(root)},
        check=True,
        capture_output=True,
    )
    return project
