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
    raise typer.Exit(code=2)  # filled in by the ingest work


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
    json_out: JsonFlag = False,
) -> None:
    """Hybrid (vector + BM25) search over the question bank and ingested articles."""
    raise typer.Exit(code=2)  # filled in by the retrieval work


def main() -> None:
    app()


if __name__ == "__main__":
    main()
