"""The exceptions users and the machine can cause; the command line turns them into a single clear line."""

from __future__ import annotations

import errno


class GridlineError(Exception):
    """Bad input or configuration: reported to the user without a traceback."""


class MachineError(GridlineError):
    """The machine failed (a full disk, a folder that cannot be made): one line for the user like bad
    input, but a scheduler retries it, since the machine may recover where bad input never will."""


def machine_error(failed: str, exc: BaseException) -> MachineError:
    """``failed`` ("ingest failed, nothing was committed") with the reason read off an OS or DuckDB error."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in str(exc):
        reason = "no space left on the device"
    else:
        lines = str(exc).strip().splitlines()
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else None) or (
            lines[0] if lines else type(exc).__name__
        )
    return MachineError(f"{failed}: {reason}")
