"""The one place that reads the environment: typed settings per concern, validated once.

``DATA_PLATFORM_ENV`` picks the environment:

- ``local`` (default): a DuckDB warehouse file and the embedded Airbyte runner reading the
  domains' local source systems, all under ``DATA_PLATFORM_DATA_DIR`` (default ``./data``).
- ``prod``: Snowflake and an Airbyte server (self-managed when ``AIRBYTE_SERVER_URL`` is
  set, Airbyte Cloud otherwise). Secrets stay ``dg.EnvVar`` references, resolved only
  when a run starts, so loading definitions needs neither credentials nor the network.

``resolve_settings`` turns the variables into ``Settings``: the warehouse profile, Airbyte,
alerting settings, and where the domains and dbt projects live. A variable
that does not parse is a ``SettingsError`` naming it. No other module reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from data_platform.warehouse.profile import SnowflakeConnection, WarehouseProfile
from embedded_airbyte.commits import DEFAULT_COMMIT_BYTES, DEFAULT_COMMIT_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
DEFAULT_PARTITIONS_START = "2025-01-01"
SOURCE_SYSTEMS_FOLDER = "source_systems"
"""In the data folder: the local source systems (their stand-ins' files)."""
HISTORY_START_FILE = "history_start"
"""In the source-systems folder: the first day the local source systems hold."""


class Environment(str, enum.Enum):
    LOCAL = "local"
    PROD = "prod"


class SettingsError(ValueError):
    """The environment variables do not describe a usable environment."""


@dataclasses.dataclass(frozen=True)
class AirbyteSettings:
    """The production Airbyte (ignored locally, where the embedded runner syncs)."""

    server_url: str | None = None
    """A self-managed Airbyte's URL; None: Airbyte Cloud."""
    auth: str = "client_credentials"
    """``client_credentials``, ``basic`` (username/password) or ``none``."""
    poll_interval: float = 10.0
    poll_timeout: float = 4 * 3600.0
    request_max_retries: int = 3
    request_retry_delay: float = 2.0
    connection_ids: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """``AIRBYTE_CONNECTION_ID_*`` variables by name (each connection names its variable)."""


@dataclasses.dataclass(frozen=True)
class AlertSettings:
    """Where alerts go besides the JSON-lines log. Secrets are only flagged here (they stay EnvVars)."""

    webhook: bool = False
    slack: bool = False
    slack_default_channel: str = "#data-platform-alerts"
    slack_api_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: bool = False
    email_from: str = "data-platform-alerts@localhost"
    lookback_hours: float = 24.0
    """How far back the alert sensor's first tick looks for failures it has not alerted."""


@dataclasses.dataclass(frozen=True)
class ShowbackSettings:
    """What the warehouse costs each team (``showback/``)."""

    price_per_credit: float = 3.0
    """``DATA_PLATFORM_CREDIT_PRICE``: money per Snowflake credit (the contract's rate)."""
    rate_sheet_account: str | None = None
    """``DATA_PLATFORM_CREDIT_PRICE=rate_sheet``: on Snowflake, this account's contracted rates per day
    (``ORGANIZATION_USAGE.RATE_SHEET_DAILY``; the account locator from ``SNOWFLAKE_ACCOUNT``, or
    ``DATA_PLATFORM_RATE_SHEET_ACCOUNT``), 3.0 a credit on a day the sheet has no rate for."""
    currency: str = "USD"
    """``DATA_PLATFORM_CREDIT_CURRENCY``."""
    warehouse_owners: tuple[tuple[str, str], ...] = ()
    """``DATA_PLATFORM_WAREHOUSE_OWNERS`` (``TRANSFORMING=analytics,LOADING=data-platform``): the
    team an hour a warehouse was metered with no query in it is billed to; unnamed: ``unattributed``."""
    local_credits_per_hour: float = 1.0
    """``DATA_PLATFORM_LOCAL_CREDITS_PER_HOUR``: locally, measured execution time is priced as if it
    ran on a warehouse metering this many credits an hour (an X-Small meters 1)."""
    rolling_days: int = 3
    """``DATA_PLATFORM_SHOWBACK_ROLLING_DAYS``: the daily schedule recomputes this many past days
    (``ACCOUNT_USAGE`` rows arrive up to hours late; attribution up to 8 h)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    environment: Environment
    data_dir: Path
    warehouse: WarehouseProfile
    stand_in_as_of: str | None = None
    """``DATA_PLATFORM_SIM_AS_OF``: the instant local stand-ins move the source systems to (ISO 8601,
    UTC) instead of now: a reproducible run. What else a stand-in needs it reads itself, next to
    its domain (a simulator's knobs are not the platform's settings)."""

    @property
    def stand_in_instant(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.stand_in_as_of.replace("Z", "+00:00")) if self.stand_in_as_of else None

    airbyte: AirbyteSettings = AirbyteSettings()
    alerting: AlertSettings = AlertSettings()
    showback: ShowbackSettings = ShowbackSettings()
    openlineage: bool = False
    """``DATA_PLATFORM_OPENLINEAGE=true``: the catalog asset also sends its metadata as OpenLineage
    events, where the client's own variables say (``OPENLINEAGE_URL``, ``OPENLINEAGE__TRANSPORT__*``)."""
    domains_dir: Path = REPO_ROOT / "platform" / "domains"
    """One folder per domain (see ``domains.py``)."""
    dbt_dir: Path = REPO_ROOT / "dbt"
    """The dbt projects (``dbt/<domain>``), the shared macros and ``profiles.yml``."""
    partitions_start: str = DEFAULT_PARTITIONS_START
    """First daily partition (YYYY-MM-DD): ``DATA_PLATFORM_PARTITIONS_START``; else a domain's own
    ``partitions_start`` (its ``domain.yaml``: where its data starts); else, locally, the first day
    the local source systems hold (recorded when a stand-in moves them forward), so no partition
    before the data is missing for ever; else ``DEFAULT_PARTITIONS_START``."""
    partitions_start_pinned: bool = False
    """``DATA_PLATFORM_PARTITIONS_START`` is set: it wins over every domain's own start."""
    code_url: str | None = None
    """``DATA_PLATFORM_CODE_URL``: the repository's files on its web host
    (``https://github.com/acme/data-platform/blob/main``); code references open there. Unset:
    they open the local file in an editor."""
    dagster_home: Path | None = None
    """``DAGSTER_HOME`` when set; the CLI then uses it instead of one in the data directory."""
    connector_cache: Path = Path.home() / ".cache" / "data-platform" / "connectors"
    """Where PyPI connectors get their virtual environments."""
    connector_silence_seconds: float = 3600.0
    """``DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS``: a local source connector writing nothing for this long is stopped."""
    connector_commit_mb: float = DEFAULT_COMMIT_BYTES / (1 << 20)
    """``DATA_PLATFORM_CONNECTOR_COMMIT_MB``: a local sync commits a stream's records at the first
    STATE after this many MiB of them (a crash of the run loses at most that, re-read next sync)."""
    connector_commit_seconds: float = DEFAULT_COMMIT_SECONDS
    """``DATA_PLATFORM_CONNECTOR_COMMIT_SECONDS``: ... or at the first STATE this long after its last commit."""
    duckdb_memory_limit: str = "1GB"
    """``DATA_PLATFORM_DUCKDB_MEMORY_LIMIT``: DuckDB's memory limit locally (syncs, checks, dbt via
    ``dbt/profiles.yml``, which reads the same variable with the same default); past it DuckDB
    spills to disk. DuckDB's own default, 80% of the machine, let dbt alone reach 5.6 GiB at 10M rows."""
    contract_cache: Path | None = None
    """Where contents of data contracts that passed the ODCS schema are remembered (None: validate every load)."""

    @property
    def source_systems_dir(self) -> Path:
        return self.data_dir / SOURCE_SYSTEMS_FOLDER

    @property
    def is_local(self) -> bool:
        return self.environment is Environment.LOCAL


def _parsed(environ: Mapping[str, str], name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {what}") from None


def _memory_size(raw: str) -> str:
    """A DuckDB memory size (``1GB``, ``512MB``, ``2GiB``, ``1.5GB``)."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw.strip()):
        raise ValueError(raw)
    return raw.strip()


def _within(parse: Callable[[str], float], low: float, high: float, *, above_low: bool = False) -> Callable[[str], float]:
    """``parse``, refusing what is not a finite number in ``[low, high]`` (``(low, high]`` with
    ``above_low``): a value the machine cannot honour fails at load, naming the variable."""

    def check(raw: str) -> float:
        value = parse(raw)
        if not (math.isfinite(value) and (value > low if above_low else value >= low) and value <= high):
            raise ValueError(raw)
        return value

    return check


PORT = _within(int, 1, 65535)


def _instant(raw: str) -> str:
    moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(raw)
    return raw


def _warehouse(environment: Environment, data_dir: Path, environ: Mapping[str, str]) -> WarehouseProfile:
    if environment is Environment.LOCAL:
        return WarehouseProfile(kind="duckdb", raw_database="warehouse", analytics_database=None, duckdb_path=data_dir / "warehouse.duckdb")
    endpoint = []
    for field, variable in (("host", "SNOWFLAKE_HOST"), ("port", "SNOWFLAKE_PORT"), ("protocol", "SNOWFLAKE_PROTOCOL")):
        if environ.get(variable):
            endpoint.append(
                (field, _parsed(environ, variable, 0, PORT, "a port number (1-65535)") if field == "port" else environ[variable])
            )
    connection = SnowflakeConnection(
        role=environ.get("SNOWFLAKE_ROLE") or "TRANSFORMER",
        warehouse=environ.get("SNOWFLAKE_WAREHOUSE") or "TRANSFORMING",
        key_pair=bool(environ.get("SNOWFLAKE_PRIVATE_KEY_PATH")),
        key_passphrase=bool(environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")),
        endpoint=tuple(endpoint),
    )
    return WarehouseProfile(
        kind="snowflake",
        raw_database=environ.get("SNOWFLAKE_DATABASE") or "RAW",
        analytics_database=environ.get("SNOWFLAKE_ANALYTICS_DATABASE") or "ANALYTICS",
        snowflake=connection,
    )


def _airbyte(environ: Mapping[str, str]) -> AirbyteSettings:
    if environ.get("AIRBYTE_CLIENT_ID") or not environ.get("AIRBYTE_SERVER_URL"):
        auth = "client_credentials"
    elif environ.get("AIRBYTE_USERNAME"):
        auth = "basic"
    else:
        auth = "none"
    return AirbyteSettings(
        server_url=(environ.get("AIRBYTE_SERVER_URL") or "").rstrip("/") or None,
        auth=auth,
        poll_interval=_parsed(
            environ,
            "AIRBYTE_POLL_INTERVAL_SECONDS",
            10.0,
            _within(float, 0, 600, above_low=True),
            "a number of seconds above 0, at most 600",
        ),
        poll_timeout=_parsed(
            environ,
            "AIRBYTE_POLL_TIMEOUT_SECONDS",
            4 * 3600.0,
            _within(float, 0, 7 * 86400, above_low=True),
            "a number of seconds above 0, at most a week",
        ),
        request_max_retries=_parsed(environ, "AIRBYTE_REQUEST_MAX_RETRIES", 3, _within(int, 0, 20), "a whole number from 0 to 20"),
        request_retry_delay=_parsed(
            environ, "AIRBYTE_REQUEST_RETRY_DELAY_SECONDS", 2.0, _within(float, 0, 300), "a number of seconds from 0 to 300"
        ),
        connection_ids={k: v for k, v in environ.items() if k.startswith("AIRBYTE_CONNECTION_ID_") and v},
    )


def _alerting(environ: Mapping[str, str]) -> AlertSettings:
    return AlertSettings(
        webhook=bool(environ.get("DATA_PLATFORM_ALERT_WEBHOOK_URL")),
        slack=bool(environ.get("SLACK_BOT_TOKEN")),
        slack_default_channel=environ.get("DATA_PLATFORM_SLACK_DEFAULT_CHANNEL") or "#data-platform-alerts",
        slack_api_url=environ.get("SLACK_API_URL") or None,
        smtp_host=environ.get("DATA_PLATFORM_SMTP_HOST") or None,
        smtp_port=_parsed(environ, "DATA_PLATFORM_SMTP_PORT", 587, PORT, "a port number (1-65535)"),
        smtp_user=environ.get("DATA_PLATFORM_SMTP_USER") or None,
        smtp_password=bool(environ.get("DATA_PLATFORM_SMTP_PASSWORD")),
        email_from=environ.get("DATA_PLATFORM_ALERT_EMAIL_FROM") or "data-platform-alerts@localhost",
        lookback_hours=_parsed(environ, "DATA_PLATFORM_ALERT_LOOKBACK_HOURS", 24.0, _lookback_hours, "a number of hours from 0 to 8760"),
    )


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(raw)
    return value in ("true", "1", "yes")


def _warehouse_owners(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        warehouse, _, team = item.partition("=")
        if not warehouse.strip() or not team.strip():
            raise ValueError(item)
        pairs.append((warehouse.strip().upper(), team.strip().removeprefix("team:")))
    return tuple(pairs)


def _rate_sheet_account(environ: Mapping[str, str]) -> str:
    locator = (environ.get("DATA_PLATFORM_RATE_SHEET_ACCOUNT") or (environ.get("SNOWFLAKE_ACCOUNT") or "").split(".")[0]).strip()
    if not locator:
        raise SettingsError(
            "DATA_PLATFORM_CREDIT_PRICE=rate_sheet needs the account: set SNOWFLAKE_ACCOUNT or DATA_PLATFORM_RATE_SHEET_ACCOUNT"
        )
    return locator.upper()


def _showback(environ: Mapping[str, str]) -> ShowbackSettings:
    rate_sheet = (environ.get("DATA_PLATFORM_CREDIT_PRICE") or "").strip().lower() == "rate_sheet"
    return ShowbackSettings(
        price_per_credit=3.0
        if rate_sheet
        else _parsed(environ, "DATA_PLATFORM_CREDIT_PRICE", 3.0, _within(float, 0, 1000), "a price from 0 to 1000 or rate_sheet"),
        rate_sheet_account=_rate_sheet_account(environ) if rate_sheet else None,
        currency=(environ.get("DATA_PLATFORM_CREDIT_CURRENCY") or "USD").strip().upper(),
        warehouse_owners=_parsed(
            environ, "DATA_PLATFORM_WAREHOUSE_OWNERS", (), _warehouse_owners, "WAREHOUSE=team pairs separated by commas"
        ),
        local_credits_per_hour=_parsed(
            environ, "DATA_PLATFORM_LOCAL_CREDITS_PER_HOUR", 1.0, _within(float, 0, 512), "a number of credits from 0 to 512"
        ),
        rolling_days=_parsed(environ, "DATA_PLATFORM_SHOWBACK_ROLLING_DAYS", 3, _within(int, 1, 31), "a whole number of days from 1 to 31"),
    )


def _lookback_hours(text: str) -> float:
    hours = float(text)
    if not 0 <= hours <= 8760:
        raise ValueError(text)
    return hours


def _code_url(environ: Mapping[str, str]) -> str | None:
    raw = (environ.get("DATA_PLATFORM_CODE_URL") or "").strip()
    if not raw:
        return None
    if not raw.startswith(("https://", "http://")):
        raise SettingsError(f"DATA_PLATFORM_CODE_URL={raw!r} is not a web address (https://github.com/<org>/<repo>/blob/<branch>)")
    return raw.rstrip("/")


def _history_start(data_dir: Path) -> str:
    """The first day the local source systems hold, as recorded by ``advance_stand_in``."""
    marker = data_dir / SOURCE_SYSTEMS_FOLDER / HISTORY_START_FILE
    if not marker.is_file():
        return DEFAULT_PARTITIONS_START
    try:
        return dt.date.fromisoformat(marker.read_text().strip()).isoformat()
    except ValueError:
        raise SettingsError(f"{marker} does not hold a YYYY-MM-DD date; delete it and run data-platform simulate") from None


def _folder(environ: Mapping[str, str], name: str, default: Path) -> Path:
    return Path(environ.get(name) or default).expanduser().resolve()


def resolve_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    raw_env = (environ.get("DATA_PLATFORM_ENV") or "local").strip().lower()
    try:
        environment = Environment(raw_env)
    except ValueError:
        raise SettingsError(f"DATA_PLATFORM_ENV={raw_env!r} is not an environment; use one of {[e.value for e in Environment]}") from None
    data_dir = _folder(environ, "DATA_PLATFORM_DATA_DIR", REPO_ROOT / "data")
    partitions_start = _parsed(
        environ, "DATA_PLATFORM_PARTITIONS_START", None, lambda raw: dt.date.fromisoformat(raw).isoformat(), "a YYYY-MM-DD date"
    ) or (_history_start(data_dir) if environment is Environment.LOCAL else DEFAULT_PARTITIONS_START)
    cache = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "data-platform"
    return Settings(
        environment=environment,
        data_dir=data_dir,
        warehouse=_warehouse(environment, data_dir, environ),
        stand_in_as_of=_parsed(
            environ, "DATA_PLATFORM_SIM_AS_OF", None, _instant, "an ISO 8601 instant with a time zone (2026-10-20T12:00:00Z)"
        ),
        airbyte=_airbyte(environ),
        alerting=_alerting(environ),
        showback=_showback(environ),
        openlineage=_parsed(environ, "DATA_PLATFORM_OPENLINEAGE", False, _flag, "true or false"),
        domains_dir=_folder(environ, "DATA_PLATFORM_DOMAINS_DIR", REPO_ROOT / "platform" / "domains"),
        dbt_dir=_folder(environ, "DATA_PLATFORM_DBT_DIR", REPO_ROOT / "dbt"),
        partitions_start=partitions_start,
        partitions_start_pinned=bool(environ.get("DATA_PLATFORM_PARTITIONS_START")),
        code_url=_code_url(environ),
        dagster_home=Path(environ["DAGSTER_HOME"]) if environ.get("DAGSTER_HOME") else None,
        connector_cache=cache / "connectors",
        contract_cache=cache / "validated-contracts",
        connector_silence_seconds=_parsed(
            environ,
            "DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS",
            3600.0,
            _within(float, 0, 86400, above_low=True),
            "a number of seconds above 0, at most a day",
        ),
        duckdb_memory_limit=_parsed(environ, "DATA_PLATFORM_DUCKDB_MEMORY_LIMIT", "1GB", _memory_size, "a size such as 1GB, 512MB or 2GiB"),
        connector_commit_mb=_parsed(
            environ,
            "DATA_PLATFORM_CONNECTOR_COMMIT_MB",
            DEFAULT_COMMIT_BYTES / (1 << 20),
            _within(float, 0, 65536),
            "a number of MiB from 0 (every STATE) to 65536",
        ),
        connector_commit_seconds=_parsed(
            environ,
            "DATA_PLATFORM_CONNECTOR_COMMIT_SECONDS",
            DEFAULT_COMMIT_SECONDS,
            _within(float, 0, 86400),
            "a number of seconds from 0 (every STATE) to a day",
        ),
    )
