"""The wheel runs without a checkout: it ships the audit suites and the dbt project, and finds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO

# What the unpacked wheel must answer, run by this environment's Python with only the wheel on the path
# ahead of the installed packages (the editable checkout comes after it).
_PROBE = """
import json, sys
from pathlib import Path
import gridline, gridline.run, expectations.runner
from gridline.config import Settings
from gridline.warehouse import DBT_PROJECT_DIR, run_dbt
from ingestion.generate import reference
home = Path(sys.argv[1])
result = run_dbt(Settings(home=home), home / "parse.duckdb", ["parse"])
print(json.dumps({
    "gridline": gridline.__file__,
    "expectations": expectations.runner.__file__,
    "dbt_project": str(DBT_PROJECT_DIR),
    "demo_city_lists": (reference.CURATED / "area_aliases.csv").is_file(),
    "parse": result.returncode,
    "output": result.output[-2000:],
}))
"""


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: `make install` installs it"
    return found


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("gridline-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_the_wheel_ships_the_audit_suites_and_the_dbt_project(unpacked_wheel):
    assert (unpacked_wheel / "expectations" / "runner.py").is_file()
    assert list((unpacked_wheel / "expectations" / "suites").iterdir())
    project = unpacked_wheel / "gridline" / "dbt_project"
    assert (project / "dbt_project.yml").is_file() and (project / "profiles.yml").is_file()
    shipped = {p.relative_to(project) for p in project.rglob("*.sql")}
    in_checkout = {p.relative_to(REPO / "dbt_project") for p in (REPO / "dbt_project").rglob("*.sql")}
    assert shipped == {p for p in in_checkout if p.parts[0] not in ("target", "dbt_packages")}
    assert not (project / "target").exists()


def test_an_installed_wheel_finds_its_project_and_parses_it_away_from_the_checkout(unpacked_wheel, tmp_path):
    import json

    env = {**os.environ, "PYTHONPATH": str(unpacked_wheel), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "home")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(found["gridline"]).is_relative_to(unpacked_wheel)
    assert Path(found["expectations"]).is_relative_to(unpacked_wheel)
    assert Path(found["dbt_project"]) == unpacked_wheel / "gridline" / "dbt_project"
    assert found["demo_city_lists"]  # the generator ships its demo city's curated lists
    assert found["parse"] == 0, found["output"]
    assert not (unpacked_wheel / "gridline" / "dbt_project" / "target").exists()


def test_without_a_dbt_project_a_build_says_so_in_one_line(unpacked_wheel, tmp_path):
    """A package copied without its project (neither inside it nor beside it) fails in one clear line."""
    bare = tmp_path / "bare"
    shutil.copytree(unpacked_wheel, bare, ignore=shutil.ignore_patterns("dbt_project"))
    build = (
        "import sys; from pathlib import Path; from gridline.config import Settings; "
        "from gridline.errors import GridlineError; from gridline.warehouse import run_dbt\n"
        "try:\n    run_dbt(Settings(home=Path(sys.argv[1])), Path(sys.argv[1]) / 'x.duckdb', ['parse'])\n"
        "except GridlineError as exc:\n    print(exc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path / "home")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(bare)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines() == [
        f"no dbt project at {bare / 'gridline' / 'dbt_project'} or {bare / 'dbt_project'}: "
        "install the gridline wheel or run from a checkout"
    ]
