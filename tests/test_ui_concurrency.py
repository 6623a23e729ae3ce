"""Several browser sessions at once through `gradio_client` against a running app: no cross-talk.

The model endpoint is a dead local port, so grading takes the offline similarity path: the test
is about the app's per-session state and the queue, not about the model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ui_process import free_port, running_app

from interviewer.sessions import SessionStore
from interviewer.webapp import LABELS

pytestmark = pytest.mark.integration

SESSIONS = 6
MAX_TURNS = 8  # 2 questions with at most 2 follow-ups each, plus slack


def _texts(chat: list[dict[str, Any]], role: str) -> list[str]:
    """Message texts of one role from a Gradio 6 Chatbot value (content is a list of parts)."""
    out = []
    for message in chat:
        if message["role"] != role:
            continue
        content = message["content"]
        parts = content if isinstance(content, list) else [{"text": content}]
        out.append("".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)))
    return out


def run_session(url: str, name: str, lang: str) -> dict[str, Any]:
    """One candidate: start a 2-question practice interview and answer until it ends."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    chat, *_ = client.predict(lang, [], "adaptive", 2, "practice", name, api_name="/start")
    turns = 0
    while LABELS[lang]["report_ready"] not in _texts(chat, "assistant"):
        turns += 1
        assert turns <= MAX_TURNS, f"{name}: the interview did not finish in {MAX_TURNS} answers"
        answer = f"[{name}] turn {turns}: regularisation reduces variance; 正则化降低方差 {name}"
        chat, *_ = client.predict(answer, lang, api_name="/send")
    client.close()
    return {"name": name, "chat": chat, "turns": turns}


def test_concurrent_sessions_keep_their_own_conversations(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with running_app(tmp_path, data_dir, OPENAI_BASE_URL=dead) as url, ThreadPoolExecutor(SESSIONS) as pool:
        names = [f"cand{i:02d}" for i in range(SESSIONS)]
        results = list(pool.map(lambda n: run_session(url, n, "zh" if int(n[-1]) % 2 else "en"), names))
    store = SessionStore(data_dir / "sessions.sqlite")
    for result in results:
        name = result["name"]
        said = _texts(result["chat"], "user")
        assert said and all(f"[{name}]" in text for text in said), f"{name} saw someone else's answers: {said}"
        records = store.list_records(profile=name)
        assert len(records) == 1, f"{name}: expected one session, got {len(records)}"
        record = records[0]
        assert record.status == "finished" and len(record.questions) == 2
        candidate = [t.text for t in record.transcript if t.role == "candidate"]
        assert candidate == said, f"{name}: the saved transcript differs from what the page showed"
        graded = [q.grade for q in record.questions if q.grade is not None]
        assert graded and all("fallback_grader" in g.flags for g in graded), "grading should be offline here"
    assert len({r.id for name in names for r in store.list_records(profile=name)}) == SESSIONS

