"""Session store: save/load/list/delete, per-topic history, grade cache, export; report arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
from interview_fakes import ScriptedGrader, make_deps, make_items

from interviewer.errors import SessionError
from interviewer.grader import Grade, PointVerdict
from interviewer.interview import Interview
from interviewer.report import build_report, final_score
from interviewer.sessions import (
    FollowUp,
    InterviewSetup,
    QuestionResult,
    SessionRecord,
    SessionStore,
    export_json,
)


def _result(**overrides: object) -> QuestionResult:
    view = make_items()[0].view("en")
    data: dict = {
        "index": 0, "item_id": view.id, "topic": view.topic, "difficulty": view.difficulty, "lang": "en",
        "question": view.question, "reference": view.reference, "source": view.source,
        "key_points": view.key_points,
    } | overrides
    return QuestionResult(**data)


def _grade(score: float, verdicts: dict[str, str]) -> Grade:
    return Grade(status="graded", score=score, score_max=10, verdicts=[
        PointVerdict(point_id=k, point=text, weight=w, verdict=verdicts[k])  # type: ignore[arg-type]
        for k, text, w in (("k1", "alpha", 3), ("k2", "beta", 2), ("k3", "gamma", 1)) if k in verdicts
    ])


def test_save_load_list_delete(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite")
    a = SessionRecord(id="a", setup=InterviewSetup(profile="ann"))
    b = SessionRecord(id="b", setup=InterviewSetup(profile="bob"))
    store.save(a)
    store.save(b)
    assert store.load("a").setup.profile == "ann"
    assert [r.id for r in store.list_records("ann")] == ["a"]
    assert {r.id for r in store.list_records()} == {"a", "b"}
    store.delete("a")
    assert not store.exists("a")
    with pytest.raises(SessionError, match="no session"):
        store.load("a")
    with pytest.raises(SessionError):
        store.delete("a")


def test_topic_history_and_means(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite")
    record = SessionRecord(id="s1", setup=InterviewSetup(profile="ann"))
    store.record_score(record, _result(score=4.0))
    store.record_score(record, _result(item_id="other", score=8.0))
    store.record_score(record, _result(item_id="unscored", score=None))
    mean, count = store.topic_means("ann")["dropout"]
    assert (mean, count) == (6.0, 2)
    assert [s for _, s in store.topic_history("ann")["dropout"]] == [4.0, 8.0]
    assert store.topic_means("bob") == {}


def test_grade_cache_round_trip(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite")
    grade = _grade(7.0, {"k1": "covered"})
    store.cache_grade("key", grade)
    assert store.cached_grade("key") == grade
    assert store.cached_grade("other") is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"skipped": True}, 0.0),
        ({"grade": None}, None),
        ({"grade": Grade(status="ungraded", error="x")}, None),
        ({"grade": _grade(5.0, {"k1": "missing", "k2": "covered", "k3": "covered"})}, 5.0),
        ({"grade": _grade(5.0, {"k1": "missing"}), "hints": 2}, 2.0),
        ({"grade": _grade(9.0, {"k1": "covered"}), "hints": 9}, 0.0),
        (
            {
                "grade": _grade(5.0, {"k1": "missing"}),
                "follow_ups": [FollowUp(point_id="k1", question="?", answer="a", grade=_grade(10.0, {"k1": "covered"}))],
            },
            7.5,  # 5 + half of alpha's 5-point share
        ),
    ],
)
def test_final_score(overrides: dict, expected: float | None) -> None:
    assert final_score(_result(**overrides)) == expected


def test_report_lists_gaps_by_importance_with_sources(tmp_path: Path) -> None:
    record = SessionRecord(id="r", setup=InterviewSetup(lang="en"))
    record.questions = [
        _result(grade=_grade(3.0, {"k1": "missing", "k2": "partly", "k3": "covered"}), score=3.0),
        _result(index=1, item_id="x", topic="cnn", skipped=True, score=0.0),
    ]
    report = build_report(record)
    assert report.overall == 1.5
    assert [g["point"] for g in report.gaps][:2] == ["alpha", "alpha"]
    assert all(g["source"] and g["reference"] for g in report.gaps)
    assert {t.topic for t in report.per_topic} == {"dropout", "cnn"}
    assert report.strengths == ["gamma"]
    assert "| 2 | cnn |" in report.markdown and "skipped" in report.markdown


def test_finished_session_exports_and_feeds_history(isolated_env: Path) -> None:
    deps = make_deps(isolated_env, ScriptedGrader())
    interview, events = Interview.start(deps, InterviewSetup(lang="zh", questions=1, max_follow_ups=0, profile="ann"))
    list(events)
    list(interview.send("要点甲和要点乙"))
    record = interview.record
    assert record.status == "finished"
    assert "面试报告" in record.report.markdown  # type: ignore[union-attr]
    assert '"status": "finished"' in export_json(record)
    assert deps.sessions.topic_means("ann")[record.questions[0].topic][0] == pytest.approx(8.3, abs=0.1)
