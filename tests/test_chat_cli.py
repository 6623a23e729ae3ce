"""`interviewer chat` driven through stdin, with no model reachable (the offline grader takes over)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer.cli import app
from interviewer.sessions import SessionStore


@pytest.fixture
def dead_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint nobody listens on: the chat must still run, grading offline."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("INTERVIEWER_MODEL", "nothing")
    monkeypatch.setenv("INTERVIEWER_MAX_RETRIES", "0")
    monkeypatch.setenv("INTERVIEWER_REQUEST_TIMEOUT", "2")


def test_scripted_chat_runs_to_the_report_and_saves_the_session(dead_endpoint: None, isolated_env: Path) -> None:
    answers = "\n".join(["Dropout zeroes random units during training.", "skip", "跳过", "I don't know"] * 3)
    result = CliRunner().invoke(app, ["chat", "--lang", "en", "-n", "2", "--json"], input=answers + "\n")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout[result.stdout.index("{"):])
    assert record["status"] == "finished"
    assert len(record["questions"]) == 2
    first = record["questions"][0]
    assert first["answer"] == "Dropout zeroes random units during training."
    assert "fallback_grader" in first["grade"]["flags"], "the unreachable model is replaced by the offline grader"
    assert record["report"]["markdown"].startswith("# Interview report")
    stored = SessionStore(isolated_env / "sessions.sqlite").load(record["id"])
    assert stored.status == "finished"


def test_chat_pauses_when_answers_run_out_and_resumes(dead_endpoint: None, isolated_env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["chat", "--lang", "zh", "-n", "2"], input="跳过\n")
    assert first.exit_code == 0, first.output
    assert "interviewer chat --session" in first.output
    session_id = first.output.split("--session ")[1].split()[0]
    second = runner.invoke(app, ["chat", "--session", session_id, "--json"], input="结束面试\n")
    assert second.exit_code == 0, second.output
    record = json.loads(second.stdout[second.stdout.index("{"):])
    assert record["id"] == session_id and record["status"] == "finished"
    texts = [t["text"] for t in record["transcript"] if t["role"] == "candidate"]
    assert texts == ["跳过", "结束面试"]


def test_sessions_commands(dead_endpoint: None, isolated_env: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["chat", "--lang", "en", "-n", "1"], input="skip\n")
    listed = json.loads(runner.invoke(app, ["sessions", "list", "--json"]).stdout)
    assert len(listed) == 1 and listed[0]["status"] == "finished"
    session_id = listed[0]["id"]
    exported = runner.invoke(app, ["sessions", "export", session_id])
    assert "# Interview report" in exported.stdout
    assert runner.invoke(app, ["sessions", "delete", session_id]).exit_code == 0
    missing = runner.invoke(app, ["sessions", "export", session_id])
    assert missing.exit_code == 1 and "no session" in missing.output
