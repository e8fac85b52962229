"""Where gridline keeps its state and how it finds its secrets.

Everything lives under ``$GRIDLINE_HOME`` (default ``./var``). The pseudonymisation key comes, in this
order, from the environment (``GRIDLINE_PII_KEY``), from the Airflow Variable ``GRIDLINE_PII_KEY`` in a
deployment (see :func:`airflow_pii_key`), or from a key file that ``gridline init --local-key`` creates
under the home with owner-only permissions; it is never read from the repository.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gridline.errors import GridlineError, machine_error

KEY_FILE_NAME = "pii.key"
PII_KEY_ENV = "GRIDLINE_PII_KEY"
# The Airflow Variable holding the key. Airflow also serves Variables from ``AIRFLOW_VAR_<NAME>``
# environment variables and from a configured secrets backend (Vault, AWS/GCP secret managers).
PII_KEY_VARIABLE = "GRIDLINE_PII_KEY"
LOCAL_TIMEZONE = "Asia/Shanghai"
# The city's time zone (an IANA name): quarters, days and service levels are cut in it.
TIMEZONE_ENV = "GRIDLINE_TIMEZONE"
# Without the setting, the zone a home adopted from the first export it read (see adopt_timezone).
TIMEZONE_FILE_NAME = "timezone"
# The engine dbt builds on: DuckDB (embedded, the default) or a Spark output of dbt_project/profiles.yml
# (``spark``: a local session; others: a cluster). docs/scale-out.md says when to switch.
ENGINE_ENV = "GRIDLINE_ENGINE"
DEFAULT_ENGINE = "duckdb"
# The memory ceiling of one ingest (a DuckDB size: 500MB, 2GB): past it the ingest's set-based steps spill
# to disk, so its memory does not grow with the batch or the log. Lower it on a small worker, raise it to
# trade memory for speed on a large one.
INGEST_MEMORY_ENV = "GRIDLINE_INGEST_MEMORY"
DEFAULT_INGEST_MEMORY = "500MB"
# The memory ceiling of the build (dbt_project/profiles.yml reads the same variable, with the same default)
# and of the audits around it, past which DuckDB spills to disk.
BUILD_MEMORY_ENV = "GRIDLINE_BUILD_MEMORY"
DEFAULT_BUILD_MEMORY = "6GB"
# How many models the build runs at a time (dbt_project/profiles.yml; 2 when unset). At "1", each model
# starts without the table blocks the ones before it read (gridline/dbt_plugin.py); a night sets it.
BUILD_THREADS_ENV = "GRIDLINE_BUILD_THREADS"
# "off": the build's checkpoints leave deleted rows for a later build to vacuum (gridline/build_storage.py).
BUILD_VACUUM_ENV = "GRIDLINE_BUILD_VACUUM"
# How long one ingest may run. A night's takes seconds and a megacity's week minutes; one still running
# after this is hung (DuckDB 2.0 can hang when a query fails during a file write, duckdb/duckdb#23885)
# and holds the log's writer lock. Airflow ends an ingest task after it; `gridline ingest` and
# `gridline pull-open311` end themselves, after the environment variable's seconds when it is set (for
# larger batches by hand, and for tests).
INGEST_TIMEOUT_ENV = "GRIDLINE_INGEST_TIMEOUT"
INGEST_TIMEOUT = timedelta(hours=1)
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    home: Path
    timezone: str = LOCAL_TIMEZONE
    engine: str = DEFAULT_ENGINE
    ingest_memory: str = DEFAULT_INGEST_MEMORY
    build_memory: str = DEFAULT_BUILD_MEMORY

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "published.duckdb"

    @property
    def candidate_db(self) -> Path:
        return self.warehouse_dir / "candidate.duckdb"

    @property
    def spark_dir(self) -> Path:
        """A local Spark's tables and metastore (the ``spark`` engine)."""
        return self.warehouse_dir / "spark"

    @property
    def docs_dir(self) -> Path:
        return self.home / "docs"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def key_file(self) -> Path:
        return self.home / KEY_FILE_NAME

    def pii_key(self) -> bytes:
        """The keyed-hash secret; ingestion refuses to run without one."""
        from_env = os.environ.get(PII_KEY_ENV, "").strip()
        if from_env:
            return from_env.encode()
        from_airflow = airflow_pii_key()
        if from_airflow:
            return from_airflow.encode()
        if self.key_file.exists():
            return self.key_file.read_text().strip().encode()
        raise GridlineError(
            "no pseudonymisation key: set GRIDLINE_PII_KEY (or run `gridline init --local-key` "
            "to create one under $GRIDLINE_HOME for a local trial)"
        )


def airflow_pii_key() -> str | None:
    """The key as an Airflow deployment provides it, or None outside Airflow or when it is not set.

    First ``AIRFLOW_VAR_GRIDLINE_PII_KEY`` (how Airflow passes a Variable through the environment,
    e.g. from a Kubernetes secret), then, inside a running task, ``Variable.get`` (which also asks the
    configured secrets backend) when the Airflow task SDK is already loaded, as it is in a task.
    """
    from_env = os.environ.get(f"AIRFLOW_VAR_{PII_KEY_VARIABLE}", "").strip()
    if from_env:
        return from_env
    if "airflow.sdk" not in sys.modules:
        return None  # not inside Airflow: importing it only to ask would cost seconds
    try:
        from airflow.sdk import Variable

        value = Variable.get(PII_KEY_VARIABLE, default=None)
    except Exception:  # no Airflow here, or not inside a task: the Variable cannot be asked for
        return None
    return value.strip() if value and value.strip() else None


# Everything gridline writes is for its owner only, whatever umask the caller had: directories 0700,
# files 0600. The log holds pseudonyms and the key file the secret that reverses them.
PRIVATE_UMASK = 0o077


def load_settings() -> Settings:
    home = Path(os.environ.get("GRIDLINE_HOME", "var")).expanduser().resolve()
    secure_home(home)
    return Settings(
        home=home,
        timezone=city_timezone(home),
        engine=build_engine(),
        ingest_memory=ingest_memory(),
        build_memory=build_memory(),
    )


def build_engine(chosen: str | None = None) -> str:
    """The engine ``chosen`` (``gridline run --engine``), else ``GRIDLINE_ENGINE``: ``duckdb`` unless set;
    otherwise the name of a Spark output of the profile."""
    named_by = "--engine" if chosen is not None else ENGINE_ENV
    engine = (chosen if chosen is not None else os.environ.get(ENGINE_ENV, "")).strip() or DEFAULT_ENGINE
    if engine != DEFAULT_ENGINE and not engine.startswith("spark"):
        raise GridlineError(f"{named_by}={engine!r}: expected duckdb, spark or another spark* output")
    return engine


def ingest_memory() -> str:
    """``GRIDLINE_INGEST_MEMORY``: the ingest's memory ceiling, 500MB unless set."""
    return _memory_size(INGEST_MEMORY_ENV, DEFAULT_INGEST_MEMORY)


def build_memory() -> str:
    """``GRIDLINE_BUILD_MEMORY``: the build's and the audits' memory ceiling, 6GB unless set."""
    return _memory_size(BUILD_MEMORY_ENV, DEFAULT_BUILD_MEMORY)


def _memory_size(variable: str, default: str) -> str:
    size = os.environ.get(variable, "").strip() or default
    if not _MEMORY_SIZE.fullmatch(size):
        raise GridlineError(f"{variable}={size!r}: expected a size such as 500MB or 2GB")
    return size


def is_spark(settings: Settings) -> bool:
    """Whether dbt builds on Spark (any engine but DuckDB is a Spark output of the profile)."""
    return settings.engine != DEFAULT_ENGINE


def city_timezone(home: Path | None = None) -> str:
    """The city's zone: ``$GRIDLINE_TIMEZONE`` when set, else the one the home adopted from its first
    export, else Asia/Shanghai. Checked, since a typo would shift every quarter."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone, origin = os.environ.get(TIMEZONE_ENV, "").strip(), TIMEZONE_ENV
    adopted = home / TIMEZONE_FILE_NAME if home else None
    if not zone and adopted and adopted.is_file():
        zone, origin = adopted.read_text(encoding="utf-8").strip(), str(adopted)
    zone = zone or LOCAL_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise GridlineError(f"{origin}: {zone!r} is not a time zone name (e.g. America/New_York)") from None
    return zone


def adopt_timezone(settings: Settings, zone: str) -> bool:
    """Give a home that has no zone of its own the zone its first export is written in (a mapping's
    ``timestamps.timezone``): a deployment fed Boston's exports cuts Boston's quarters without being told.
    ``$GRIDLINE_TIMEZONE`` overrides it; returns whether the zone was adopted."""
    adopted = settings.home / TIMEZONE_FILE_NAME
    if os.environ.get(TIMEZONE_ENV, "").strip() or adopted.exists():
        return False
    adopted.write_text(zone + "\n", encoding="utf-8")
    return True


def secure_home(home: Path) -> None:
    """Make what this process (and the dbt and DuckDB work it starts) creates private to its owner, and
    the home itself 0700: set once per process, as every entry point loads its settings first."""
    os.umask(PRIVATE_UMASK)
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if home.stat().st_uid == os.getuid() and home.stat().st_mode & 0o077:
            home.chmod(0o700)  # a home made by an older version, or by hand
    except OSError as exc:
        raise machine_error(f"cannot prepare $GRIDLINE_HOME at {home}", exc) from None


def create_local_key(settings: Settings) -> bool:
    """Create a random key file readable only by its owner; returns False if one already exists."""
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.key_file.exists():
        return False
    fd = os.open(settings.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True


def ingest_timeout() -> timedelta:
    """How long `gridline ingest` or `gridline pull-open311` may run before it ends itself:
    INGEST_TIMEOUT unless the environment says otherwise."""
    value = os.environ.get(INGEST_TIMEOUT_ENV, "").strip()
    if not value:
        return INGEST_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 10**9:  # a positive number a timer can wait for (not nan, not inf)
        raise GridlineError(f"{INGEST_TIMEOUT_ENV}={value!r}: give the seconds an ingest may run, e.g. 3600")
    return timedelta(seconds=seconds)
