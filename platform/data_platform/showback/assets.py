"""The showback asset ``platform/cost_per_team_daily``, its check and its rolling schedule.

One daily partition per UTC day of usage, built as one run per range (single-run backfill
policy). Each day is replaced whole (delete, then insert, in one transaction), so a day
recomputed when late ``ACCOUNT_USAGE`` rows arrive never counts twice. The daily schedule
recomputes the last ``rolling_days`` days. The check ``credits_attributed`` warns when less than
95 % of a day's credits land on a named team (untagged statements: a tool or a person querying
outside the platform). The chart of the last 30 days is in the materialization's metadata.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg

from data_platform.settings import Settings
from data_platform.showback import table
from data_platform.showback.chart import markdown_image, stacked_svg
from data_platform.transformation.partitions import daily_partitions, recent_range_tags
from data_platform.warehouse.profile import WAREHOUSE_POOL
from data_platform.warehouse.sql import execute, execute_in_transaction, fetch_all, literal, query_tag

KEY = dg.AssetKey(["platform", table.TABLE])
CHECK = "credits_attributed"
ATTRIBUTED_FLOOR = 0.95
OWNER = "team:data-platform"
JOB = "showback_job"
CHART_DAYS = 30

TeamOf = Callable[[dg.AssetKey], str]


def qualified_table(settings: Settings) -> str:
    database = settings.warehouse.analytics_database
    return f"{database}.{table.SCHEMA}.{table.TABLE}" if database else f"{table.SCHEMA}.{table.TABLE}"


def _day_rows(context, settings: Settings, day: dt.date, team_of: Callable[[], TeamOf]) -> list[tuple]:
    showback = settings.showback
    if settings.is_local:
        from data_platform.showback.measured import measured_seconds

        per_team = measured_seconds(context.instance, day, team_of())
        rows = []
        for team, (seconds, nodes) in per_team.items():
            credits = seconds / 3600.0 * showback.local_credits_per_hour
            rows.append((day, team, credits, 0.0, 0.0, credits, credits * showback.price_per_credit, showback.currency, nodes, "measured"))
        return rows
    from data_platform.showback.snowflake_sql import cost_per_team_sql

    sql = cost_per_team_sql(
        day.isoformat(),
        showback.price_per_credit,
        showback.currency,
        dict(showback.warehouse_owners),
        rate_sheet_account=showback.rate_sheet_account,
    )
    return [(dt.date.fromisoformat(str(r[0])[:10]), *r[1:]) for r in fetch_all(context.resources.warehouse, sql)]


def _replace_day(warehouse: Any, qualified: str, day: dt.date, rows: Sequence[tuple]) -> None:
    columns = ", ".join(c.name for c in table.COLUMNS)
    values = [
        "("
        + ", ".join(
            f"cast({literal(day.isoformat())} as date)" if i == 0 else ("null" if v is None else literal(v)) for i, v in enumerate(row)
        )
        + ")"
        for row in rows
    ]
    statements = [f"delete from {qualified} where usage_date = cast({literal(day.isoformat())} as date)"]
    if values:
        statements.append(f"insert into {qualified} ({columns}) values {', '.join(values)}")
    execute_in_transaction(warehouse, statements)


def showback_assets(settings: Settings, team_of: Callable[[], TeamOf]) -> tuple[dg.AssetsDefinition, Any, dg.ScheduleDefinition]:
    """The asset, its check, its job and its daily schedule. ``team_of``: called at run time
    (locally only), gives the team each asset key is billed to."""
    partitions = daily_partitions(settings)
    qualified = qualified_table(settings)
    currency = settings.showback.currency

    # backfill_policy is marked beta: a warning at every load says nothing to an operator (dagster-dbt's assets use it too)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)

        @dg.asset(
            key=KEY,
            group_name="showback",
            owners=[OWNER],
            kinds={"duckdb" if settings.is_local else "snowflake"},
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
            pool=WAREHOUSE_POOL,
            required_resource_keys={"warehouse"},
            check_specs=[
                dg.AssetCheckSpec(
                    CHECK, asset=KEY, description=f"At least {ATTRIBUTED_FLOOR:.0%} of each day's credits land on a named team (WARN)."
                )
            ],
            description=(
                "Warehouse cost per business team per day. Snowflake: each warehouse-hour's metered credits (idle included) "
                "split over the teams by attributed credits, idle-only hours to the warehouse's owner, cloud services as "
                "billed; the day adds up to the bill. Locally: execution time measured by Dagster, priced as a warehouse "
                "metering DATA_PLATFORM_LOCAL_CREDITS_PER_HOUR. Spanish view: presentation.coste_por_equipo."
            ),
            metadata={
                "dagster/table_name": qualified,
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(c.name, c.sql_type, description=c.description) for c in table.COLUMNS]
                ),
            },
        )
        def cost_per_team_daily(context):
            warehouse = context.resources.warehouse
            if settings.warehouse.duckdb_path is not None:
                settings.warehouse.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            window = context.partition_time_window
            days = [window.start.date() + dt.timedelta(days=i) for i in range((window.end.date() - window.start.date()).days)]
            with query_tag(asset=KEY.to_user_string(), team=OWNER.removeprefix("team:")):
                execute(warehouse, table.create_table_sql(settings.warehouse.analytics_database))
                execute(warehouse, table.spanish_view_sql(settings.warehouse.analytics_database))
                shares = []
                for day in days:
                    rows = _day_rows(context, settings, day, team_of)
                    _replace_day(warehouse, qualified, day, rows)
                    total = sum(r[5] for r in rows)
                    named = sum(r[5] for r in rows if r[1] != table.UNATTRIBUTED)
                    shares.append((day, total, named))
                last = days[-1]
                recent = fetch_all(
                    warehouse,
                    f"select usage_date, team, cost, credits from {qualified} "
                    f"where usage_date > cast({literal((last - dt.timedelta(days=CHART_DAYS)).isoformat())} as date) "
                    f"and usage_date <= cast({literal(last.isoformat())} as date) order by usage_date, team",
                )
            chart = stacked_svg(
                ((dt.date.fromisoformat(str(d)[:10]), team, cost) for d, team, cost, _ in recent),
                f"Cost per team per day ({currency}), last {CHART_DAYS} days to {last.isoformat()}",
            )
            in_range = [r for r in recent if str(r[0])[:10] >= days[0].isoformat()]
            per_team: dict[str, tuple[float, float]] = {}
            for _, team, cost, credits in in_range:
                c, k = per_team.get(team, (0.0, 0.0))
                per_team[team] = (c + float(cost), k + float(credits))
            total_credits = sum(t for _, t, _ in shares)
            named_credits = sum(n for _, _, n in shares)
            share = named_credits / total_credits if total_credits else 1.0
            lines = ["| team | credits | cost |", "|---|---:|---:|"] + [
                f"| {team} | {k:,.4f} | {c:,.{2 if abs(c) >= 1 else 4}f} {currency} |"
                for team, (c, k) in sorted(per_team.items(), key=lambda i: -i[1][0])
            ]
            yield dg.MaterializeResult(
                metadata={
                    "chart": dg.MetadataValue.md(markdown_image(chart, "cost per team per day")),
                    "cost_by_team": dg.MetadataValue.md("\n".join(lines)),
                    "credits": round(total_credits, 6),
                    "cost": round(sum(c for c, _ in per_team.values()), 2),
                    "currency": currency,
                    "attributed_share": round(share, 4),
                    "days": len(days),
                    "method": "measured" if settings.is_local else "metered",
                    "dagster/row_count": len(in_range),
                }
            )
            short = [d.isoformat() for d, t, n in shares if t and n / t < ATTRIBUTED_FLOOR]
            yield dg.AssetCheckResult(
                check_name=CHECK,
                passed=not short,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    f"{share:.1%} of {total_credits:,.4f} credits on named teams"
                    + (f"; below {ATTRIBUTED_FLOOR:.0%} on {', '.join(short)} (untagged statements)" if short else "")
                ),
                metadata={"attributed_share": round(share, 4), "days_below": dg.MetadataValue.json(short)},
            )

    job = dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(KEY), description="Recompute cost per team for a range of days.")

    @dg.schedule(job=job, cron_schedule="0 6 * * *", execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.RUNNING)
    def showback_daily(context: dg.ScheduleEvaluationContext):
        """Every morning, the last ``rolling_days`` days again, in one run: usage rows that arrived late are counted."""
        tags = recent_range_tags(partitions, settings.showback.rolling_days, now=context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"showback-{tags['dagster/asset_partition_range_end']}", tags=tags)

    return cost_per_team_daily, job, showback_daily
