"""Runner: grade a dataset's rows (cached, resumable, concurrent), then write metrics and reports."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from evals.baseline import baseline_metrics
from evals.cache import GradeCache
from evals.dataset import Dataset, EvalRow, LineProblem, load_dataset, select_rows
from evals.graders import Grader, get_grader, identity_hash
from evals.metrics import agreement, human_agreement, percentile
from evals.predictions import FILENAME, Prediction, PredictionLog, keep_finished, read_predictions
from evals.report import write_reports
from interviewer.config import Settings
from interviewer.errors import ConfigError


class RunOptions(BaseModel):
    """What the user asked for (recorded in settings.json)."""

    grader: str = Field(default="llm", description="Registered grader name or module:factory.")
    limit: int | None = Field(default=None, ge=1, description="Only the first N rows (file order).")
    sample: int | None = Field(default=None, ge=1, description="A random sample of N rows.")
    seed: int = Field(default=0, description="Seed of --sample.")
    concurrency: int = Field(default=1, ge=1, le=64, description="Rows graded at the same time.")
    out: Path | None = Field(default=None, description="Output dir; default under the data dir.")
    baseline: bool = Field(default=True, description="Compute the similarity baseline on the same rows.")


class RunResult(BaseModel):
    """Where a run wrote its files and what it found."""

    out_dir: Path
    metrics: dict[str, Any]
    problems: list[LineProblem] = Field(default_factory=list, description="Skipped dataset lines.")
    graded_now: int = Field(description="Rows graded in this run.")
    cache_hits: int = Field(description="Rows served from the grade cache in this run.")
    resumed: int = Field(description="Rows already finished in the output dir before this run.")
    errors: int = Field(description="Rows that failed in this run (retried next time).")
    interrupted: bool = Field(default=False, description="Stopped by Ctrl-C before all rows were done.")


def default_out_dir(settings: Settings, dataset: Path, grader: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", grader)
    return settings.data_dir / "evals" / "runs" / f"{dataset.stem}-{safe}-{stamp}"


def cache_path(settings: Settings) -> Path:
    return settings.data_dir / "evals" / "cache.sqlite"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _check_out_dir(out_dir: Path, dataset: Dataset, identity: dict[str, str]) -> None:
    """Refuse to mix two different runs' predictions in one output dir."""
    previous = out_dir / "settings.json"
    if not previous.exists():
        return
    try:
        old = json.loads(previous.read_text(encoding="utf-8"))
    except ValueError:
        return  # a torn settings.json from a killed run: it is rewritten below
    if old.get("dataset", {}).get("sha256") != dataset.sha256 or old.get("identity") != identity:
        raise ConfigError(
            f"{out_dir} holds a run of another dataset or grader configuration; pass a new --out "
            "(finished rows are still reused through the grade cache)"
        )


class _RateColumn(ProgressColumn):
    """Items per minute (rich has only a bytes-per-second column built in)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed * 60:.1f}/min" if task.speed else "-/min", style="progress.data.speed")


@contextmanager
def _progress(console: Console | None, total: int) -> Iterator[Any]:
    if console is None:
        yield lambda: None
        return
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("grading", total=total)
        yield lambda: progress.advance(task)


def _by_question(rows: list[EvalRow]) -> list[list[EvalRow]]:
    """Rows split into one list per question, questions in order of first appearance."""
    groups: dict[str, list[EvalRow]] = {}
    for row in rows:
        groups.setdefault(row.qid, []).append(row)
    return list(groups.values())


class _Run:
    """State of one run: where results go and what has been counted."""

    def __init__(self, rows: list[EvalRow], grader: Grader, identity: str, cache: GradeCache,
                 log: PredictionLog) -> None:
        self.rows, self.grader, self.identity, self.cache, self.log = rows, grader, identity, cache, log
        self.graded_now = self.cache_hits = self.errors = 0
        self.grading_seconds = 0.0
        self._lanes_done = 0

    def record(self, row: EvalRow, prediction: Prediction, grade: Any = None) -> None:
        # Cache first, then the predictions line: a kill between the two re-reads the cache.
        if grade is not None and prediction.done:
            self.cache.put(row.content_hash(), self.identity, grade)
        self.log.append(prediction)

    def serve_cached(self, todo: list[EvalRow], advance: Any) -> list[EvalRow]:
        remaining = []
        for row in todo:
            grade = self.cache.get(row.content_hash(), self.identity)
            if grade is None:
                remaining.append(row)
                continue
            self.record(row, Prediction.from_grade(row, grade, latency=grade.latency, cached=True))
            self.cache_hits += 1
            advance()
        return remaining

    def grade_all(self, todo: list[EvalRow], concurrency: int, advance: Any) -> None:
        """Grade with `concurrency` lanes; each lane grades whole questions, one row at a time.

        Rows of a question share the prompt's prefix, which the model server caches per slot once
        a request has processed it, and it routes a request to the slot holding the longest common
        prefix. One lane per question keeps each question on one slot: sending two rows of a new
        question together made both pay for the uncached prefix (measured on saf_en: the first
        pair of each question took ~50 s, a cached row ~5 s). Biggest questions go first so the
        lanes end close together. Results are recorded here, on the calling thread."""
        started = time.perf_counter()
        questions: queue.SimpleQueue[list[EvalRow]] = queue.SimpleQueue()
        for rows in sorted(_by_question(todo), key=len, reverse=True):
            questions.put(rows)
        results: queue.SimpleQueue[tuple[EvalRow, Prediction, Any] | None] = queue.SimpleQueue()
        stop = threading.Event()
        lanes = [threading.Thread(target=self._lane, args=(questions, results, stop), name=f"eval-{i}", daemon=True)
                 for i in range(max(1, concurrency))]
        for lane in lanes:
            lane.start()
        try:
            self._drain(results, len(lanes), advance)
        except KeyboardInterrupt:
            stop.set()  # let the rows in flight finish and keep them; start no new ones
            self._drain(results, len(lanes), advance)
            raise
        finally:
            self.grading_seconds = time.perf_counter() - started

    def _drain(self, results: queue.SimpleQueue[tuple[EvalRow, Prediction, Any] | None], lanes: int,
               advance: Any) -> None:
        """Record results until every lane has said it is done. The first call is interrupted by
        Ctrl-C part way; the second picks up the count where it stopped (`self._lanes_done`)."""
        while self._lanes_done < lanes:
            try:
                item = results.get(timeout=0.5)  # a timed wait, so Ctrl-C is seen promptly
            except queue.Empty:
                continue
            if item is None:
                self._lanes_done += 1
            else:
                self._collect(*item, advance)

    def _lane(self, questions: queue.SimpleQueue[list[EvalRow]],
              results: queue.SimpleQueue[tuple[EvalRow, Prediction, Any] | None], stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    rows = questions.get_nowait()
                except queue.Empty:
                    return
                for row in rows:
                    if stop.is_set():
                        return
                    results.put((row, *self._grade_with_grade(row)))
        finally:
            results.put(None)  # this lane is done

    def _grade_with_grade(self, row: EvalRow) -> tuple[Prediction, Any]:
        started = time.perf_counter()
        try:
            grade = self.grader.grade(row)
        except Exception as exc:  # one row's failure is recorded on that row, never fatal to the run
            return Prediction.failed(row, f"{type(exc).__name__}: {exc}", latency=time.perf_counter() - started), None
        return Prediction.from_grade(row, grade, latency=time.perf_counter() - started, cached=False), grade

    def _collect(self, row: EvalRow, prediction: Prediction, grade: Any, advance: Any) -> None:
        self.record(row, prediction, grade)
        if prediction.done:
            self.graded_now += 1
        else:
            self.errors += 1
        advance()


def compute_metrics(
    rows: list[EvalRow], predictions: list[Prediction], *, grading_seconds: float, graded_now: int,
    baseline: bool = True,
) -> dict[str, Any]:
    """metrics.json: agreement on normalised scores over the graded rows, human agreement, speed,
    tokens, and the similarity baseline on the same rows."""
    by_id = {p.id: p for p in predictions}
    graded = [(row, by_id[row.id]) for row in rows if row.id in by_id and by_id[row.id].done]
    pred = [p.predicted_norm for _, p in graded]
    gold = [row.gold for row, _ in graded]
    qids = [row.qid for row, _ in graded]
    latencies = [p.latency for _, p in graded if not p.cached]
    tokens = [p.tokens.prompt + p.tokens.completion for _, p in graded]
    metrics: dict[str, Any] = {
        "n": len(rows),
        "graded": len(graded),
        "ungraded": len(rows) - len(graded),
        "errors": sum(1 for row in rows if row.id in by_id and by_id[row.id].status == "error"),
        **agreement(pred, gold, qids),  # type: ignore[arg-type]
        "human": human_agreement([r.scores for r in rows], [r.score_max for r in rows], [r.qid for r in rows]),
        "seconds_per_item_p50": percentile(latencies, 50),
        "seconds_per_item_p95": percentile(latencies, 95),
        "items_per_minute": graded_now / grading_seconds * 60 if graded_now and grading_seconds > 0 else None,
        "tokens_per_item_mean": float(np.mean(tokens)) if tokens else None,
        "flags": _flag_counts([p for _, p in graded]),
    }
    if baseline:
        metrics["baseline"] = baseline_metrics(rows, {row.id for row, _ in graded})
    return metrics


def _flag_counts(predictions: list[Prediction]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in predictions:
        for flag in p.flags:
            counts[flag] = counts.get(flag, 0) + 1
    return dict(sorted(counts.items()))


def run_eval(
    dataset_path: Path, options: RunOptions, settings: Settings, *, console: Console | None = None
) -> RunResult:
    """Grade the selected rows of `dataset_path` and write predictions, metrics, reports and settings
    into the output dir. Safe to kill at any point and run again with the same --out."""
    dataset = load_dataset(dataset_path)
    rows = select_rows(dataset.rows, limit=options.limit, sample=options.sample, seed=options.seed)
    grader = get_grader(options.grader, settings)
    identity = grader.identity()
    out_dir = options.out or default_out_dir(settings, dataset_path, options.grader)
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_out_dir(out_dir, dataset, identity)
    run_settings = {
        "grader": options.grader, "identity": identity, "model": identity.get("model", ""),
        "prompt_version": identity.get("prompt_version", ""),
        "dataset": {"path": str(dataset_path.resolve()), "sha256": dataset.sha256,
                    "rows": len(dataset.rows), "skipped_lines": len(dataset.problems)},
        "options": options.model_dump(mode="json"), "started": datetime.now(UTC).isoformat(),
        "cache": str(cache_path(settings)),
    }
    _write_json(out_dir / "settings.json", run_settings)

    finished = keep_finished(out_dir / FILENAME)
    done_ids = {p.id for p in finished}
    todo = [row for row in rows if row.id not in done_ids]
    cache = GradeCache(cache_path(settings))
    log = PredictionLog(out_dir / FILENAME)
    run = _Run(rows, grader, identity_hash(identity), cache, log)
    interrupted = False
    try:
        with _progress(console, len(rows)) as advance:
            for _ in range(len(rows) - len(todo)):
                advance()
            remaining = run.serve_cached(todo, advance)
            run.grade_all(remaining, options.concurrency, advance)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        log.close()
        cache.close()
        closer = getattr(grader, "close", None)
        if callable(closer):
            closer()

    predictions = read_predictions(out_dir / FILENAME)
    metrics = compute_metrics(rows, predictions, grading_seconds=run.grading_seconds,
                              graded_now=run.graded_now, baseline=options.baseline)
    metrics["interrupted"] = interrupted
    _write_json(out_dir / "metrics.json", metrics)
    write_reports(out_dir, rows, predictions, metrics, run_settings)
    return RunResult(out_dir=out_dir, metrics=metrics, problems=dataset.problems, graded_now=run.graded_now,
                     cache_hits=run.cache_hits, resumed=len(rows) - len(todo), errors=run.errors,
                     interrupted=interrupted)
