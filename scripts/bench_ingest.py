"""Benchmark of `gridline ingest` on the 12345 CSV format: events/s, MB/s, peak RSS, and a DuckDB baseline.

Generates synthetic 12345 exports of two sizes with one vectorised DuckDB query each (no Python row loop),
ingests each into a fresh ``$GRIDLINE_HOME`` in a child process (``gridline ingest``, exactly as a user
runs it), and times a plain DuckDB ``COPY (SELECT * FROM read_csv(...)) TO '...parquet'`` of the same
file, also in a child process. Peak RSS is the child's own high-water mark from ``wait4``.

    .venv/bin/python scripts/bench_ingest.py [--orders 1200000] [--small-orders 500000] [--keep DIR]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingestion.sources.twelve345 import HEADERS  # noqa: E402  (the adapter's header list is the contract)

BIN = Path(sys.executable).parent

# Small vocabularies; index expressions below pick from them with hash-derived numbers.
_LISTS = {
    "channel": ["电话", "电话", "电话", "微信", "APP", "网站", "码上反映"],
    "appeal": ["投诉", "投诉", "求助", "求助", "咨询", "建议", "举报"],
    "category": [
        "城乡建设/物业管理/物业服务",
        "城乡建设/市容环境/垃圾清运",
        "交通运输/道路管理/占道经营",
        "公共安全/噪声污染/夜间施工噪声",
        "城乡建设/供水供电/停水",
        "民政服务/养老服务/居家养老",
    ],
    "surname": list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"),
    "given": list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"),
    "district": ["朝阳区", "海淀区", "丰台区", "西城区", "东城区", "通州区"],
    "status": ["待派单", "已派单", "已签收", "办理中", "已办结", "已回访", "已关闭", "重办"],
    "satisfaction": ["满意", "满意", "基本满意", "不满意", "未评价"],
}


def _pick(name: str, salt: int) -> str:
    values = ", ".join("'" + v + "'" for v in _LISTS[name])
    return f"([{values}])[1 + h(i, {salt}) % {len(_LISTS[name])}]"


def _ts(offset_minutes: str, stage: int) -> str:
    """A local timestamp text, blank unless the order has reached ``stage``."""
    return (
        f"case when stage >= {stage} then strftime(base + to_minutes(({offset_minutes})::bigint), "
        "'%Y-%m-%d %H:%M:%S') else null end"
    )


def write_export(path: Path, orders: int, first: int = 0) -> None:
    """One 12345 export of ``orders`` rows (order numbers from ``first``), written by DuckDB to CSV."""
    names = list(HEADERS)
    select = f"""
        with base as (
            select i, (h(i, 1) % 8)::int as stage,
                   timestamp '2025-07-01' + to_seconds((h(i, 2) % (180 * 86400))::bigint) as base
            from range({first}, {first + orders}) t(i)
        )
        select
            'HX25' || lpad(i::varchar, 9, '0') as "{names[0]}",
            strftime(base, '%Y-%m-%d %H:%M:%S') as "{names[1]}",
            '1' || (3 + h(i, 3) % 7)::varchar || lpad((h(i, 4) % 1000000000)::varchar, 9, '0')
                as "{names[2]}",
            {_pick("surname", 5)} || {_pick("given", 6)} as "{names[3]}",
            {_pick("channel", 7)} as "{names[4]}",
            {_pick("appeal", 8)} as "{names[5]}",
            {_pick("category", 9)} as "{names[6]}",
            '小区' || (h(i, 10) % 500)::varchar || '号楼问题反映' as "{names[7]}",
            '市民来电反映：' || (h(i, 11) % 500)::varchar || '号楼附近长期存在问题，'
                || case when h(i, 12) % 4 = 0
                        then '请回电13' || lpad((h(i, 13) % 1000000000)::varchar, 9, '0') || '，'
                        else null end
                || '希望相关部门尽快核实处理，已多次反映未果。' as "{names[8]}",
            {_pick("district", 14)} || '某街道' || (h(i, 15) % 300)::varchar || '号' as "{names[9]}",
            {_pick("district", 14)} as "{names[10]}",
            '街道' || (h(i, 16) % 40)::varchar as "{names[11]}",
            '社区' || (h(i, 17) % 400)::varchar as "{names[12]}",
            case when h(i, 18) % 5 = 0 then '' else 'G' || lpad((h(i, 19) % 3000)::varchar, 5, '0') end
                as "{names[13]}",
            '街道办事处' || (h(i, 16) % 40)::varchar as "{names[14]}",
            [{", ".join("'" + s + "'" for s in _LISTS["status"])}][1 + least(stage, 7)] as "{names[15]}",
            {_ts("30 + h(i, 20) % 120", 1)} as "{names[16]}",
            {_ts("200 + h(i, 21) % 600", 2)} as "{names[17]}",
            {_ts("220 + h(i, 22) % 600", 3)} as "{names[18]}",
            case when h(i, 23) % 20 = 0 then {_ts("900 + h(i, 23) % 600", 3)} else null end
                as "{names[19]}",
            {_ts("2000 + h(i, 24) % 8000", 4)} as "{names[20]}",
            {_ts("12000 + h(i, 25) % 3000", 5)} as "{names[21]}",
            case when stage >= 4 then '已联系处理完毕' else null end as "{names[22]}",
            case when stage >= 5 then {_pick("satisfaction", 26)} else null end as "{names[23]}",
            case when stage = 7 then '1' else '0' end as "{names[24]}",
            strftime(base + to_minutes((16000 + h(i, 27) % 3000)::bigint), '%Y-%m-%d %H:%M:%S')
                as "{names[25]}"
        from base
    """
    con = duckdb.connect()
    # hash() is unsigned 64-bit; a signed value keeps list indexes and arithmetic simple.
    con.execute("create macro h(i, salt) as (hash(i, salt) % 1000000007)::bigint")
    con.execute(f"copy ({select}) to '{path}' (header, delimiter ',')")
    con.close()


@dataclass
class Measure:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    output: str


def _run_child(command: list[str], env: dict[str, str]) -> Measure:
    """Run one child process; its own peak RSS comes from wait4, so runs do not mix."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return Measure(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


_COPY_BASELINE = """
import sys, duckdb
con = duckdb.connect()
con.execute(f"copy (select * from read_csv('{sys.argv[1]}')) to '{sys.argv[2]}' (format parquet)")
"""


def bench(workdir: Path, orders: int) -> dict:
    export = workdir / f"hotline_{orders}.csv"
    start = time.perf_counter()
    write_export(export, orders)
    generated = time.perf_counter() - start
    size_mb = export.stat().st_size / 1e6

    home = workdir / f"home_{orders}"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": "bench-key-not-a-secret"}
    ingest = _run_child([str(BIN / "gridline"), "ingest", "--stream", "hotline", str(export)], env)
    manifest = json.loads(next((home / "log" / "batches").glob("*/manifest.json")).read_text())
    baseline = _run_child(
        [sys.executable, "-c", _COPY_BASELINE, str(export), str(workdir / "baseline.parquet")], env
    )
    again = _run_child([str(BIN / "gridline"), "ingest", "--stream", "hotline", str(export)], env)
    return {
        "orders": orders,
        "file_mb": round(size_mb, 1),
        "generate_s": round(generated, 1),
        "events": manifest["appended"],
        "ingest_s": round(ingest.seconds, 2),
        "events_per_s": round(manifest["appended"] / ingest.seconds),
        "mb_per_s": round(size_mb / ingest.seconds, 1),
        "peak_rss_mb": round(ingest.peak_rss_mb),
        "copy_s": round(baseline.seconds, 2),
        "copy_rss_mb": round(baseline.peak_rss_mb),
        "ratio": round(ingest.seconds / baseline.seconds, 2),
        # CPU seconds are steadier than wall time when other work shares the cores.
        "ingest_cpu_s": round(ingest.cpu_seconds, 2),
        "copy_cpu_s": round(baseline.cpu_seconds, 2),
        "cpu_ratio": round(ingest.cpu_seconds / baseline.cpu_seconds, 2),
        "reingest_s": round(again.seconds, 2),
        "reingest_rss_mb": round(again.peak_rss_mb),
        "reingest_output": again.output.strip().splitlines()[-1],
    }


def bench_small_files(workdir: Path, files: int, orders_per_file: int) -> dict:
    """Per-file overhead: a folder of ``files`` small daily exports against one export of the same
    orders, each into a fresh log; then the folder again, every file already committed."""
    folder = workdir / "daily"
    folder.mkdir(exist_ok=True)
    for number in range(files):
        write_export(folder / f"12345_export_{number:04d}.csv", orders_per_file, number * orders_per_file)
    single = workdir / "all_days.csv"
    write_export(single, files * orders_per_file)
    timings = {}
    for name, target in (("one_file", single), ("folder", folder)):
        home = workdir / f"home_{name}"
        shutil.rmtree(home, ignore_errors=True)
        env = {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": "bench-key-not-a-secret"}
        timings[name] = _run_child([str(BIN / "gridline"), "ingest", "--stream", "hotline", str(target)], env)
    again = _run_child([str(BIN / "gridline"), "ingest", "--stream", "hotline", str(folder)], env)
    overhead_ms = (timings["folder"].seconds - timings["one_file"].seconds) / files * 1000
    return {
        "files": files,
        "orders_per_file": orders_per_file,
        "one_file_s": round(timings["one_file"].seconds, 2),
        "folder_s": round(timings["folder"].seconds, 2),
        "per_file_overhead_ms": round(overhead_ms, 1),
        "folder_again_s": round(again.seconds, 2),
        "folder_again_output": again.output.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_200_000, help="orders in the large export")
    parser.add_argument("--small-orders", type=int, default=500_000, help="orders in the small export")
    parser.add_argument("--daily-files", type=int, default=100, help="small files in the folder (0: skip)")
    parser.add_argument("--daily-orders", type=int, default=200, help="orders in each small file")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder instead of a temporary one")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="gridline-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]  # wall figures mean little when other work shares the cores
    try:
        results = [bench(workdir, n) for n in (args.small_orders, args.orders) if n]
        small = bench_small_files(workdir, args.daily_files, args.daily_orders) if args.daily_files else None
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"gridline ingest, 12345 CSV, {os.cpu_count()} cores, "
        f"load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    )
    header = (
        f"{'orders':>10} {'file MB':>8} {'events':>10} {'ingest s':>9} {'CPU s':>6} {'events/s':>10} "
        f"{'MB/s':>6} {'peak RSS MB':>11} {'COPY s':>7} {'CPU s':>6} {'ratio':>6} {'CPU ratio':>9} "
        f"{'re-ingest s':>11}"
    )
    print(header)
    for r in results:
        print(
            f"{r['orders']:>10,} {r['file_mb']:>8} {r['events']:>10,} {r['ingest_s']:>9} "
            f"{r['ingest_cpu_s']:>6} {r['events_per_s']:>10,} {r['mb_per_s']:>6} {r['peak_rss_mb']:>11} "
            f"{r['copy_s']:>7} {r['copy_cpu_s']:>6} {r['ratio']:>6} {r['cpu_ratio']:>9} {r['reingest_s']:>11}"
        )
    for r in results:
        print(f"re-ingest of {r['orders']:,} orders: {r['reingest_output']}")
    if small:
        print(
            f"{small['files']} daily files of {small['orders_per_file']} orders: {small['folder_s']} s, "
            f"against {small['one_file_s']} s for one file of the same orders: "
            f"{small['per_file_overhead_ms']} ms per file; "
            f"the folder again (every file committed): {small['folder_again_s']} s"
        )
        print(f"  {small['folder_again_output']}")
    print(
        "targets: >= 250,000 events/s, ratio <= 4.0, per-file overhead <= 10 ms, peak RSS flat across sizes"
    )
    print(json.dumps({"exports": results, "daily_files": small}))


if __name__ == "__main__":
    main()
