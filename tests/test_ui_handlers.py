"""The web UI's handlers (interviewer/webapp.py) called directly, with the scripted grader and fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from interview_fakes import ScriptedGrader, make_deps

from interviewer.config import load_settings
from interviewer.grader import Grade
from interviewer.ingest import Chunk
from interviewer.llm import Endpoint, EndpointCheck
from interviewer.webapp import LABELS, MAX_ANSWER_CHARS, ChatView, SetupForm, WebApp, grade_card, labels
from interviewer.wiring import ModelStatus

DOWN = EndpointCheck(
    endpoint=Endpoint(kind="compatible", base_url="http://127.0.0.1:9/v1", model="m"),
    answers=False, error="cannot connect to http://127.0.0.1:9/v1: connection refused",
)
UP = EndpointCheck(endpoint=Endpoint(kind="embedded", base_url="http://127.0.0.1:5000/v1", model="qwen"),
                   answers=True, round_trip=0.4)


class FakeStore:
    """What ingest and search need from the knowledge store, in memory."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, list[Chunk], list[Any]]] = {}

    def source_fingerprint(self, source: str) -> str | None:
        return self.sources[source][0] if source in self.sources else None

    def replace_source(self, source: str, fingerprint: str, chunks: list[Chunk], items: list[Any]) -> None:
        self.sources[source] = (fingerprint, chunks, items)

    def search(self, query: str, k: int = 5) -> list[Any]:
        from interviewer.store import Hit

        return [Hit(id=c.id, kind="articles", text=c.text, score=1.0, source=c.source, title=c.title)
                for _, chunks, _ in self.sources.values() for c in chunks if query in c.text][:k]


def make_app(data_dir: Path, grader: Any = None, check: EndpointCheck = UP, model: object = None) -> WebApp:
    deps = make_deps(data_dir, grader or ScriptedGrader())
    store = FakeStore()
    return WebApp(load_settings(data_dir=data_dir), deps, ModelStatus(model, None if model else "no model"),  # type: ignore[arg-type]
                  checker=lambda: check, store_opener=lambda: store)


def last(views: Any) -> ChatView:
    result = list(views)
    assert result, "a handler must yield at least one view"
    return result[-1]


def start(app: WebApp, **setup: Any) -> ChatView:
    form = SetupForm(**{"lang": "en", "questions": 2, "mode": "practice", "difficulty": "adaptive", **setup})
    return last(app.start(form))


@pytest.fixture
def app(isolated_env: Path) -> WebApp:
    return make_app(isolated_env)


def test_start_asks_the_first_question(app: WebApp) -> None:
    view = start(app)
    assert view.session_id
    assert view.messages[-1]["role"] == "assistant"
    assert "Question 1/2" in view.messages[-1]["content"]
    assert app.deps.sessions.load(view.session_id).questions[0].question in view.messages[-1]["content"]


def test_answer_streams_then_shows_grade_card_with_reference(app: WebApp) -> None:
    session = start(app).session_id
    views = list(app.send(session, "alpha and beta and gamma", "en"))
    assert views[0].accepted and views[0].messages[-1] == {"role": "user", "content": "alpha and beta and gamma"}
    assert len(views) >= 3, "the turn should stream (answer echoed, then grade/messages, then final)"
    final = views[-1]
    assert "Score 10.0/10" in final.card
    assert final.card.count("✓ covered") == 3
    record = app.deps.sessions.load(session)  # type: ignore[arg-type]
    assert record.questions[0].reference in final.reference
    assert f"Source: bank:{record.questions[0].item_id}" in final.reference
    assert [m["content"] for m in final.messages if m["role"] == "user"] == ["alpha and beta and gamma"]
    # the chat is exactly the saved transcript
    assert len(final.messages) == len(record.transcript)


def test_weak_answer_gets_a_follow_up_and_a_card_with_missing_points(app: WebApp) -> None:
    session = start(app).session_id
    final = last(app.send(session, "only alpha here", "en"))
    assert "✗ missing" in final.card and "✓ covered" in final.card
    assert final.messages[-1]["content"].startswith("A follow-up:")


def test_hint_skip_and_end_buttons_send_the_session_language_words(isolated_env: Path) -> None:
    app = make_app(isolated_env)
    session = start(app, lang="zh").session_id
    hinted = last(app.act(session, "hint", "zh"))
    assert hinted.messages[-2] == {"role": "user", "content": "提示"}
    assert hinted.messages[-1]["content"].startswith("提示（会扣")
    skipped = last(app.act(session, "skip", "zh"))
    assert "跳过" in skipped.messages[-3]["content"] or "跳过" in skipped.messages[-4]["content"]
    assert any("参考答案" in m["content"] for m in skipped.messages)
    assert "第 2/2 题" in skipped.messages[-1]["content"]
    ended = last(app.act(session, "end", "zh"))
    assert ended.finished
    assert ended.messages[-1]["content"] == LABELS["zh"]["report_ready"]


def test_report_view_has_chart_rows_and_an_exportable_markdown_file(app: WebApp) -> None:
    session = start(app).session_id
    for answer in ("alpha beta gamma", "alpha beta gamma alpha"):
        last(app.send(session, answer, "en"))
        record = app.deps.sessions.load(session)  # type: ignore[arg-type]
        if record.status == "finished":
            break
    while app.deps.sessions.load(session).status != "finished":  # type: ignore[arg-type]
        last(app.send(session, "alpha beta gamma", "en"))
    view = app.report(session, "en")
    assert view.markdown.startswith("# Interview report")
    assert [row["score"] for row in view.per_question] == [10.0, 10.0]
    assert view.per_topic and all(0 <= row["score"] <= 10 for row in view.per_topic)
    exported = Path(view.export_path)  # type: ignore[arg-type]
    assert exported.read_text(encoding="utf-8") == app.deps.sessions.load(session).report.markdown  # type: ignore[arg-type, union-attr]


def test_report_of_an_unfinished_session_is_marked_interim(app: WebApp) -> None:
    session = start(app).session_id
    view = app.report(session, "en")
    assert LABELS["en"]["interim"] in view.markdown
    assert app.report(None, "en").markdown == LABELS["en"]["no_report"]


def test_history_lists_sessions_and_resume_continues_after_an_app_restart(isolated_env: Path) -> None:
    first = make_app(isolated_env)
    session = start(first, profile="ana").session_id
    last(first.send(session, "alpha beta gamma", "en"))  # strong: a deeper follow-up comes
    last(first.send(session, "alpha beta gamma", "en"))  # then question 1 is scored
    history = first.history("ana", "en")
    assert [row["id"] for row in history.sessions] == [session]
    assert history.unfinished == [session]
    assert history.progress and history.progress[0]["score"] == 10.0
    assert first.history("nobody", "en").note == LABELS["en"]["no_history"]

    restarted = make_app(isolated_env)  # a new process: nothing in memory
    resumed = last(restarted.resume(session, "en"))
    assert resumed.messages == first._view(session).messages  # type: ignore[arg-type]
    after = last(restarted.send(session, "alpha beta", "en"))
    assert after.messages[-len(resumed.messages) - 1:][0]["role"] in ("user", "assistant")
    assert {"role": "user", "content": "alpha beta"} in after.messages


def test_practise_weak_topics_starts_a_session_on_them(isolated_env: Path) -> None:
    app = make_app(isolated_env)
    session = start(app, profile="bo").session_id
    last(app.act(session, "skip", "en"))  # scores 0 on the first question's topic
    weak_topic = app.deps.sessions.load(session).questions[0].topic  # type: ignore[arg-type]
    weakest = app.history("bo", "en").weakest
    assert weakest[0]["slug"] == weak_topic and weakest[0]["mean"] == 0.0
    view = last(app.practise_weak(SetupForm(lang="en", profile="bo", questions=1)))
    record = app.deps.sessions.load(view.session_id)  # type: ignore[arg-type]
    assert set(record.setup.topics) == {w["slug"] for w in weakest}
    assert last(app.practise_weak(SetupForm(lang="en", profile="new"))).notice == LABELS["en"]["no_weak"]


def test_two_browser_sessions_do_not_cross_talk(app: WebApp) -> None:
    a = start(app, profile="a").session_id
    b = start(app, profile="b").session_id
    assert a != b
    last(app.send(a, "alpha from A", "en"))
    last(app.send(b, "beta from B", "en"))
    last(app.send(a, "gamma from A", "en"))
    said = {
        sid: [t.text for t in app.deps.sessions.load(sid).transcript if t.role == "candidate"]  # type: ignore[arg-type]
        for sid in (a, b)
    }
    assert said[a] == ["alpha from A", "gamma from A"]
    assert said[b] == ["beta from B"]
    assert app.interviews[a] is not app.interviews[b]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "key"),
    [("", "empty_answer"), ("   \n ", "empty_answer"), ("x" * (MAX_ANSWER_CHARS + 1), "too_long")],
)
def test_bad_answers_are_refused_with_a_message_and_nothing_is_lost(app: WebApp, text: str, key: str) -> None:
    view = start(app)
    before = app.deps.sessions.load(view.session_id).transcript  # type: ignore[arg-type]
    refused = last(app.send(view.session_id, text, "en"))
    assert not refused.accepted  # the text stays in the answer box
    assert refused.notice.split("(")[0] == LABELS["en"][key].split("(")[0]
    assert refused.messages == view.messages
    assert app.deps.sessions.load(view.session_id).transcript == before  # type: ignore[arg-type]


def test_sending_without_a_session_or_after_the_end_explains_what_to_do(app: WebApp) -> None:
    assert last(app.send(None, "hello", "en")).notice == LABELS["en"]["no_session"]
    assert last(app.send("no-such-session", "hello", "zh")).notice == LABELS["zh"]["no_session"]
    session = start(app).session_id
    last(app.act(session, "end", "en"))
    after = last(app.send(session, "one more", "en"))
    assert after.notice == LABELS["en"]["finished"] and after.finished


def test_bad_setup_is_reported_and_keeps_no_session(app: WebApp) -> None:
    view = last(app.start(SetupForm(lang="en", questions=0)))
    assert view.session_id is None
    assert view.notice.startswith("Invalid setup: questions")


def test_a_second_message_while_one_is_processing_is_refused(app: WebApp) -> None:
    session = start(app).session_id
    assert app._claim(session)  # type: ignore[arg-type]  # a turn in progress
    view = last(app.send(session, "alpha", "en"))
    assert view.notice == LABELS["en"]["busy"] and not view.accepted
    app._release(session)  # type: ignore[arg-type]
    assert last(app.send(session, "alpha", "en")).accepted


class FailsOnce(ScriptedGrader):
    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def __call__(self, view, answer, points):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise RuntimeError("grader crashed")
        return super().__call__(view, answer, points)


def test_a_failed_turn_keeps_the_answer_and_retry_finishes_it(isolated_env: Path) -> None:
    app = make_app(isolated_env, grader=FailsOnce())
    session = start(app).session_id
    failed = last(app.send(session, "alpha beta gamma", "en"))
    assert "grader crashed" in failed.notice and "Retry" in failed.notice
    assert {"role": "user", "content": "alpha beta gamma"} in failed.messages  # saved, shown
    retried = last(app.retry(session, "en"))
    assert "Score 10.0/10" in retried.card
    assert retried.messages[-1]["content"].startswith("Good answer. Let's go one level deeper")


def test_mock_mode_shows_no_grade_card_until_the_end(app: WebApp) -> None:
    session = start(app, mode="mock").session_id
    view = last(app.send(session, "alpha", "en"))
    assert view.card == ""
    assert not any(m["content"].startswith("Score") for m in view.messages)


def test_upload_summary_per_file(app: WebApp, tmp_path: Path) -> None:
    article = tmp_path / "dropout-notes.md"
    article.write_text(
        "# Dropout 面试题\n\n## 1. 为什么 Dropout 能缓解过拟合？\n\n"
        "Dropout 在训练时随机让一部分神经元失活，相当于训练许多共享参数的子网络并做平均，"
        "减少神经元之间的共适应，因此能缓解过拟合。测试时不丢弃，而是按保留概率缩放。\n",
        encoding="utf-8",
    )
    binary = tmp_path / "image.md"
    binary.write_bytes(bytes(range(256)) * 4)
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    seen: list[tuple[int, int, str]] = []
    summary = app.ingest([str(article), str(binary), str(pdf)], "en", progress=lambda *a: seen.append(a))
    rows = {row["file"]: row for row in summary.rows}
    assert rows["dropout-notes.md"]["status"] == "added"
    assert rows["dropout-notes.md"]["chunks"] >= 1 and rows["dropout-notes.md"]["qa"] == 1
    assert rows["image.md"]["status"] == "error" and "binary" in rows["image.md"]["error"]
    assert rows["paper.pdf"]["status"] == "error" and ".pdf" in rows["paper.pdf"]["error"]
    assert summary.message == "1 added, 0 replaced, 0 unchanged, 2 failed."
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]
    kept = app.settings.data_dir / "uploads" / "dropout-notes.md"
    assert kept.read_bytes() == article.read_bytes()  # the upload is kept in the data dir
    again = app.ingest([str(article)], "en")
    assert again.rows[0]["status"] == "unchanged"
    assert app.search("共适应")[0]["source"] == str(kept)
    assert app.ingest([], "zh").message == LABELS["zh"]["no_files"]


def test_status_banner_says_what_to_do_when_the_model_does_not_answer(isolated_env: Path) -> None:
    down = make_app(isolated_env, check=DOWN)
    view = down.status_view("en")
    assert not view.answers
    assert "http://127.0.0.1:9/v1" in view.line and "not answering" in view.line
    assert "connection refused" in view.banner and "offline" in view.banner and "OPENAI_BASE_URL" in view.banner
    up = make_app(isolated_env, check=UP, model=object())
    assert up.status_view("zh").banner == "" and "模型在线" in up.status_view("zh").line
    started_without_model = make_app(isolated_env, check=UP, model=None)
    assert "重启" in started_without_model.status_view("zh").banner


def test_browse_bank_filters_by_topic_and_text(app: WebApp) -> None:
    rows = app.browse_bank("cnn", "", "en")
    assert rows and {r["id"].split("-")[1] for r in rows} == {"cnn"}
    assert [r["id"] for r in app.browse_bank(None, "question 3", "en")] == [
        "q-dropout-3", "q-cnn-3", "q-optimizers-3"]
    assert app.browse_bank(None, "问题 3", "en") == app.browse_bank(None, "question 3", "en")


def test_labels_exist_in_both_languages() -> None:
    assert LABELS["zh"].keys() == LABELS["en"].keys()
    assert labels("fr") == LABELS["en"]


def test_grade_card_of_an_ungraded_answer_says_why() -> None:
    card = grade_card(Grade(status="ungraded", error="model unreachable"), "en", "Question 1")
    assert "Could not grade: model unreachable" in card


def test_table_headers_follow_the_interface_language() -> None:
    from interviewer.webapp import column_names

    assert column_names(["file", "chunks", "qa"], "zh") == ["文件", "片段", "问答"]
    assert column_names(["file", "chunks", "qa"], "en") == ["file", "chunks", "Q&A"]
