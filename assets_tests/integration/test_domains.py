"""Domains: a team adds a folder and gets its lineage, checks and alerts; a broken domain fails alone.

Each test works on scratch folders: a domains folder and a dbt folder holding only the
platform's shared dbt parts (``macros/``, ``profiles.yml``), as a fresh clone with the example
removed would, plus the domains ``data-platform new-domain`` writes.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import dagster as dg
import pytest

from data_platform.definitions import MAIN_JOB, build_definitions, domain_location
from data_platform.domains import DomainError, load_domain, load_domains
from data_platform.scaffold import ScaffoldError, create_domain
from data_platform.settings import REPO_ROOT, Settings, resolve_settings
from data_platform.transformation.project import DbtProjectError


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Settings:
    """Settings over empty domain and dbt folders (the platform's shared dbt parts only), in the process environment too."""
    dbt = tmp_path / "dbt"
    shutil.copytree(REPO_ROOT / "dbt" / "macros", dbt / "macros")
    shutil.copy(REPO_ROOT / "dbt" / "profiles.yml", dbt / "profiles.yml")
    env = {
        "DATA_PLATFORM_DATA_DIR": str(tmp_path / "platform_data"),  # not where the profile defaults to from dbt/<domain>
        "DATA_PLATFORM_DOMAINS_DIR": str(tmp_path / "domains"),
        "DATA_PLATFORM_DBT_DIR": str(dbt),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return resolve_settings(env)


def keys(defs: dg.Definitions) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}


def test_a_scaffolded_domain_has_its_lineage_from_source_system_to_staging(scratch):
    create_domain("scratch", scratch)
    graph = build_definitions(scratch).resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_scratch__items"]))
    assert staging.parent_keys == {dg.AssetKey(["raw_scratch", "items"])}
    assert graph.get(dg.AssetKey(["raw_scratch", "items"])).parent_keys == {dg.AssetKey(["source_system", "scratch_files"])}
    assert staging.tags["domain"] == "scratch" and staging.owners == ["team:scratch"], "the dbt project's default owner"


def test_a_scaffolded_domain_gets_its_contract_checks_and_dbt_tests(scratch):
    create_domain("scratch", scratch)
    checks = {k.to_user_string() for k in build_definitions(scratch).resolve_asset_graph().asset_check_keys}
    assert {"raw_scratch/items:data_contract", "raw_scratch/items:primary_key_unique", "raw_scratch/items:row_volume"} <= checks
    assert any(c.startswith("staging/stg_scratch__items:unique") for c in checks)


def test_a_scaffolded_domain_runs_end_to_end(scratch, monkeypatch):
    monkeypatch.delenv("DATA_PLATFORM_DATA_DIR")  # dbt must write where the settings say, not where its profile defaults to
    create_domain("scratch", scratch)
    defs = build_definitions(scratch)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(MAIN_JOB).execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} >= {
        "raw_scratch/items",
        "staging/stg_scratch__items",
    }
    assert all(e.passed for e in result.get_asset_check_evaluations())
    import duckdb

    with duckdb.connect(str(scratch.warehouse.duckdb_path), read_only=True) as conn:
        assert conn.execute("select count(*), cast(round(sum(price_eur), 2) as varchar) from staging.stg_scratch__items").fetchone() == (
            3,
            "37.60",
        )


def test_a_scaffolded_domains_daily_partitions_start_on_its_datas_first_day(scratch):
    create_domain("scratch", scratch)
    fact = build_definitions(scratch).resolve_asset_graph().get(dg.AssetKey(["trusted", "fct_scratch__item_changes"]))
    with (scratch.domains_dir / "scratch" / "sample_data" / "items.csv").open() as sample:
        first_day = min(line.rstrip().rsplit(",", 1)[1][:10] for line in list(sample)[1:])
    assert fact.partitions_def.get_first_partition_key() == first_day == "2026-01-05"
    assert scratch.partitions_start != first_day, "the platform's default start is not the domain's"


def test_a_start_pinned_in_the_environment_wins_over_the_domains_own(scratch):
    create_domain("scratch", scratch)
    pinned = dataclasses.replace(scratch, partitions_start="2026-01-01", partitions_start_pinned=True)
    fact = build_definitions(pinned).resolve_asset_graph().get(dg.AssetKey(["trusted", "fct_scratch__item_changes"]))
    assert fact.partitions_def.get_first_partition_key() == "2026-01-01"


def test_the_scaffold_refuses_a_name_that_is_taken_or_not_snake_case(scratch):
    create_domain("scratch", scratch)
    with pytest.raises(ScaffoldError, match="already exists"):
        create_domain("scratch", scratch)
    with pytest.raises(ScaffoldError, match="snake_case"):
        create_domain("Scratch-Team", scratch)


def break_contract(settings: Settings, domain: str) -> Path:
    contract = settings.domains_dir / domain / "contracts" / f"raw_{domain}.items.odcs.yaml"
    text = contract.read_text()
    assert "logicalType: integer" in text
    contract.write_text(text.replace("logicalType: integer", "logicalType: integr"))  # not an ODCS logical type
    return contract


def test_a_domain_with_a_broken_contract_fails_to_load_naming_the_file(scratch):
    create_domain("beta", scratch)
    contract = break_contract(scratch, "beta")
    with pytest.raises(DomainError, match=rf"domain beta: .*connections.yaml: .*{contract.name}"):
        load_domain(scratch.domains_dir / "beta", scratch)


def test_next_to_a_broken_domain_the_others_load_and_run(scratch):
    create_domain("alpha", scratch)
    create_domain("beta", scratch)
    break_contract(scratch, "beta")
    with pytest.raises(DomainError):
        domain_location(scratch.domains_dir / "beta")
    alpha = domain_location(scratch.domains_dir / "alpha")  # the code location, as workspace.yaml loads it
    assert "raw_beta/items" not in keys(alpha)
    with dg.DagsterInstance.ephemeral() as instance:
        result = alpha.resolve_job_def("alpha_end_to_end").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success and "staging/stg_alpha__items" in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }


def test_a_domain_whose_dbt_model_is_broken_fails_alone_naming_the_model(scratch):
    create_domain("alpha", scratch)
    create_domain("beta", scratch)
    (scratch.dbt_dir / "beta" / "models" / "staging" / "broken.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    with pytest.raises(DbtProjectError, match=r"(?s)dbt/beta does not parse: .*models/staging/broken.sql.*no_such_model"):
        domain_location(scratch.domains_dir / "beta")
    assert "staging/stg_alpha__items" in keys(domain_location(scratch.domains_dir / "alpha"))


def test_a_domain_yaml_with_an_unknown_key_is_named(scratch):
    create_domain("scratch", scratch)
    path = scratch.domains_dir / "scratch" / "domain.yaml"
    path.write_text(path.read_text() + "owner: someone\n")
    with pytest.raises(DomainError, match=r"domain.yaml: unknown key\(s\) owner"):
        load_domains(scratch)


def test_a_dbt_source_naming_a_domain_that_does_not_exist_is_a_load_error(scratch):
    create_domain("scratch", scratch)
    sources = scratch.dbt_dir / "scratch" / "models" / "sources.yml"
    sources.write_text(
        sources.read_text()
        + """
  - name: ghost
    schema: trusted
    config: {meta: {domain: ghost}}
    tables:
      - name: fct_things
        config: {meta: {dagster: {asset_key: ["trusted", "fct_things"]}}}
"""
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="published by domain 'ghost', which has no folder"):
        build_definitions(scratch)


def test_the_platforms_core_never_names_the_example():
    core = [*(REPO_ROOT / "platform" / "data_platform").rglob("*.py"), *(REPO_ROOT / "dbt" / "macros").glob("*.sql")]
    core += [REPO_ROOT / "dbt" / "profiles.yml", *(REPO_ROOT / "platform" / "data_platform").rglob("*.yaml")]
    assert [str(p.relative_to(REPO_ROOT)) for p in core if "marketplace" in p.read_text().lower()] == []
