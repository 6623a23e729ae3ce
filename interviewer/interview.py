"""Interview: the LangGraph state graph of one session (pick -> ask -> answer -> grade -> decide) and its runner.

The graph's state is the session record as JSON (`{"record": ...}`), checkpointed in SQLite after
every node with durability "sync", and mirrored to the sessions store, so killing the process at
any point loses nothing the candidate typed: a candidate's message is written to the store before
the graph (and any model call) sees it, and a resumed session continues at the step it was in.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from interviewer import llm, picker
from interviewer.bank import BankItem, QuestionView, RubricPoint, topic_name
from interviewer.errors import InterviewerError, SessionError
from interviewer.grader import Grade
from interviewer.prompts import render_messages
from interviewer.report import HINT_PENALTY, build_report, final_score
from interviewer.sessions import (
    FollowUp,
    InterviewSetup,
    QuestionResult,
    SessionRecord,
    SessionStore,
    Turn,
    TurnKind,
    new_session_id,
)
from interviewer.turns import classify_turn

# Grades a (question, answer) pair; key_points narrows the rubric (a follow-up probes one point).
GradeFn = Callable[[QuestionView, str, list[RubricPoint] | None], Grade]

WarmFn = Callable[[QuestionView, list[RubricPoint] | None], None]

STRONG = 8.0  # of 10: a strong answer earns a deeper "why" question instead of a gap follow-up


@dataclass
class InterviewDeps:
    """What an interview needs from the outside; tests pass fakes."""

    items: Sequence[BankItem]
    sessions: SessionStore
    grade: GradeFn
    quick_grade: GradeFn  # fast, no model: decides follow-ups in mock mode while `grade` runs behind
    model: BaseChatModel | None = None  # for clarifications; None = offline wording
    warm: WarmFn | None = None  # primes the model's prompt cache for the grade while the candidate thinks
    checkpoint_path: str = ":memory:"
    seed: int | None = None
    background: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=1))
    pending: dict[str, Future[Grade]] = field(default_factory=dict)


class State(TypedDict):
    record: dict[str, Any]
    turn: str


# --- wording ------------------------------------------------------------------------------------
_TEXT = {
    "zh": {
        "first": "我们开始吧。第 {n}/{total} 题（{topic}）：",
        "next": "好，下一题。第 {n}/{total} 题（{topic}）：",
        "follow_gap": "追问一下：",
        "follow_deep": "回答得不错，再深入一点：",
        "hint": "提示（会扣 {penalty} 分）：可以从「{point}」这个角度想一想。",
        "no_hint": "这道题我没有更多提示了，请按你的理解作答。",
        "skip": "没关系，我们跳过这一题。",
        "reference": "参考答案：{reference}\n（来源：{source}）",
        "redirect": "我们还是回到题目上来：{question}",
        "clarify": "这道题问的是：{question} 请按你的理解回答，先讲最核心的思路即可。",
        "feedback": "得分 {score}/10。{feedback}",
        "ungraded": "这次回答暂时无法评分（{reason}），我们继续。",
        "end": "好的，面试到此结束，下面是你的报告。",
        "done": "所有题目都问完了，下面是你的报告。",
        "model_down": "（模型暂时不可用，已改用离线方式继续：{reason}）",
    },
    "en": {
        "first": "Let's begin. Question {n}/{total} ({topic}):",
        "next": "Thanks. Question {n}/{total} ({topic}):",
        "follow_gap": "A follow-up:",
        "follow_deep": "Good answer. Let's go one level deeper:",
        "hint": "Hint (costs {penalty} points): think about {point}.",
        "no_hint": "I have no further hint for this one; answer as best you can.",
        "skip": "No problem, let's skip this one.",
        "reference": "Reference answer: {reference}\n(Source: {source})",
        "redirect": "Let's stay with the question: {question}",
        "clarify": "The question is: {question} Answer with your own understanding; start with the core idea.",
        "feedback": "Score {score}/10. {feedback}",
        "ungraded": "I could not grade that answer ({reason}); let's continue.",
        "end": "All right, we'll stop here. Here is your report.",
        "done": "That was the last question. Here is your report.",
        "model_down": "(The model is unavailable, continuing offline: {reason})",
    },
}


def _t(record: SessionRecord, key: str, **values: object) -> str:
    return _TEXT[record.setup.lang][key].format(**values)


def _say(record: SessionRecord, text: str, kind: TurnKind, *, stream_pieces: Iterator[str] | None = None) -> None:
    """Append an interviewer turn and stream it to whoever runs the graph."""
    writer = get_stream_writer()
    if stream_pieces is not None:
        for piece in stream_pieces:
            writer({"type": "token", "text": piece})
    writer({"type": "message", "kind": kind, "text": text})
    index = record.current.index if record.current else None
    record.transcript.append(Turn(role="interviewer", kind=kind, text=text, question_index=index))


def _view(result: QuestionResult) -> QuestionView:
    return QuestionView(
        id=result.item_id, topic=result.topic, difficulty=result.difficulty, lang=result.lang,
        question=result.question, reference=result.reference, key_points=result.key_points,
        common_mistakes=[], source=result.source,
    )


def _open_follow_up(result: QuestionResult) -> FollowUp | None:
    last = result.follow_ups[-1] if result.follow_ups else None
    return last if last is not None and last.answer is None else None


def _grade_key(result: QuestionResult, answer: str, point_id: str | None) -> str:
    raw = f"{result.item_id}\x00{result.lang}\x00{point_id}\x00{answer}"
    return hashlib.sha256(raw.encode()).hexdigest()


# --- the graph ----------------------------------------------------------------------------------
def build_graph(deps: InterviewDeps, checkpointer: SqliteSaver) -> Any:
    """Compile the interview graph with its nodes bound to `deps`."""
    rng = random.Random(deps.seed)

    def load(state: State) -> SessionRecord:
        return SessionRecord.model_validate(state["record"])

    def warm(current: QuestionResult, points: list[RubricPoint] | None) -> None:
        if deps.warm is not None:
            deps.background.submit(deps.warm, _view(current), points)

    def load_current(state: State) -> tuple[SessionRecord, QuestionResult]:
        """The record and the question being asked (every node after `pick` has one)."""
        record = load(state)
        if record.current is None:
            raise SessionError(f"session {record.id} has no current question")
        return record, record.current

    def commit(record: SessionRecord, **extra: Any) -> dict[str, Any]:
        deps.sessions.save(record)
        return {"record": record.model_dump(mode="json"), **extra}

    def pick(state: State) -> Command:
        record = load(state)
        if len(record.questions) >= record.setup.questions:
            return Command(goto="report", update={"turn": "done"})
        item = picker.pick_question(
            deps.items,
            topics=record.setup.topics,
            difficulty=record.difficulty_now,
            asked={q.item_id for q in record.questions},
            asked_topics=[q.topic for q in record.questions],
            recent=deps.sessions.recent_item_ids(record.setup.profile),
            topic_means=deps.sessions.topic_means(record.setup.profile),
            lang=record.setup.lang,
            rng=rng,
        )
        if item is None:
            return Command(goto="report", update={"turn": "done"})
        view = item.view(record.setup.lang)
        record.questions.append(QuestionResult(
            index=len(record.questions), item_id=item.id, topic=item.topic, difficulty=item.difficulty,
            lang=view.lang, question=view.question, reference=view.reference, source=view.source,
            key_points=view.key_points,
        ))
        return Command(goto="ask", update=commit(record))

    def ask(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        lead = "first" if current.index == 0 else "next"
        intro = _t(record, lead, n=current.index + 1, total=record.setup.questions,
                   topic=topic_name(current.topic, record.setup.lang))
        _say(record, f"{intro}\n{current.question}", "question")
        warm(current, None)
        return commit(record)

    def wait(state: State) -> dict[str, Any]:
        record = load(state)
        text = interrupt({"session": record.id, "prompt": record.transcript[-1].text if record.transcript else ""})
        text = str(text or "")
        kind = classify_turn(text)
        turn_kind: TurnKind = "answer" if kind == "answer" else kind
        index = record.current.index if record.current else None
        record.transcript.append(Turn(role="candidate", kind=turn_kind, text=text, question_index=index))
        record.pending_input = None
        return commit(record, turn=kind)

    def route(state: State) -> str:
        return {
            "answer": "grade", "skip": "skip", "hint": "hint", "clarify": "clarify", "repeat": "repeat",
            "end": "report", "off_topic": "redirect",
        }[state["turn"]]

    def grade(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        answer = record.transcript[-1].text
        follow_up = _open_follow_up(current)
        points = None
        if follow_up is not None:
            follow_up.answer = answer
            points = _rubric_for(current, follow_up.point_id)
        else:
            current.answer = answer
        key = _grade_key(current, answer, follow_up.point_id if follow_up else None)
        if record.setup.mode == "mock":
            # Decide with the fast grader now; the real grade runs behind and is collected at the report.
            provisional = deps.quick_grade(_view(current), answer, points)
            deps.pending[key] = deps.background.submit(_grade_and_cache, deps, _view(current), answer, points, key)
            verdict_source = provisional
        else:
            result = deps.grade(_view(current), answer, points)
            deps.sessions.cache_grade(key, result)
            verdict_source = result
            writer = get_stream_writer()
            writer({"type": "grade", "question_index": current.index, "follow_up": follow_up is not None,
                    "grade": result.model_dump(mode="json")})
            if result.score is None:
                _say(record, _t(record, "ungraded", reason=result.error or "?"), "feedback")
            else:
                score10 = round(10 * result.score / result.score_max, 1)
                _say(record, _t(record, "feedback", score=score10, feedback=result.feedback), "feedback")
        if not current.key_points and verdict_source.verdicts:
            # An article question has no rubric of its own: keep the one the grader derived, so
            # follow-ups and the report can refer to its points.
            current.key_points = [
                RubricPoint(id=v.point_id, weight=v.weight, text=v.point) for v in verdict_source.verdicts
            ]
        if follow_up is not None:
            follow_up.grade = verdict_source if record.setup.mode == "practice" else None
        else:
            current.grade = verdict_source if record.setup.mode == "practice" else None
            current.provisional = verdict_source
        return commit(record)

    def decide(state: State) -> str:
        record, current = load_current(state)
        if len(current.follow_ups) >= record.setup.max_follow_ups:
            return "next"
        basis = current.provisional
        if basis is None or basis.score is None:
            return "next"
        if current.follow_ups and current.follow_ups[-1].point_id is None:
            return "next"  # after a deeper question, move on
        if _follow_up_target(current) is not None:
            return "follow_up"
        strong = 10 * basis.score / basis.score_max >= STRONG
        return "follow_up" if strong and not current.follow_ups else "next"

    def follow_up(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        target = _follow_up_target(current)
        if target is not None:
            question = target.follow_up or _generic_follow_up(record, target)
            lead = _t(record, "follow_gap")
            current.follow_ups.append(FollowUp(point_id=target.id, question=question))
            warm(current, [target])
        else:
            strongest = max(current.key_points, key=lambda p: p.weight, default=None)
            question = (strongest.follow_up if strongest and strongest.follow_up else
                        _generic_deep(record))
            lead = _t(record, "follow_deep")
            current.follow_ups.append(FollowUp(point_id=None, question=question))
        _say(record, f"{lead}{' ' if record.setup.lang == 'en' else ''}{question}", "follow_up")
        return commit(record)

    def next_question(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        basis = current.grade or current.provisional
        last = None if basis is None or basis.score is None else 10 * basis.score / basis.score_max
        if record.setup.difficulty == "adaptive":
            record.difficulty_now = picker.next_difficulty(record.difficulty_now, 0.0 if current.skipped else last)
        if record.setup.mode == "practice":
            current.score = final_score(current)
            deps.sessions.record_score(record, current)
        return commit(record)

    def skip(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        follow_up = _open_follow_up(current)
        if follow_up is not None:
            follow_up.answer = ""
        elif current.answer is None:
            current.skipped = True
        _say(record, _t(record, "skip"), "skip")
        if record.setup.mode == "practice":
            _say(record, _t(record, "reference", reference=current.reference, source=current.source), "reference")
        return commit(record)

    def hint(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        open_follow_up = _open_follow_up(current)
        probed = _rubric_for(current, open_follow_up.point_id) if open_follow_up else None
        target = (probed[0] if probed else None) or _follow_up_target(current) or _first_unhinted(current)
        if target is None:
            _say(record, _t(record, "no_hint"), "hint")
        else:
            current.hints += 1
            _say(record, _t(record, "hint", penalty=HINT_PENALTY, point=_hint_text(target)), "hint")
        return commit(record)

    def clarify(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        request = record.transcript[-1].text
        text = None
        if deps.model is not None:
            messages = render_messages(
                "clarify", record.setup.lang, question=current.question, reference=current.reference,
                request=request,
            )
            try:
                pieces = llm.stream(deps.model, messages, max_tokens=120)
                parts: list[str] = []
                writer = get_stream_writer()
                while True:
                    try:
                        piece = next(pieces)
                    except StopIteration as stop:
                        reply = stop.value
                        break
                    parts.append(piece)
                    writer({"type": "token", "text": piece})
                text = "".join(parts).strip()
                if reply is not None:
                    record.usage += reply.usage
            except InterviewerError as exc:
                record.notices.append(_t(record, "model_down", reason=exc))
                writer = get_stream_writer()
                writer({"type": "notice", "text": record.notices[-1]})
        if not text:
            text = _t(record, "clarify", question=current.question)
        _say(record, text, "clarify")
        return commit(record)

    def repeat(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        follow_up = _open_follow_up(current)
        _say(record, follow_up.question if follow_up else current.question, "repeat")
        return commit(record)

    def redirect(state: State) -> dict[str, Any]:
        record, current = load_current(state)
        follow_up = _open_follow_up(current)
        _say(record, _t(record, "redirect", question=follow_up.question if follow_up else current.question),
             "off_topic")
        return commit(record)

    def report(state: State) -> dict[str, Any]:
        record = load(state)
        _collect_grades(deps, record)
        for result in record.questions:
            result.score = final_score(result)
            deps.sessions.record_score(record, result)
        record.status = "finished"
        record.report = build_report(record)
        lead = _t(record, "end" if state.get("turn") == "end" else "done")
        _say(record, lead, "notice")
        get_stream_writer()({"type": "report", "report": record.report.model_dump(mode="json")})
        record.transcript.append(Turn(role="interviewer", kind="report", text=record.report.markdown))
        return commit(record)

    graph = StateGraph(State)
    for name, node in [
        ("pick", pick), ("ask", ask), ("wait", wait), ("grade", grade), ("follow_up", follow_up),
        ("next", next_question), ("skip", skip), ("hint", hint), ("clarify", clarify), ("repeat", repeat),
        ("redirect", redirect), ("report", report),
    ]:
        graph.add_node(name, node)
    graph.add_edge(START, "pick")
    graph.add_edge("ask", "wait")
    graph.add_conditional_edges("wait", route, ["grade", "skip", "hint", "clarify", "repeat", "report", "redirect"])
    graph.add_conditional_edges("grade", decide, ["follow_up", "next"])
    graph.add_edge("follow_up", "wait")
    graph.add_edge("next", "pick")
    graph.add_edge("skip", "next")
    for node_name in ("hint", "clarify", "repeat", "redirect"):
        graph.add_edge(node_name, "wait")
    graph.add_edge("report", END)
    return graph.compile(checkpointer=checkpointer)


def _follow_up_target(result: QuestionResult) -> RubricPoint | None:
    """The most important key point the answer missed or half-covered and not yet followed up."""
    basis = result.provisional
    if basis is None:
        return None
    asked = {f.point_id for f in result.follow_ups}
    verdicts = {v.point_id: v.verdict for v in basis.verdicts}
    candidates = [
        p for p in result.key_points
        if verdicts.get(p.id) in ("missing", "partly") and p.id not in asked
    ]
    # Missing before partly, then heavier first.
    candidates.sort(key=lambda p: (verdicts[p.id] != "missing", -p.weight))
    return candidates[0] if candidates else None


def _rubric_for(result: QuestionResult, point_id: str | None) -> list[RubricPoint] | None:
    """What an answer is graded against: the one key point a follow-up probes, else (None) the
    question's whole rubric."""
    if point_id is None:
        return None
    return [p for p in result.key_points if p.id == point_id] or None


def _first_unhinted(result: QuestionResult) -> RubricPoint | None:
    ordered = sorted(result.key_points, key=lambda p: -p.weight)
    return ordered[result.hints] if result.hints < len(ordered) else None


def _hint_text(point: RubricPoint) -> str:
    # Give the direction, not the whole point: its first clause.
    for sep in ("，", "；", ",", ";", "（", "("):
        if sep in point.text:
            return point.text.split(sep, 1)[0]
    return point.text


def _generic_follow_up(record: SessionRecord, point: RubricPoint) -> str:
    if record.setup.lang == "zh":
        return f"你的回答里没有展开「{point.text}」这一点，能具体讲讲吗？"
    return f"Your answer did not go into this: {point.text}. Can you explain it?"


def _generic_deep(record: SessionRecord) -> str:
    if record.setup.lang == "zh":
        return "如果把这个方法用到一个数据量小很多、噪声更大的场景，你会怎么调整？为什么？"
    return "How would you adapt this to a setting with far less and noisier data, and why?"


def _grade_and_cache(deps: InterviewDeps, view: QuestionView, answer: str, points: list[RubricPoint] | None,
                     key: str) -> Grade:
    result = deps.grade(view, answer, points)
    deps.sessions.cache_grade(key, result)
    return result


def _collect_grades(deps: InterviewDeps, record: SessionRecord) -> None:
    """Fill in the real grades of mock-mode answers: from the background job, the cache, or now."""
    def resolve(result: QuestionResult, answer: str, point_id: str | None) -> Grade:
        key = _grade_key(result, answer, point_id)
        future = deps.pending.pop(key, None)
        if future is not None:
            return future.result()
        cached = deps.sessions.cached_grade(key)
        if cached is not None:
            return cached
        return _grade_and_cache(deps, _view(result), answer, _rubric_for(result, point_id), key)

    for result in record.questions:
        if result.grade is None and result.answer:
            result.grade = resolve(result, result.answer, None)
        for follow_up in result.follow_ups:
            if follow_up.grade is None and follow_up.answer:
                follow_up.grade = resolve(result, follow_up.answer, follow_up.point_id)


# --- runner -------------------------------------------------------------------------------------
class Interview:
    """Drives one session: `start()` or `resume()`, then `send(text)` per candidate message.

    Each call yields events: {"type": "token"|"message"|"grade"|"notice"|"report", ...}."""

    def __init__(self, deps: InterviewDeps, session_id: str):
        self.deps = deps
        self.session_id = session_id
        self._conn = sqlite3.connect(deps.checkpoint_path, check_same_thread=False)
        self._saver = SqliteSaver(self._conn)
        self._graph = build_graph(deps, self._saver)
        self._config: Any = {"configurable": {"thread_id": session_id}}
        self._lock = threading.Lock()

    @classmethod
    def start(cls, deps: InterviewDeps, setup: InterviewSetup) -> tuple[Interview, Iterator[dict[str, Any]]]:
        """A new session; the iterator yields the greeting and first question."""
        record = SessionRecord(id=new_session_id(), setup=setup,
                               difficulty_now=2 if setup.difficulty == "adaptive" else int(setup.difficulty))
        deps.sessions.save(record)
        interview = cls(deps, record.id)
        return interview, interview._run({"record": record.model_dump(mode="json"), "turn": ""})

    @classmethod
    def resume(cls, deps: InterviewDeps, session_id: str) -> tuple[Interview, Iterator[dict[str, Any]]]:
        """Reopen a saved session. The iterator finishes any step a crash interrupted and replays
        an unprocessed candidate message; it yields nothing when the session was simply waiting."""
        record = deps.sessions.load(session_id)
        interview = cls(deps, session_id)
        snapshot = interview._graph.get_state(interview._config)
        if not snapshot.values:
            raise SessionError(f"session {session_id!r} has no saved interview state; it cannot be resumed")
        return interview, interview._continue(record)

    def _continue(self, record: SessionRecord) -> Iterator[dict[str, Any]]:
        snapshot = self._graph.get_state(self._config)
        waiting = any(task.interrupts for task in snapshot.tasks)
        if waiting and record.pending_input is not None:
            yield from self._run(Command(resume=record.pending_input))
        elif snapshot.next and not waiting:
            yield from self._run(None)  # a node was cut off mid-way: run it again

    @property
    def record(self) -> SessionRecord:
        return self.deps.sessions.load(self.session_id)

    @property
    def finished(self) -> bool:
        return self.record.status == "finished"

    @property
    def waiting(self) -> bool:
        """True when the graph is waiting for the candidate's next message."""
        snapshot = self._graph.get_state(self._config)
        return any(task.interrupts for task in snapshot.tasks)

    def send(self, text: str) -> Iterator[dict[str, Any]]:
        """Submit a candidate message. It is saved before anything else happens."""
        if self.finished:
            raise SessionError(f"session {self.session_id} is finished; start a new one")
        record = self.record
        record.pending_input = text
        self.deps.sessions.save(record)
        return self._run(Command(resume=text))

    def retry(self) -> Iterator[dict[str, Any]]:
        """Run again the step that failed (e.g. after the model server came back)."""
        return self._continue(self.record)

    def _run(self, graph_input: Any) -> Iterator[dict[str, Any]]:
        with self._lock:
            yield from self._graph.stream(graph_input, self._config, stream_mode="custom", durability="sync")

    def close(self) -> None:
        self._conn.close()
