"""Where gridline keeps its state and how it finds its secrets.

Everything lives under ``$GRIDLINE_HOME`` (default ``./var``). The pseudonymisation key comes from the
environment (``GRIDLINE_PII_KEY``) or from a key file that ``gridline init`` creates under the home with
owner-only permissions; it is never read from the repository.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from gridline.errors import GridlineError

KEY_FILE_NAME = "pii.key"
LOCAL_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Settings:
    home: Path
    timezone: str = LOCAL_TIMEZONE

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
        from_env = os.environ.get("GRIDLINE_PII_KEY", "").strip()
        if from_env:
            return from_env.encode()
        if self.key_file.exists():
            return self.key_file.read_text().strip().encode()
        raise GridlineError(
            "no pseudonymisation key: set GRIDLINE_PII_KEY (or run `gridline init --local-key` "
            "to create one under $GRIDLINE_HOME for a local trial)"
        )


def load_settings() -> Settings:
    home = Path(os.environ.get("GRIDLINE_HOME", "var")).expanduser().resolve()
    return Settings(home=home)


def create_local_key(settings: Settings) -> bool:
    """Create a random key file readable only by its owner; returns False if one already exists."""
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.key_file.exists():
        return False
    fd = os.open(settings.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True
