"""Command: the `eval` command line (`interviewer eval ...` and `python -m evals ...`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from interviewer.errors import InterviewerError

console = Console()
err_console = Console(stderr=True)


class _RunByDefault(TyperGroup):
    """`eval DATASET ...` means `eval run DATASET ...`; `eval compare A B` stays a subcommand.
    (A click group cannot take a positional argument before its subcommand name, so the group
    routes anything that is not a subcommand name to `run`.)"""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click's Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_RunByDefault,
    help="Batch evals: how closely a grader agrees with human graders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(exc: InterviewerError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code=1)


def _print_problems(problems: list[Any]) -> None:
    for problem in problems[:20]:
        err_console.print(f"[yellow]skipped line {problem.line}:[/] {problem.reason}", highlight=False)
    if len(problems) > 20:
        err_console.print(f"[yellow]... and {len(problems) - 20} more skipped lines[/]")


def _summary(metrics: dict[str, Any]) -> Table:
    baseline = metrics.get("baseline") or {}
    table = Table("metric", "grader", "baseline (grouped CV)")
    for key in ("pearson", "qwk", "spearman", "mae", "within_one", "spearman_within_question"):
        value, base = metrics.get(key), baseline.get(key)
        table.add_row(key, "–" if value is None else f"{value:.3f}", "–" if base is None else f"{base:.3f}")
    return table


@eval_app.command("run")
def run(
    dataset: Annotated[Path, typer.Argument(help="A grading dataset (.jsonl, format in DESIGN.md).")],
    grader: Annotated[str, typer.Option(help="llm, similarity, or module:factory.")] = "llm",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N rows.")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="A random sample of N rows.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for --sample.")] = 0,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Questions graded at once (up to the endpoint's parallel slots; on the embedded 2-core model 2 measured no faster than 1).")] = 1,
    out: Annotated[Path | None, typer.Option(help="Output dir; rerun with the same dir to resume.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Grade every row of DATASET and write predictions, metrics.json, report.md/.html and settings."""
    from evals.runner import RunOptions, run_eval
    from interviewer.config import load_settings

    options = RunOptions(grader=grader, limit=limit, sample=sample, seed=seed, concurrency=concurrency, out=out)
    try:
        result = run_eval(dataset, options, load_settings(), console=None if json_out else err_console)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    _print_problems(result.problems)
    if json_out:
        print(result.model_dump_json(indent=2))
    else:
        console.print(_summary(result.metrics))
        console.print(
            f"rows {result.metrics['n']}: graded now {result.graded_now}, from cache {result.cache_hits}, "
            f"resumed {result.resumed}, errors {result.errors}; wrote {result.out_dir}", highlight=False
        )
    if result.interrupted:
        err_console.print("[yellow]interrupted:[/] rerun with the same --out to continue")
        raise typer.Exit(code=130)


@eval_app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(help="Output dir of the first run.")],
    run_b: Annotated[Path, typer.Argument(help="Output dir of the second run.")],
    top: Annotated[int, typer.Option(min=1, help="How many most-disagreeing rows to show.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Two runs side by side: metrics, B - A, bootstrap-CI overlap, rows they disagree on most."""
    from evals.compare import compare_runs

    try:
        result = compare_runs(run_a, run_b, top=top)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    if json_out:
        print(json.dumps(result.model_dump(), indent=2, ensure_ascii=False))
        return
    if not result.same_dataset:
        err_console.print("[yellow]warning:[/] the runs graded different dataset files")
    table = Table("metric", "A", "B", "B - A", "CIs overlap")
    for m in result.metrics:
        digits = 0 if m.metric in ("n", "graded", "ungraded") else 3
        cells = ["–" if v is None else f"{v:.{digits}f}" for v in (m.a, m.b, m.diff)]
        table.add_row(m.metric, *cells, "" if m.ci_overlap is None else ("yes" if m.ci_overlap else "no"))
    console.print(table)
    rows = Table("id", "qid", "gold", "A", "B", "answer", title=f"most disagreement ({result.shared_rows} shared rows)")
    for r in result.disagreements:
        rows.add_row(r.id, r.qid, f"{r.gold:.2f}", f"{r.a:.2f}", f"{r.b:.2f}", r.answer[:80])
    console.print(rows)


def main() -> None:
    eval_app(prog_name="python -m evals")
