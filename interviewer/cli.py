"""CLI: the `interviewer` command (Typer); each command is a thin shell over the package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from interviewer.config import Settings, load_settings
from interviewer.errors import InterviewerError

app = typer.Typer(
    help="AI mock interviewer for deep-learning / ML interviews.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    return load_settings()


def _fail(exc: InterviewerError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code=1)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


# --- knowledge base (issue: foundation) ---------------------------------------------------------
@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (.txt/.md/.html) or folders to ingest.")],
    json_out: JsonFlag = False,
) -> None:
    """Ingest articles into the knowledge base (re-ingesting an unchanged file adds nothing)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from interviewer.ingest import FileResult, ingest_paths
    from interviewer.store import open_store

    try:
        store = open_store(_settings())
    except InterviewerError as exc:
        raise _fail(exc) from exc
    columns = (TextColumn("[bold]ingest[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    # --json keeps stdout machine-readable: the bar goes to stderr, and only when it is a terminal
    with Progress(*columns, console=err_console, disable=json_out or not err_console.is_terminal) as bar:
        task = bar.add_task("", total=None)

        def advance(done: int, total: int, result: FileResult) -> None:
            bar.update(task, completed=done, total=total, description=Path(result.source).name)

        report = ingest_paths(paths, store, progress=advance)
    if json_out:
        console.print_json(report.model_dump_json())
    else:
        table = Table("file", "status", "chunks", "Q&A items", "title")
        for row in report.files:
            if row.status != "error":
                table.add_row(Path(row.source).name, row.status, str(row.chunks), str(row.qa_items), row.title)
        console.print(table)
        console.print(f"{report.count('added')} added, {report.count('replaced')} replaced, "
                      f"{report.count('unchanged')} unchanged, {len(report.errors)} failed")
        for row in report.errors:
            err_console.print(f"[bold red]error:[/] {row.message}", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
    json_out: JsonFlag = False,
) -> None:
    """Hybrid (vector + BM25) search over the question bank and ingested articles."""
    raise typer.Exit(code=2)  # filled in by the retrieval work


# --- batch evals (issue: eval harness) ----------------------------------------------------------
def _add_eval_commands() -> None:
    """`interviewer eval DATASET ...` and `interviewer eval compare A B`: the same sub-app as
    `python -m evals`, defined once in evals/command.py."""
    from evals.command import eval_app

    app.add_typer(eval_app, name="eval")


_add_eval_commands()


# --- interview (issue: interviewer agent) ----------------------------------------------------------
sessions_app = typer.Typer(help="List, export and delete saved interview sessions.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


@app.command()
def chat(
    lang: Annotated[str, typer.Option("--lang", help="Interview language: zh or en.")] = "zh",
    topics: Annotated[
        list[str] | None, typer.Option("--topics", help="Topic slugs (repeat or comma-separate); default mixed.")
    ] = None,
    questions: Annotated[int, typer.Option("--questions", "-n", help="Number of main questions.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="practice (grade after each answer) or mock.")] = "practice",
    difficulty: Annotated[str, typer.Option("--difficulty", help="1, 2, 3 or adaptive.")] = "adaptive",
    profile: Annotated[str, typer.Option("--profile", help="Local candidate name for history.")] = "default",
    session: Annotated[str | None, typer.Option("--session", help="Resume this session id.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Run an interview in the terminal (answers from stdin, one per line, when piped)."""
    from interviewer.interview import Interview
    from interviewer.sessions import InterviewSetup, export_json
    from interviewer.terminal import TerminalChat, stdin_answers
    from interviewer.wiring import build_deps

    try:
        settings = _settings()
        chosen = [t.strip() for raw in topics or [] for t in raw.split(",") if t.strip()]
        setup = None
        if session is None:
            setup = InterviewSetup(
                profile=profile, lang=lang, topics=chosen, questions=questions, mode=mode,  # type: ignore[arg-type]
                difficulty=difficulty if difficulty == "adaptive" else int(difficulty),  # type: ignore[arg-type]
            )
        out = err_console if json_out else console
        deps, status = build_deps(settings)
        if status.problem:
            out.print(f"[yellow]The model is unavailable; grading offline with the similarity grader.[/] "
                      f"({status.problem})")
        if session is None:
            assert setup is not None
            interview, events = Interview.start(deps, setup)
        else:
            interview, events = Interview.resume(deps, session)
        out.print(f"[dim]session {interview.session_id}[/]")
        terminal = TerminalChat(interview, out, show_grades=interview.record.setup.mode == "practice")
        terminal.show(events)
        if not interview.finished and session is not None and interview.record.transcript:
            out.print(f"[bold cyan]interviewer>[/] {interview.record.transcript[-1].text}", highlight=False)
        terminal.run(stdin_answers(out))
        if not interview.finished:
            out.print(f"[dim]paused; resume with: interviewer chat --session {interview.session_id}[/]")
        if json_out:
            typer.echo(export_json(interview.record))
    except (InterviewerError, ValueError) as exc:
        raise _fail(exc if isinstance(exc, InterviewerError) else InterviewerError(str(exc))) from exc


@sessions_app.command("list")
def sessions_list(
    profile: Annotated[str | None, typer.Option("--profile", help="Only this candidate's sessions.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Saved sessions, newest first."""
    import json

    from rich.table import Table

    from interviewer.sessions import SessionStore

    store = SessionStore(_settings().ensure_data_dir() / "sessions.sqlite")
    records = store.list_records(profile)
    if json_out:
        rows = [{"id": r.id, "profile": r.setup.profile, "status": r.status, "lang": r.setup.lang,
                 "questions": len(r.questions), "overall": r.report.overall if r.report else None} for r in records]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "profile", "status", "lang", "mode", "questions", "overall")
    for r in records:
        overall = "" if r.report is None or r.report.overall is None else f"{r.report.overall}"
        table.add_row(r.id, r.setup.profile, r.status, r.setup.lang, r.setup.mode, str(len(r.questions)), overall)
    console.print(table)


@sessions_app.command("export")
def sessions_export(
    session_id: Annotated[str, typer.Argument(help="The session to export.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """The session's report as Markdown (or the whole record with --json)."""
    from interviewer.report import build_report
    from interviewer.sessions import SessionStore, export_json

    try:
        record = SessionStore(_settings().ensure_data_dir() / "sessions.sqlite").load(session_id)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    text = export_json(record) if json_out else (record.report or build_report(record)).markdown
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@sessions_app.command("delete")
def sessions_delete(session_id: Annotated[str, typer.Argument(help="The session to delete.")]) -> None:
    """Delete a session and its history entries."""
    from interviewer.sessions import SessionStore

    try:
        SessionStore(_settings().ensure_data_dir() / "sessions.sqlite").delete(session_id)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    console.print(f"deleted {session_id}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
