"""Benchmark the eval harness: wall time and agreement of a grader on the shared datasets.

Run from the repository root:
    python benchmarks/bench_eval.py                      # similarity grader: timing + accuracy table
    python benchmarks/bench_eval.py --grader llm --dataset ../shared/datasets/saf_en/sample.jsonl \
        --sample 60 --concurrency 2                      # LLM throughput on a sample
Each run uses a fresh, temporary data dir, so nothing comes from the grade cache: the time is
real grading plus metrics, reports and the grouped-CV baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
DEFAULT_SETS = [DATASETS / "saf_en" / "saf_en.jsonl", DATASETS / "saf_en" / "sample.jsonl",
                DATASETS / "le_zh" / "le_zh.jsonl"]


def _run(dataset: Path, grader: str, sample: int | None, concurrency: int) -> None:
    from evals.runner import RunOptions, run_eval
    from interviewer.config import load_settings

    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=Path(data_dir))
        started = time.perf_counter()
        result = run_eval(dataset, RunOptions(grader=grader, sample=sample, concurrency=concurrency), settings)
        seconds = time.perf_counter() - started
    m, b = result.metrics, result.metrics["baseline"]
    command = f"interviewer eval {os.path.relpath(dataset, REPO)} --grader {grader}"
    if sample:
        command += f" --sample {sample}"
    if concurrency > 1:
        command += f" --concurrency {concurrency}"

    def fmt(value: object) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(f"{v:.2f}" for v in value) + "]"
        return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)

    print(f"| {dataset.parent.name}/{dataset.name} | {grader} | {m['n']} | {fmt(m['pearson'])} "
          f"{fmt(m['pearson_ci95'])} | {fmt(m['qwk'])} | {fmt(m['mae'])} | {fmt(m['within_one'])} | "
          f"{fmt(b['pearson'])} | {fmt(b['qwk'])} | {seconds:.1f} s | {fmt(m['items_per_minute'])} | `{command}` |")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grader", default="similarity")
    parser.add_argument("--dataset", type=Path, action="append", help="default: saf_en full, its sample, le_zh")
    parser.add_argument("--sample", type=int)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print("| dataset | grader | n | pearson [95% CI] | qwk | mae | within_one | baseline pearson "
          "(grouped CV) | baseline qwk | wall time | items/min (grading only) | command |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dataset in args.dataset or DEFAULT_SETS:
        _run(dataset.resolve(), args.grader, args.sample, args.concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
