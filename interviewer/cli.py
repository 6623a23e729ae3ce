"""CLI: the `interviewer` command (Typer); each command is a thin shell over the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

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
if TYPE_CHECKING:  # imported for real only inside the commands: start-up time matters (issue 3)
    from interviewer import ingest as ingest_module

@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (.txt/.md/.html) or folders to ingest.")],
    json_out: JsonFlag = False,
) -> None:
    """Ingest articles into the knowledge base (re-ingesting an unchanged file adds nothing)."""
    # Heavy libraries (chromadb, numpy, jieba, text splitters) are imported only when a file
    # really has to be stored: re-ingesting unchanged files is answered from the manifest
    # snapshot (interviewer/snapshot.py) by hashing the files, in well under a second.
    from interviewer.ingest import unchanged_report
    from interviewer.snapshot import stored_fingerprints

    try:
        settings = _settings()
        stored = stored_fingerprints(settings)
        report = unchanged_report(paths, stored) if stored is not None else None
        if report is None:
            report = _ingest_into_store(settings, paths, show_progress=not json_out)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    _print_ingest_report(report, json_out)
    if not report.ok:
        raise typer.Exit(code=1)


def _ingest_into_store(settings: Settings, paths: list[Path], show_progress: bool) -> ingest_module.IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from interviewer.ingest import FileResult, ingest_paths
    from interviewer.store import open_store

    # ingestion writes article chunks only; syncing the curated bank (slow on first use) is
    # left to the commands that search it
    store = open_store(settings, sync_bank=False)
    columns = (TextColumn("[bold]ingest[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    # --json keeps stdout machine-readable: the bar goes to stderr, and only when it is a terminal
    with Progress(*columns, console=err_console, disable=not show_progress or not err_console.is_terminal) as bar:
        task = bar.add_task("", total=None)

        def advance(done: int, total: int, result: FileResult) -> None:
            bar.update(task, completed=done, total=total, description=Path(result.source).name)

        report = ingest_paths(paths, store, progress=advance)
    store.save_snapshot()  # lets the next ingest of unchanged files skip all of the above
    return report


def _print_ingest_report(report: ingest_module.IngestReport, json_out: bool) -> None:
    if json_out:
        console.print_json(report.model_dump_json())
        return
    from rich.table import Table

    table = Table("file", "status", "chunks", "Q&A items", "title")
    for row in report.files:
        if row.status != "error":
            table.add_row(Path(row.source).name, row.status, str(row.chunks), str(row.qa_items), row.title)
    console.print(table)
    console.print(f"{report.count('added')} added, {report.count('replaced')} replaced, "
                  f"{report.count('unchanged')} unchanged, {len(report.errors)} failed")
    for row in report.errors:
        err_console.print(f"[bold red]error:[/] {row.message}", soft_wrap=True)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only 'questions' (bank items) or 'articles' (article chunks).")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only zh or en.")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Only this topic slug (questions).")] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid (score fusion, default), hybrid-rrf-item (reciprocal-rank fusion "
                          "per bank item), hybrid-rrf (reciprocal-rank fusion of records), vector or bm25.")
    ] = "hybrid",
    json_out: JsonFlag = False,
) -> None:
    """Hybrid (vector + BM25) search over the question bank and ingested articles."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from interviewer.store import KINDS, Mode, open_store

    if kind is not None and kind not in KINDS:
        raise _fail(InterviewerError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}"))
    modes = get_args(Mode)
    if mode not in modes:
        raise _fail(InterviewerError(f"--mode must be one of {', '.join(modes)}, not {mode!r}"))
    where = {name: value for name, value in (("lang", lang), ("topic", topic)) if value}
    # The first open embeds the question bank; show that on stderr so --json output stays clean.
    with Progress(
        TextColumn("[bold]indexing the question bank[/]"), BarColumn(), MofNCompleteColumn(),
        console=err_console, disable=json_out or not err_console.is_terminal, transient=True,
    ) as bar:
        task = bar.add_task("", total=None)
        try:
            store = open_store(_settings(), progress=lambda done, total: bar.update(task, completed=done, total=total))
            hits = store.search(
                query, k=k, kinds=(kind,) if kind else KINDS, where=where or None, mode=mode,  # type: ignore[arg-type]
            )
        except InterviewerError as exc:
            raise _fail(exc) from exc
    if json_out:
        console.print_json(data=[hit.model_dump() for hit in hits])
        return
    if not hits:
        console.print("no results (ingest articles with `interviewer ingest PATH`)")
        return
    table = Table("#", "kind", show_lines=True)
    table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=36)
    table.add_column("snippet", overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        source = hit.item_id if hit.origin == "bank" else f"{Path(hit.source).name} #{hit.position}"
        snippet = " ".join(hit.text.split())
        snippet = snippet if len(snippet) <= 120 else snippet[:119] + "…"
        table.add_row(str(rank), hit.kind, f"{source}\n[dim]{hit.lang} {hit.topic}[/]", snippet)
    console.print(table)


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


# --- model layer (issue: model layer) ------------------------------------------------------------
@app.command("serve-model")
def serve_model(
    model: Annotated[
        Path | None, typer.Option("--model", help="Any GGUF file (default: the packaged model).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port on 127.0.0.1 (default: INTERVIEWER_MODEL_PORT; 0 = free).")
    ] = None,
) -> None:
    """Run the embedded llama.cpp server in the foreground until Ctrl-C; apps on this data dir use it."""
    from interviewer import local_model

    def announce(state: local_model.ServerState) -> None:
        console.print(
            f"serving [bold]{state.model_name}[/] at {state.base_url} (pid {state.pid}, {state.slots} slots, "
            f"context {state.ctx}); Ctrl-C stops it"
        )

    try:
        local_model.serve_foreground(_settings(), model_path=model, port=port, on_ready=announce)
    except InterviewerError as exc:
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        pass
    console.print("model server stopped")


def _doctor_hints(settings: Settings, check: object) -> list[str]:
    from interviewer.llm import EndpointCheck

    assert isinstance(check, EndpointCheck)
    hints: list[str] = []
    kind = check.endpoint.kind if check.endpoint else ("embedded" if settings.uses_embedded_model else "")
    if not check.answers:
        hints.append(check.error)
    if kind == "embedded":
        hints.append(
            "using the embedded model (no OPENAI_API_KEY / OPENAI_BASE_URL set); set either to use "
            "OpenAI or another OpenAI-compatible server"
        )
        if check.answers and check.round_trip and check.round_trip > 10:
            hints.append("the embedded model is slow here; INTERVIEWER_LOCAL_MODEL=0.5b is faster (worse grading)")
    return hints


@app.command()
def doctor(json_out: JsonFlag = False) -> None:
    """Show which model endpoint is in use and whether it answers, plus embeddings, Chroma and data dir."""
    import json

    from interviewer.llm import check_endpoint

    settings = _settings()
    check = check_endpoint(settings)
    report = {
        "endpoint": check.model_dump(mode="json"),
        "embeddings": settings.embeddings
        + (f" at {settings.embeddings_url or settings.openai_base_url}" if settings.embeddings == "openai" else ""),
        "chroma": f"server at {settings.chroma_url}" if settings.chroma_url else f"embedded in {settings.chroma_dir}",
        "data_dir": str(settings.data_dir),
        "hints": _doctor_hints(settings, check),
    }
    if json_out:
        console.print_json(json.dumps(report, ensure_ascii=False))
    else:
        endpoint = check.endpoint
        rows = [
            ("endpoint", endpoint.kind if endpoint else "?"),
            ("URL", endpoint.base_url if endpoint else "?"),
            ("model", endpoint.model if endpoint else "?"),
            ("answers", "[green]yes[/]" if check.answers else "[red]no[/]"),
            ("round trip", f"{check.round_trip:.2f} s" if check.round_trip is not None else "-"),
            ("embeddings", str(report["embeddings"])),
            ("Chroma", str(report["chroma"])),
            ("data dir", str(settings.data_dir)),
        ]
        for name, value in rows:
            console.print(f"[bold]{name:>11}[/]  {value}")
        for hint in report["hints"]:
            console.print(f"[yellow]hint:[/] {hint}")
    if not check.answers:
        raise typer.Exit(code=1)


# --- web UI (issue: Gradio app) -------------------------------------------------------------------
@app.command()
def ui(
    host: Annotated[str | None, typer.Option("--host", help="Address to bind (default: INTERVIEWER_HOST).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: INTERVIEWER_PORT, 7860).")] = None,
) -> None:
    """Serve the web app in the browser (the same app as `python ui.py`)."""
    import importlib.util

    # ui.py is the repo-root shell around the package (STYLE: a thin UI file); load that same file.
    path = Path(__file__).resolve().parent.parent / "ui.py"
    spec = importlib.util.spec_from_file_location("interviewer_ui", path)
    if spec is None or spec.loader is None or not path.exists():
        raise _fail(InterviewerError(f"{path} not found: the web UI runs from a source checkout "
                                     "(pip install -e . in the repository), or run `python ui.py` there"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        module.main(host=host, port=port)
    except InterviewerError as exc:
        raise _fail(exc) from exc


# --- grader (issue 5) ----------------------------------------------------------------------------
@app.command("grade")
def grade_command(
    question: Annotated[str, typer.Option("--question", "-q", help="The interview question.")],
    answer: Annotated[str, typer.Option("--answer", "-a", help="The candidate's answer ('-' reads stdin).")],
    reference: Annotated[
        list[str] | None, typer.Option("--reference", "-r", help="A reference answer (repeatable). "
                                       "Without one, the knowledge base is searched.")
    ] = None,
    score_max: Annotated[float, typer.Option("--score-max", help="Top of the scale.")] = 10.0,
    fallback: Annotated[bool, typer.Option("--fallback/--no-fallback",
                                           help="Use the similarity grader if no model answers.")] = True,
    json_out: JsonFlag = False,
) -> None:
    """Grade one answer: score, per-key-point verdicts with evidence, feedback and flags."""
    import sys

    from rich.table import Table

    from interviewer.grader import grade, grade_json

    text = sys.stdin.read() if answer == "-" else answer
    try:
        result = grade(question, text, references=reference or None, score_max=score_max,
                       fallback=fallback, settings=_settings())
    except InterviewerError as exc:
        raise _fail(exc) from exc
    if json_out:
        console.print_json(grade_json(result))
        raise typer.Exit(code=0 if result.status == "graded" else 1)
    if result.status != "graded":
        raise _fail(InterviewerError(f"not graded: {result.error}"))
    console.print(f"[bold]score {result.score:g} / {result.score_max:g}[/]  "
                  f"(confidence {result.confidence:.2f}, {result.grader} {result.model}, {result.latency:.1f}s)")
    if result.verdicts:
        table = Table("point", "verdict", "evidence from the answer")
        colour = {"covered": "green", "partly": "yellow", "missing": "red"}
        for v in result.verdicts:
            table.add_row(v.point, f"[{colour[v.verdict]}]{v.verdict}[/]", v.evidence or "-")
        console.print(table)
    if result.feedback:
        console.print(result.feedback)
    if result.flags:
        console.print("flags: " + ", ".join(result.flags))
    if result.citations:
        console.print("sources: " + ", ".join(result.citations))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
