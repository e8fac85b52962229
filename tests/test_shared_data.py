"""Tests find the shared real data in one place; when it is absent they say in one line where they looked."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import BIN, REPO


def _collect(*tests: str, shared: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRIDLINE_SHARED": shared}
    return subprocess.run(
        [str(BIN / "pytest"), "--collect-only", "-q", "-p", "no:cacheprovider", *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_shared_folder_stops_the_tests_that_need_it_in_one_line(tmp_path):
    absent = tmp_path / "no-shared"
    proc = _collect("tests/test_privacy.py", "tests/test_batches.py", shared=str(absent))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if str(absent) in line]
    assert len(said) == 1, said
    assert re.search(rf"missing {re.escape(str(absent / 'data' / 'real'))}: \d+ selected tests read", said[0])
    assert "Traceback" not in proc.stdout + proc.stderr


def test_tests_that_do_not_read_the_real_data_run_without_it(tmp_path):
    proc = _collect("tests/test_batches.py", shared=str(tmp_path / "no-shared"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "test_batches.py::" in proc.stdout
