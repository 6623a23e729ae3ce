"""Terminal: the `interviewer chat` loop — streams the interviewer, renders grades, reads answers.

When stdin is not a terminal, each line is one answer, so a script can drive a whole interview."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from interviewer.grader import Grade
from interviewer.interview import Interview

_VERDICT_STYLE = {"covered": "green", "partly": "yellow", "missing": "red"}
_VERDICT_ZH = {"covered": "覆盖", "partly": "部分", "missing": "缺失"}


def render_grade(console: Console, grade: Grade, lang: str) -> None:
    """A grade card: score, each key point's verdict with evidence, feedback, flags."""
    if grade.score is None:
        console.print(Panel(grade.error or "ungraded", title="ungraded", border_style="red"))
        return
    score10 = 10 * grade.score / grade.score_max
    table = Table(show_header=True, header_style="bold", expand=True)
    table.add_column("要点" if lang == "zh" else "Key point", ratio=3)
    table.add_column("判定" if lang == "zh" else "Verdict", ratio=1)
    table.add_column("依据" if lang == "zh" else "Evidence", ratio=3)
    for v in grade.verdicts:
        label = _VERDICT_ZH[v.verdict] if lang == "zh" else v.verdict
        table.add_row(f"[{v.weight}] {v.point}", f"[{_VERDICT_STYLE[v.verdict]}]{label}[/]", v.evidence or "—")
    title = f"{score10:.1f}/10"
    if grade.flags:
        title += "  ⚑ " + ", ".join(grade.flags)
    console.print(Panel(table, title=title, subtitle=grade.grader, border_style="cyan"))


class TerminalChat:
    """Prints a session's events and feeds it the candidate's answers."""

    def __init__(self, interview: Interview, console: Console, *, show_grades: bool = True):
        self.interview = interview
        self.console = console
        self.show_grades = show_grades
        self.lang = interview.record.setup.lang

    def show(self, events: Iterable[dict[str, Any]]) -> None:
        streamed = False
        for event in events:
            kind = event["type"]
            if kind == "token":
                if not streamed:
                    self.console.print("[bold cyan]interviewer>[/] ", end="")
                self.console.print(event["text"], end="", highlight=False, markup=False)
                streamed = True
            elif kind == "message":
                if streamed:
                    self.console.print()
                    streamed = False
                elif event["kind"] not in ("feedback",) or not self.show_grades:
                    self.console.print(f"[bold cyan]interviewer>[/] {event['text']}", highlight=False)
                elif event["kind"] == "feedback":
                    pass  # the grade card below says it better
            elif kind == "grade" and self.show_grades:
                render_grade(self.console, Grade.model_validate(event["grade"]), self.lang)
            elif kind == "notice":
                self.console.print(f"[yellow]{event['text']}[/]")
            elif kind == "report":
                self.console.print(Markdown(event["report"]["markdown"]))

    def run(self, answers: Iterator[str]) -> None:
        """Until the interview finishes or the answers run out."""
        while not self.interview.finished:
            try:
                answer = next(answers)
            except StopIteration:
                return
            self.show(self.interview.send(answer))


def read_answers(stream: TextIO, console: Console) -> Iterator[str]:
    """Answers from a terminal (prompted) or, when piped, one per line."""
    interactive = stream.isatty()
    while True:
        if interactive:
            try:
                line = console.input("[bold green]you>[/] ")
            except EOFError:
                return
        else:
            raw = stream.readline()
            if not raw:
                return
            line = raw.rstrip("\n")
            console.print("[bold green]you>[/] ", end="")
            console.print(line, highlight=False, markup=False)
        yield line


def stdin_answers(console: Console) -> Iterator[str]:
    return read_answers(sys.stdin, console)
