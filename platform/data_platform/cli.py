"""``data-platform``: run the platform from a terminal.

- ``data-platform run``: the main job end to end (simulate, sync every connection, and, as
  they land, every dbt model and check), with progress and a summary.
- ``data-platform simulate``: only move the domains' local source systems forward.
- ``data-platform prepare-dbt``: build each domain's dbt manifest for the environment's target (deploy step).
- ``data-platform new-domain NAME``: scaffold a working domain (connection, contract, dbt model, test).
- ``data-platform sql "select ..."``: query the local warehouse.
- ``data-platform dev``: ``dagster dev`` with the local instance configured; Ctrl-C or SIGTERM
  stops it with every process it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from data_platform.process_group import run_process_group
from data_platform.settings import REPO_ROOT, Settings, resolve_settings

INSTANCE_TEMPLATE = Path(__file__).with_name("instance") / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    """Use ``$DAGSTER_HOME`` if set; otherwise a persistent home in the data directory with the
    local instance config (warehouse pool limited to 1). Locally, a ``$DAGSTER_HOME`` that does
    not exist yet is created with that config too (Dagster would only refuse it); one that exists
    is used as it is."""
    home = settings.dagster_home or settings.data_dir / "dagster_home"
    if settings.dagster_home is None or (settings.is_local and not home.exists()):
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists():
            shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from data_platform.alerting.delivery import deliver_run_alerts
    from data_platform.automation.domain_chain import LAUNCHED_BY_TAG
    from data_platform.automation.end_to_end import earliest_data_day, run_end_to_end
    from data_platform.dead_runs import process_tags, release_dead_runs
    from data_platform.definitions import build_definitions
    from data_platform.domains import load_domains
    from data_platform.pool_waits import PoolWaitAnnouncer
    from data_platform.reporting import print_run_summary
    from data_platform.transformation.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_partitions, main_run_tags, recent_range_tags

    settings = resolve_settings()
    prepare_dagster_home(settings)
    print(f"data-platform: environment {settings.environment.value}, data in {settings.data_dir}", flush=True)
    started = time.perf_counter()
    if settings.is_local:  # the local source systems first: the daily partitions start where their data starts
        advance_local_stand_ins(settings)
        settings = resolve_settings()
    domains = {d.name: d for d in load_domains(settings)}
    print(f"domains: {', '.join(domains) or 'none'} (from {settings.domains_dir})", flush=True)
    # each domain by its own code location's definitions and end-to-end job: what the UI runs
    definitions = {name: build_definitions(settings, [domain], location=name) for name, domain in domains.items()}
    from data_platform.platform_location import LOCATION as PLATFORM
    from data_platform.platform_location import build_platform_definitions

    definitions[PLATFORM] = build_platform_definitions(settings)  # cost per team and the catalog: after every domain
    with dg.DagsterInstance.get() as instance:
        for released in release_dead_runs(instance):
            print(f"released run {released.run_id}: {released.reason}", flush=True)

        def tags_for(name: str, defs: dg.Definitions) -> dict[str, str]:
            if name == PLATFORM:  # usage days, not data days: the last few, today included
                return recent_range_tags(daily_partitions(settings), settings.showback.rolling_days)
            graph = defs.resolve_asset_graph()
            daily = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable and graph.get(k).partitions_def]
            if not daily:
                return {}
            built = set.intersection(*(set(instance.get_materialized_partitions(key)) for key in daily))
            earliest = None if built else earliest_data_day(defs.resources["warehouse"], domains[name].connections, settings.warehouse)
            tags = main_run_tags(settings, built, earliest_data=earliest, domain_start=domains[name].partitions_start)
            print(f"{name}: daily partitions {tags[RANGE_START_TAG]} .. {tags[RANGE_END_TAG]} in one run", flush=True)
            return tags

        with PoolWaitAnnouncer(instance, settings.warehouse.pool, say=lambda text: print(text, flush=True)):
            end_to_end = run_end_to_end(
                definitions,
                instance,
                tags_for=tags_for,
                on_run=lambda run: deliver_run_alerts(
                    instance, definitions, run.run_id, settings, {d.name: d.slack_channel for d in domains.values() if d.slack_channel}
                ),
                tags={LAUNCHED_BY_TAG: "data-platform run", **process_tags()},
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            )
        return print_run_summary(end_to_end.runs, settings, time.perf_counter() - started, end_to_end.left_out)


def cmd_catalog(args: argparse.Namespace) -> int:
    import dagster as dg

    from data_platform.catalog.assets import build_catalog
    from data_platform.resources import build_resources

    settings = resolve_settings()
    prepare_dagster_home(settings)
    warehouse = build_resources(settings)["warehouse"]
    with dg.DagsterInstance.get() as instance:
        index, catalog = build_catalog(settings, instance, warehouse, Path(args.out).resolve() if args.out else None)
    print(
        f"{index}: {len(catalog.products)} data products, {len(catalog.glossary)} KPIs, cost of {len({t for _, t, _, _ in catalog.cost})} teams"
    )
    for skipped in catalog.skipped:
        print(f"  left out: {skipped}", file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    if not advance_local_stand_ins(resolve_settings()):
        print("no domain names a local_stand_in: nothing to move forward")
    return 0


def advance_local_stand_ins(settings: Settings) -> set[str]:
    """Move every domain's local source systems forward to now (or the pinned instant); the stand-ins moved."""
    from data_platform.domains import load_domains
    from data_platform.ingestion.source_systems import advance_stand_in

    done = set()
    for domain in load_domains(settings):
        for system in domain.source_systems:
            if not system.local_stand_in or system.local_stand_in in done:
                continue
            done.add(system.local_stand_in)
            report = advance_stand_in(domain, system.local_stand_in, settings)
            print(f"{system.local_stand_in}: moved to {report.until:%Y-%m-%d %H:%M} UTC in {settings.source_systems_dir}")
            for table, rows in report.rows_total.items():
                print(f"  {table:<16} {rows:>12,} rows ({report.rows_written.get(table, 0):,} written now)")
    return done


def cmd_prepare_dbt(args: argparse.Namespace) -> int:
    from data_platform.domains import load_domains
    from data_platform.transformation.project import dbt_project, parse

    settings = resolve_settings()
    for domain in load_domains(settings):
        if domain.dbt_project_dir is not None:
            manifest = parse(dbt_project(domain.dbt_project_dir, settings.warehouse.dbt_target), settings)
            print(f"dbt manifest of domain {domain.name} for target {settings.warehouse.dbt_target}: {manifest}")
    return 0


def cmd_new_domain(args: argparse.Namespace) -> int:
    from data_platform.scaffold import create_domain
    from data_platform.workspace import workspace_text, write_workspace

    settings = resolve_settings()
    created = create_domain(args.name, settings)
    print(f"domain {args.name} created:")
    for path in created:
        print(f"  {path}")
    if settings.domains_dir.is_relative_to(REPO_ROOT):
        from data_platform.deployment.helm_values import write_values

        print(f"{write_workspace(settings)}: rewritten with its code location")
        print(f"{write_values(settings)}: rewritten with its user deployment")
    else:  # domains kept outside the repository: data-platform dev serves them; a workspace of your own lists them
        print(f"its code location, for a workspace.yaml of your own:\n{workspace_text(settings, None).splitlines()[-1]}")
    return 0


def cmd_draft_contract(args: argparse.Namespace) -> int:
    from data_platform.domains import domain_folders
    from data_platform.governance.contract_draft import DraftError, draft_contracts, write_drafts

    settings = resolve_settings()
    folders = {p.name: p for p in domain_folders(settings)}
    if args.domain not in folders:
        print(f"no domain {args.domain!r} in {settings.domains_dir} (domains: {', '.join(folders) or 'none'})", file=sys.stderr)
        return 2
    try:
        drafts = draft_contracts(folders[args.domain], args.connection, settings, sample=args.sample)
        if args.write:
            for path in write_drafts(drafts, overwrite=args.force):
                print(f"drafted {path}: review every line marked REVIEW", file=sys.stderr)
        else:
            for path, text in drafts.items():
                print(f"# ---- {path}\n{text}")
    except DraftError as error:
        print(f"draft-contract: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_workspace(args: argparse.Namespace) -> int:
    from data_platform.deployment.helm_values import VALUES_FILE, values_drift, write_values
    from data_platform.domains import domain_folders
    from data_platform.workspace import WORKSPACE_FILE, workspace_drift, write_workspace

    settings = resolve_settings()
    if args.check:
        drifts = [d for d in (workspace_drift(settings), values_drift(settings)) if d]
        for drift in drifts:
            print(drift, file=sys.stderr)
        if not drifts:
            print(f"{WORKSPACE_FILE} and {VALUES_FILE}: in step with the domain folders")
        return 1 if drifts else 0
    print(f"{write_workspace(settings)}: {len(domain_folders(settings))} domain code location(s) and the platform's")
    print(f"{write_values(settings)}: a user deployment per code location")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    settings = resolve_settings()
    if settings.warehouse.duckdb_path is None:
        print("data-platform sql reads the local DuckDB warehouse; DATA_PLATFORM_ENV is not local", file=sys.stderr)
        return 2
    with duckdb.connect(str(settings.warehouse.duckdb_path), read_only=True) as conn:
        conn.sql(args.query).show(max_rows=args.max_rows)
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from data_platform.workspace import workspace_text

    settings = resolve_settings()
    home = prepare_dagster_home(settings)
    print(f"DAGSTER_HOME={home}", flush=True)
    workspace = home / "workspace.yaml"  # the domains these settings find, as data-platform run finds them
    workspace.write_text(workspace_text(settings, None))
    dagster = Path(sys.executable).with_name("dagster")
    extra = args.dagster_args[1:] if args.dagster_args[:1] == ["--"] else args.dagster_args
    host, port, extra = serving_address(extra)
    print(f"data-platform dev: the Dagster UI will be at http://{host}:{port}", flush=True)
    # not exec: dagster dev leaves its code servers running for 40-50 s after Ctrl-C, and all of
    # its processes after SIGTERM; this process stays to take the whole group down (process_group.py)
    # dagster dev warns at every start that `dg dev` supersedes it; the platform starts it for
    # the user, so the warning is not theirs to act on (only that message is silenced)
    warnings = ",".join(w for w in (os.environ.get("PYTHONWARNINGS"), "ignore:Function `dev_command` is superseded") if w)
    code = run_process_group(
        [str(dagster), "dev", "-w", str(workspace), "-h", host, "-p", str(port), *extra],
        env={**os.environ, "PYTHONWARNINGS": warnings},
    )
    print("data-platform dev: stopped, with every process it started", flush=True)
    return code


DEFAULT_PORT = 3000


def serving_address(arguments: list[str]) -> tuple[str, int, list[str]]:
    """The host and port ``dagster dev`` will serve on, and the other arguments. Dagster moves to
    another port without a word when its port is taken; here a port asked for (``-p``) is used as
    asked, and when 3000 is taken a free one is chosen and said."""
    import socket

    host, port, rest = "127.0.0.1", None, []
    items = iter(arguments)
    for item in items:
        name, _, value = item.partition("=")
        if name in ("-h", "--host"):
            host = value or next(items, host)
        elif name in ("-p", "--port"):
            port = int(value or next(items))
        else:
            rest.append(item)
    if port is None:
        with socket.socket() as probe:
            try:
                probe.bind((host, DEFAULT_PORT))
                port = DEFAULT_PORT
            except OSError:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
                print(f"data-platform dev: port {DEFAULT_PORT} is taken, serving on port {port} instead", flush=True)
    return host, port, rest


def build_parser() -> argparse.ArgumentParser:
    """The ``data-platform`` command line (the docs' command lines are parsed with it by a test)."""
    parser = argparse.ArgumentParser(prog="data-platform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the main job end to end").set_defaults(func=cmd_run)
    commands.add_parser("simulate", help="move the simulated source systems forward to now").set_defaults(func=cmd_simulate)
    commands.add_parser("prepare-dbt", help="build the dbt manifest for this environment's target (deploy/CI step)").set_defaults(
        func=cmd_prepare_dbt
    )
    new_domain = commands.add_parser("new-domain", help="scaffold a working domain: connection, contract, dbt project, test")
    new_domain.add_argument("name", help="lowercase snake_case")
    new_domain.set_defaults(func=cmd_new_domain)
    sql = commands.add_parser("sql", help="query the local DuckDB warehouse (read-only)")
    sql.add_argument("query")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.set_defaults(func=cmd_sql)
    draft = commands.add_parser(
        "draft-contract", help="draft each stream's data contract from what the connection's source sends (types, keys, PII guesses)"
    )
    draft.add_argument("domain")
    draft.add_argument("connection")
    draft.add_argument("--sample", type=int, default=10_000, help="rows sampled to guess types, required columns and keys")
    draft.add_argument("--write", action="store_true", help="write contracts/<namespace>.<stream>.odcs.yaml instead of printing")
    draft.add_argument("--force", action="store_true", help="with --write: replace existing contracts")
    draft.set_defaults(func=cmd_draft_contract)
    workspace = commands.add_parser(
        "workspace", help="write workspace.yaml and deploy/helm/values.yaml from the domain folders (--check: fail when out of step)"
    )
    workspace.add_argument("--check", action="store_true")
    workspace.set_defaults(func=cmd_workspace)
    catalog = commands.add_parser("catalog", help="build the data catalog as a static site (open its index.html, no server)")
    catalog.add_argument("--out", help="folder to write it to (default: <data dir>/catalog)")
    catalog.set_defaults(func=cmd_catalog)
    dev = commands.add_parser("dev", help="dagster dev with the local instance configured")
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as error:
        if type(error).__name__ not in EXPLAINED_ERRORS:
            raise
        print(f"data-platform {args.command}: {error}", file=sys.stderr)
        return 2


EXPLAINED_ERRORS = {
    "CatalogError",
    "DomainError",
    "SettingsError",
    "ScaffoldError",
    "ContractError",
    "DraftError",
    "WiringError",
    "DbtProjectError",
}
"""Errors whose message says what is wrong and where (file, element): printed alone, without a traceback."""


if __name__ == "__main__":
    sys.exit(main())
