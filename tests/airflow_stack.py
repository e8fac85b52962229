"""The production topology, natively: PostgreSQL 15 and the Airflow 3 components as child processes.

The same services docker-compose.yml starts (metadata DB, db migrate + pool, api-server, scheduler,
dag-processor; LocalExecutor) run here on 127.0.0.1 on free ports, each in its own process group so the
fixture can stop exactly what it started. PostgreSQL refuses to run as root, so when the tests run as
root the cluster runs as the ``postgres`` system user in a folder it owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, TEST_KEY

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run ``cmd`` as the postgres system user when we are root; PostgreSQL will not run as root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``; task runners start their own sessions, so a group kill misses them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 15) -> None:
    """Stop a component and everything it started: its process group, then any stragglers by pid."""
    if proc.poll() is not None:
        return
    below = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, sig)
        proc.wait(wait)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster; ``url`` is the SQLAlchemy URL of its ``airflow`` database."""

    root: Path
    port: int
    password: str
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://airflow:{self.password}@127.0.0.1:{self.port}/airflow"

    def start(self) -> None:
        data = self.root / "data"
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(data), "-U", "airflow", "--pwfile", str(pwfile)]
                + ["-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale", "C"]
            ),
            check=True,
            capture_output=True,
            cwd=self.root,
        )
        with open(self.root / "postgres.log", "w") as log:
            self.proc = subprocess.Popen(
                _as_postgres(
                    [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.root)]
                    + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
            )
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                con = psycopg2.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="airflow",
                    password=self.password,
                    dbname="postgres",
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError((self.root / "postgres.log").read_text()[-2000:]) from None
                time.sleep(0.3)
        con.autocommit = True
        con.cursor().execute("create database airflow")
        con.close()

    def stop(self) -> None:
        if self.proc:
            # SIGINT is PostgreSQL's fast shutdown: roll back sessions, checkpoint, exit.
            _stop_group(self.proc, signal.SIGINT)


@dataclass
class AirflowStack:
    """Airflow 3 on the PostgreSQL metadata DB: api-server, scheduler and dag-processor, LocalExecutor."""

    root: Path
    env: dict[str, str]
    api_port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    home: Path | None = None
    _token: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
            )
        return proc

    def start_component(self, name: str, *args: str) -> None:
        with open(self.root / f"{name}.log", "w") as log:
            self.procs[name] = subprocess.Popen(
                [str(BIN / "airflow"), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True) -> dict:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code} {exc.read().decode()[:1000]}") from None
        return json.loads(text) if text else {}

    def token(self) -> str:
        # With simple_auth_manager_all_admins the token endpoint hands out an admin token without
        # credentials; the compose deployment uses named users instead.
        if self._token is None:
            self._token = self.request("GET", "/auth/token", auth=False)["access_token"]
        return self._token

    def wait_until(self, what: str, check, timeout: float, every: float = 1.0):
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise AssertionError(
                        f"airflow {name} exited while waiting for {what}:\n{self.log_tail(name)}"
                    )
            try:
                result = check()
            except (OSError, AssertionError, ValueError):
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{self.log_tail(n, 1500)}" for n in self.procs)
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")
            time.sleep(every)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> dict:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id, safe='')}"

        def finished():
            run = self.request("GET", path)
            return run if run["state"] in ("success", "failed") else None

        return self.wait_until(f"{dag_id} run {run_id}", finished, timeout)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            _stop_group(proc)


def start_stack(root: Path, gridline_env: dict[str, str]) -> tuple[Postgres, AirflowStack]:
    """Start PostgreSQL, migrate the metadata DB, create the writer pool, then the Airflow components."""
    # Beside, not inside, pytest's temporary folders, which are private to root: the cluster runs as the
    # postgres user. Removed again when the stack stops.
    pg_root = Path(tempfile.mkdtemp(prefix="gridline-pg-"))
    postgres = Postgres(root=pg_root, port=free_port(), password=secrets.token_hex(12))
    postgres.start()
    api_port = free_port()
    airflow_home = root / "airflow"
    airflow_home.mkdir(parents=True)
    env = {
        **os.environ,
        **gridline_env,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
    }
    stack = AirflowStack(root=root, env=env, api_port=api_port)
    try:
        stack.airflow("db", "migrate")
        stack.airflow("pools", "set", "gridline_duckdb_writer", "1", "DuckDB allows one writer per file")
        stack.start_component("api-server", "api-server", "--port", str(api_port), "--host", "127.0.0.1")
        stack.start_component("dag-processor", "dag-processor")
        stack.start_component("scheduler", "scheduler")
        stack.wait_until(
            "the api-server", lambda: stack.request("GET", "/api/v2/monitor/health", auth=False), 90
        )
    except BaseException:
        stack.stop()
        postgres.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
        raise
    return postgres, stack


BACKFILL_DAYS = ("2025-09-30", "2025-10-01", "2025-10-02")


def three_day_landing(tiny_landing: Path, out: Path) -> Path:
    """Three consecutive landing days: the Q3 export, the Q4 export, and the Q4 export delivered again."""
    sources = sorted((tiny_landing / "hotline").iterdir())
    for day, source in zip(BACKFILL_DAYS, [sources[0], sources[-1], sources[-1]], strict=True):
        shutil.copytree(source, out / "hotline" / day)
    return out


def log_event_ids(home: Path) -> list[str]:
    """Every event id in the log under ``home``, sorted: equal logs have equal lists."""
    import duckdb

    from ingestion.log import EventLog

    glob = EventLog(home / "log").events_glob()
    return [r[0] for r in duckdb.sql(f"select event_id from read_parquet('{glob}') order by 1").fetchall()]


def _on_stack(item: pytest.Item | None) -> bool:
    return item is not None and "airflow_stack" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """The tests on the running stack go first, one after the other: the stack is then up only while they
    run (``pytest_runtest_teardown`` stops it after the last), and under pytest-xdist one worker (their
    ``xdist_group``, with the Makefile's ``--dist loadgroup``) starts it once and early."""
    on_stack = [item for item in items if _on_stack(item)]
    for item in on_stack:
        item.add_marker(pytest.mark.xdist_group("airflow_stack"))  # one worker (`--dist loadgroup`)
    items[:] = on_stack + [item for item in items if not _on_stack(item)]


_running: list[Callable[[], None]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    if _on_stack(item) and not _on_stack(nextitem):
        while _running:
            _running.pop()()


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory, tiny_landing):
    """PostgreSQL + Airflow components with LocalExecutor, shared by the tests that need a scheduler and
    stopped after the last of them (the collection runs them one after the other)."""
    if not (PG_BIN / "postgres").exists():
        pytest.fail("PostgreSQL 15 is missing: run `make system-deps` (apt-get install postgresql)")
    root = tmp_path_factory.mktemp("stack")
    landing = three_day_landing(tiny_landing, root / "landing")
    home = root / "home"
    postgres, stack = start_stack(
        root,
        {"GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": TEST_KEY, "GRIDLINE_LANDING": str(landing)},
    )
    stack.home = home

    def stop() -> None:
        stack.stop()
        postgres.stop()
        shutil.rmtree(postgres.root, ignore_errors=True)

    _running.append(stop)
    try:
        for dag_id in ("gridline_ingest_hotline", "gridline_transform"):
            stack.wait_until(
                f"{dag_id} parsed", lambda d=dag_id: stack.request("GET", f"/api/v2/dags/{d}"), 90
            )
            stack.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        yield stack
    finally:
        stop()  # stopping twice is harmless: a stopped component is skipped
        if stop in _running:
            _running.remove(stop)
