"""Web app: the browser UI's handlers and per-browser-session state, as plain functions over the package.

`ui.py` lays the Gradio page out and binds these methods; tests call them directly. A browser
session holds only its interview's session id (in `gr.State`); the `Interview` object for that id
lives in `WebApp.interviews`, guarded by a lock, so two users never share a conversation. The
transcript shown in the chat is always rendered from the saved session record, so what the page
shows is what was saved, and a rejected input (empty, too long) stays in the answer box."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from interviewer.bank import Lang, load_topics
from interviewer.config import Settings, load_settings
from interviewer.errors import InterviewerError
from interviewer.grader import Grade
from interviewer.ingest import ARTICLE_SUFFIXES, FileResult, ingest_paths
from interviewer.interview import Interview, InterviewDeps
from interviewer.llm import EndpointCheck
from interviewer.report import build_report
from interviewer.sessions import InterviewSetup, SessionRecord, Turn
from interviewer.wiring import ModelStatus, build_deps

log = logging.getLogger(__name__)

# Symbols, not emoji: the machines this runs on often have no emoji font (they would show as boxes).
# An interview answer is a few paragraphs; the grader reads ~600 tokens of it. Far longer input is
# almost always an accidental paste, so it is refused (kept in the box) rather than cut silently.
MAX_ANSWER_CHARS = 6000
WEAK_TOPICS = 3  # how many weakest topics "practise these" starts a session on
Action = Literal["hint", "skip", "end"]

# The words the turn classifier (turns.py) understands as these requests, per session language.
CONTROL_WORDS: dict[str, dict[Action, str]] = {
    "zh": {"hint": "提示", "skip": "跳过", "end": "结束面试"},
    "en": {"hint": "hint", "skip": "skip", "end": "end now"},
}

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "AI 模拟面试官", "tab_interview": "面试", "tab_report": "报告", "tab_history": "历史",
        "tab_knowledge": "知识库", "setup": "设置", "lang": "语言 / Language", "topics": "主题（留空为混合）",
        "difficulty": "难度", "adaptive": "自适应", "questions": "题目数", "mode": "模式", "practice": "练习（每题评分）",
        "mock": "模拟面试（最后评分）", "profile": "候选人名称（本地，用于历史）", "start": "开始面试",
        "chat": "面试对话", "answer": "你的回答", "answer_ph": "在这里输入回答，按「提交」发送",
        "send": "提交", "hint": "提示", "skip": "跳过", "end": "结束面试", "retry": "重试",
        "grade_card": "评分", "reference": "参考答案与来源", "report": "报告", "per_topic": "各主题平均分",
        "per_question": "逐题得分", "export": "导出 Markdown", "export_file": "报告文件", "refresh": "刷新",
        "sessions": "历史记录", "resume_pick": "未完成的面试", "resume": "继续这场面试", "progress": "各主题得分变化",
        "weak": "最薄弱的主题", "practise": "练习这些主题", "upload": "上传文章（.txt / .md / .html）",
        "ingest": "导入", "ingest_result": "导入结果", "bank": "题库", "bank_topic": "主题", "bank_filter": "筛选（题目包含）",
        "search": "搜索知识库", "search_ph": "例如：为什么 Dropout 能防止过拟合", "search_btn": "搜索",
        "search_result": "搜索结果", "status_refresh": "重新检查模型",
        # messages
        "empty_answer": "回答是空的：请先输入回答，或者点「提示」/「跳过」。",
        "too_long": "回答太长了（{n} 个字符，上限 {limit}）：请精简到要点再提交，原文仍保留在输入框里。",
        "no_session": "还没有开始面试：请先在左侧设置并点「开始面试」。",
        "finished": "这场面试已经结束：报告在「报告」页；要继续练习请开始新的面试。",
        "busy": "上一条消息还在处理中，请稍候再发送。",
        "failed": "出错了：{error}。你的回答已保存，可以点「重试」继续。",
        "bad_setup": "设置有误：{error}",
        "report_ready": "报告已生成，请查看「报告」页。",
        "no_report": "还没有报告：完成或结束一场面试后，这里会显示报告。",
        "interim": "（面试尚未结束，以下为目前为止的结果）",
        "no_history": "还没有历史记录。",
        "no_weak": "还没有足够的历史数据来找出薄弱主题。",
        "resume_none": "请选择一场未完成的面试。",
        "no_files": "请先选择要上传的文件。",
        "unsupported": "不支持的文件类型 {suffix}：请上传 .txt、.md 或 .html 文章",
        "ingest_total": "新增 {added}，更新 {replaced}，未变 {unchanged}，失败 {failed}。",
        "store_down": "知识库无法打开：{error}",
        "score": "得分", "follow_up": "追问", "question_n": "第 {n} 题", "ungraded": "暂时无法评分：{reason}",
        "feedback": "反馈", "point": "要点", "verdict": "判定", "evidence": "依据", "source": "来源",
        "covered": "✓ 覆盖", "partly": "～ 部分", "missing": "✗ 缺失", "flags": "标记",
        "model_ok": "模型在线", "model_down": "模型无响应", "model": "模型",
        "banner": "⚠ **模型无响应**：{error}\n\n面试可以继续，评分改用离线的相似度评分（会标记为 fallback）。"
                  "解决办法：{fix}，然后点「重新检查模型」。",
        "banner_restart": "⚠ 应用启动时模型不可用（{error}），本次运行使用离线评分；模型恢复后请重启应用以使用模型评分。",
        "fix_embedded": "内置模型没有启动成功，查看日志或设置 INTERVIEWER_LOCAL_MODEL=0.5b 后重启",
        "fix_remote": "检查 OPENAI_BASE_URL / OPENAI_API_KEY / INTERVIEWER_MODEL 是否正确、服务器是否在运行（可运行 interviewer doctor）",
    },
    "en": {
        "title": "AI mock interviewer", "tab_interview": "Interview", "tab_report": "Report", "tab_history": "History",
        "tab_knowledge": "Knowledge", "setup": "Setup", "lang": "语言 / Language", "topics": "Topics (empty = mixed)",
        "difficulty": "Difficulty", "adaptive": "adaptive", "questions": "Questions", "mode": "Mode",
        "practice": "Practice (graded each answer)", "mock": "Mock interview (graded at the end)",
        "profile": "Candidate name (local, for history)", "start": "Start interview", "chat": "Interview",
        "answer": "Your answer", "answer_ph": "Type your answer and press Submit", "send": "Submit",
        "hint": "Hint", "skip": "Skip", "end": "End interview", "retry": "Retry", "grade_card": "Grade",
        "reference": "Reference answer and source", "report": "Report", "per_topic": "Average per topic",
        "per_question": "Score per question", "export": "Export Markdown", "export_file": "Report file",
        "refresh": "Refresh", "sessions": "Past sessions", "resume_pick": "Unfinished interviews",
        "resume": "Resume this interview", "progress": "Score over time per topic", "weak": "Weakest topics",
        "practise": "Practise these", "upload": "Upload articles (.txt / .md / .html)", "ingest": "Ingest",
        "ingest_result": "Ingest result", "bank": "Question bank", "bank_topic": "Topic",
        "bank_filter": "Filter (question contains)", "search": "Search the knowledge base",
        "search_ph": "e.g. why does dropout reduce overfitting", "search_btn": "Search",
        "search_result": "Results", "status_refresh": "Check the model again",
        "empty_answer": "The answer is empty: type an answer first, or press Hint / Skip.",
        "too_long": "That answer is too long ({n} characters, the limit is {limit}): shorten it to the key "
                    "points; your text is still in the box.",
        "no_session": "No interview yet: choose the setup on the left and press Start interview.",
        "finished": "This interview is finished: the report is on the Report tab; start a new one to go on.",
        "busy": "Your previous message is still being processed; please wait a moment.",
        "failed": "Something went wrong: {error}. Your answer is saved; press Retry to continue.",
        "bad_setup": "Invalid setup: {error}",
        "report_ready": "Your report is ready on the Report tab.",
        "no_report": "No report yet: finish or end an interview and it appears here.",
        "interim": "(The interview is not finished; these are the results so far.)",
        "no_history": "No past sessions yet.",
        "no_weak": "Not enough history yet to find weak topics.",
        "resume_none": "Pick an unfinished interview first.",
        "no_files": "Choose the files to upload first.",
        "unsupported": "unsupported file type {suffix}: upload .txt, .md or .html articles",
        "ingest_total": "{added} added, {replaced} replaced, {unchanged} unchanged, {failed} failed.",
        "store_down": "The knowledge base cannot be opened: {error}",
        "score": "Score", "follow_up": "follow-up", "question_n": "Question {n}", "ungraded": "Could not grade: {reason}",
        "feedback": "Feedback", "point": "Key point", "verdict": "Verdict", "evidence": "Evidence", "source": "Source",
        "covered": "✓ covered", "partly": "～ partly", "missing": "✗ missing", "flags": "flags",
        "model_ok": "model answers", "model_down": "model not answering", "model": "Model",
        "banner": "⚠ **The model does not answer**: {error}\n\nThe interview goes on; grading uses the offline "
                  "similarity grader (flagged as fallback). To fix it: {fix}, then press Check the model again.",
        "banner_restart": "⚠ The model was unavailable when the app started ({error}), so this run grades "
                          "offline; restart the app once the model answers to grade with it.",
        "fix_embedded": "the embedded model did not start; check its log or set INTERVIEWER_LOCAL_MODEL=0.5b and restart",
        "fix_remote": "check OPENAI_BASE_URL / OPENAI_API_KEY / INTERVIEWER_MODEL and that the server runs "
                      "(`interviewer doctor` shows what is wrong)",
    },
}


# Table column headers shown on the page; rows keep the stable keys on the left.
COLUMNS: dict[str, dict[str, str]] = {
    "zh": {"id": "编号", "topic": "主题", "score": "得分", "n": "#", "question": "题目", "started": "开始时间",
           "status": "状态", "lang": "语言", "mode": "模式", "questions": "题数", "overall": "总分", "mean": "平均分",
           "count": "次数", "file": "文件", "chunks": "片段", "qa": "问答", "error": "错误", "difficulty": "难度",
           "kind": "类型", "title": "标题", "text": "内容", "source": "来源", "time": "时间"},
    "en": {"qa": "Q&A", "n": "#"},  # other English headers are the keys themselves
}


def column_names(columns: list[str], lang: str) -> list[str]:
    """Display headers for row keys in the interface language."""
    names = COLUMNS["zh" if lang == "zh" else "en"]
    return [names.get(c, c) for c in columns]


def labels(lang: str) -> dict[str, str]:
    """Interface strings in the chosen language (English for anything but zh)."""
    return LABELS["zh" if lang == "zh" else "en"]


# --- views: what the handlers return ------------------------------------------------------------
class ChatView(BaseModel):
    """The Interview tab after a handler step."""

    session_id: str | None = Field(default=None, description="The browser session's interview, if any.")
    messages: list[dict[str, str]] = Field(default_factory=list, description="Chat in Gradio's messages format.")
    card: str = Field(default="", description="The latest grade card as Markdown ('' when none).")
    reference: str = Field(default="", description="Reference passage and its source for the graded question.")
    notice: str = Field(default="", description="A message for the candidate (bad input, errors), '' if none.")
    accepted: bool = Field(default=False, description="True when the typed text was taken (clear the answer box).")
    finished: bool = Field(default=False, description="True once the session has its report.")


class ReportView(BaseModel):
    """The Report tab."""

    markdown: str = Field(description="The report as Markdown (or a note when there is none).")
    per_topic: list[dict[str, Any]] = Field(default_factory=list, description="Rows: topic, score (0-10).")
    per_question: list[dict[str, Any]] = Field(default_factory=list, description="Rows: n, topic, question, score.")
    export_path: str | None = Field(default=None, description="A Markdown file of the report, for download.")


class HistoryView(BaseModel):
    """The History tab for one candidate profile."""

    sessions: list[dict[str, Any]] = Field(default_factory=list, description="Rows: id, started, status, lang, ...")
    unfinished: list[str] = Field(default_factory=list, description="Ids of sessions that can be resumed.")
    progress: list[dict[str, Any]] = Field(default_factory=list, description="Rows: time, topic, score.")
    weakest: list[dict[str, Any]] = Field(default_factory=list, description="Rows: topic, slug, mean, count.")
    note: str = Field(default="", description="A message when there is nothing to show.")


class IngestSummary(BaseModel):
    """The Knowledge tab after an upload."""

    rows: list[dict[str, Any]] = Field(default_factory=list, description="Per file: file, status, chunks, qa, error.")
    message: str = Field(default="", description="Totals, or why nothing was ingested.")


class StatusView(BaseModel):
    """The status line and, when the model does not answer, a banner saying what to do."""

    line: str = Field(description="Which endpoint is used and whether it answers.")
    banner: str = Field(default="", description="'' when all is well.")
    answers: bool = Field(description="Whether the model answered the last check.")


class SetupForm(BaseModel):
    """The setup panel as the page sends it (strings from radios); `to_setup` validates it."""

    lang: str = "zh"
    topics: list[str] = Field(default_factory=list)
    difficulty: str = "adaptive"
    questions: int = 5
    mode: str = "practice"
    profile: str = "default"

    def to_setup(self) -> InterviewSetup:
        difficulty: int | str = self.difficulty if self.difficulty == "adaptive" else int(self.difficulty)
        return InterviewSetup.model_validate({
            "lang": self.lang, "topics": list(self.topics or []), "difficulty": difficulty,
            "questions": int(self.questions), "mode": self.mode, "profile": (self.profile or "").strip() or "default",
        })


# --- rendering ------------------------------------------------------------------------------------
def chat_messages(transcript: Iterable[Turn], lang: str) -> list[dict[str, str]]:
    """The transcript in Gradio's messages format; the long report turn becomes a pointer to its tab."""
    out = []
    for turn in transcript:
        if turn.role == "candidate":
            out.append({"role": "user", "content": turn.text})
        elif turn.kind == "report":
            out.append({"role": "assistant", "content": labels(lang)["report_ready"]})
        else:
            out.append({"role": "assistant", "content": turn.text})
    return out


def _cell(text: str) -> str:
    # A Markdown table cell: no line breaks, no column separators.
    return " ".join(text.split()).replace("|", "\\|")


def grade_card(grade: Grade, lang: str, title: str) -> str:
    """A grade as Markdown: score, each key point's verdict with the quoted evidence, feedback, flags."""
    t = labels(lang)
    if grade.score is None:
        return f"#### {title}\n\n{t['ungraded'].format(reason=grade.error or '?')}"
    score10 = 10 * grade.score / grade.score_max
    lines = [f"#### {title} · {t['score']} {score10:.1f}/10", ""]
    if grade.verdicts:
        lines += [f"| {t['point']} | {t['verdict']} | {t['evidence']} |", "|---|---|---|"]
        for v in grade.verdicts:
            evidence = f"“{_cell(v.evidence)}”" if v.evidence else "—"
            lines.append(f"| [{v.weight}] {_cell(v.point)} | {t[v.verdict]} | {evidence} |")
        lines.append("")
    if grade.feedback:
        lines += [f"**{t['feedback']}**: {grade.feedback}", ""]
    if grade.flags:
        lines.append(f"*{t['flags']}: {', '.join(grade.flags)} · {grade.grader}*")
    return "\n".join(lines).strip()


def reference_block(record: SessionRecord, index: int) -> str:
    """The reference answer of question `index` with where it comes from."""
    if not 0 <= index < len(record.questions):
        return ""
    question = record.questions[index]
    return f"{question.reference}\n\n*{labels(record.setup.lang)['source']}: {question.source}*"


@cache
def topic_choices(lang: Lang) -> list[tuple[str, str]]:
    """(display name, slug) for the topic pickers."""
    return [(t.zh if lang == "zh" else t.en, t.slug) for t in load_topics()]


def _topic_names(lang: str) -> dict[str, str]:
    return {t.slug: (t.zh if lang == "zh" else t.en) for t in load_topics()}


# --- the app --------------------------------------------------------------------------------------
class WebApp:
    """One per process: the shared interview dependencies, the live interviews by session id,
    the knowledge store (opened on first use), and the model status."""

    def __init__(self, settings: Settings, deps: InterviewDeps, status: ModelStatus, *,
                 checker: Callable[[], EndpointCheck] | None = None,
                 store_opener: Callable[[], Any] | None = None):
        self.settings = settings
        self.deps = deps
        self.status = status
        self.interviews: dict[str, Interview] = {}
        self._lock = threading.Lock()  # guards `interviews` and `_busy`
        self._busy: set[str] = set()  # sessions with a turn in progress
        self._checker = checker or (lambda: _check_endpoint(settings))
        self._store_opener = store_opener or (lambda: _open_store(settings))
        self._store: Any = None
        self._store_lock = threading.Lock()
        self.last_check: EndpointCheck | None = None
        self._exports = Path(tempfile.mkdtemp(prefix="interviewer-reports-"))

    @classmethod
    def from_settings(cls, settings: Settings) -> WebApp:
        """Build the dependencies once (this starts the embedded model server when it is the one used)."""
        deps, status = build_deps(settings)
        return cls(settings, deps, status)

    # --- per-session interviews -----------------------------------------------------------------
    def _interview(self, session_id: str) -> tuple[Interview, Iterator[dict[str, Any]]]:
        """The live interview of a session; reopened from disk (e.g. after an app restart) if needed."""
        with self._lock:
            live = self.interviews.get(session_id)
        if live is not None:
            return live, iter(())
        interview, events = Interview.resume(self.deps, session_id)
        with self._lock:
            self.interviews.setdefault(session_id, interview)
            return self.interviews[session_id], events

    def _claim(self, session_id: str) -> bool:
        with self._lock:
            if session_id in self._busy:
                return False
            self._busy.add(session_id)
            return True

    def _release(self, session_id: str) -> None:
        with self._lock:
            self._busy.discard(session_id)

    def forget(self, session_id: str | None) -> None:
        """A browser session ended: drop its live interview (the record stays on disk)."""
        if not session_id:
            return
        with self._lock:
            if session_id in self._busy:
                return
            interview = self.interviews.pop(session_id, None)
        if interview is not None:
            interview.close()

    def _lang_of(self, session_id: str | None, fallback: str = "zh") -> str:
        if session_id and self.deps.sessions.exists(session_id):
            return self.deps.sessions.load(session_id).setup.lang
        return fallback

    def _view(self, session_id: str, **extra: Any) -> ChatView:
        record = self.deps.sessions.load(session_id)
        return ChatView(session_id=session_id, messages=chat_messages(record.transcript, record.setup.lang),
                        finished=record.status == "finished", **extra)

    # --- interview handlers ---------------------------------------------------------------------
    def start(self, form: SetupForm) -> Iterator[ChatView]:
        """Start a session from the setup panel; yields as the greeting and first question arrive."""
        try:
            setup = form.to_setup()
        except (ValidationError, ValueError) as exc:
            yield ChatView(notice=labels(form.lang)["bad_setup"].format(error=_brief(exc)))
            return
        interview, events = Interview.start(self.deps, setup)
        with self._lock:
            self.interviews[interview.session_id] = interview
        yield from self._stream(interview, events, pending=None)

    def send(self, session_id: str | None, text: str, lang: str = "zh") -> Iterator[ChatView]:
        """Submit the candidate's message; yields the chat as the interviewer's turn streams in."""
        text = text or ""
        if not session_id or not self.deps.sessions.exists(session_id):
            yield ChatView(session_id=None, notice=labels(lang)["no_session"])
            return
        t = labels(self._lang_of(session_id, lang))
        problem = ""
        if not text.strip():
            problem = t["empty_answer"]
        elif len(text) > MAX_ANSWER_CHARS:
            problem = t["too_long"].format(n=len(text), limit=MAX_ANSWER_CHARS)
        if problem:
            yield self._view(session_id, notice=problem)
            return
        yield from self._turn(session_id, lambda interview: interview.send(text), pending=text)

    def act(self, session_id: str | None, action: Action, lang: str = "zh") -> Iterator[ChatView]:
        """Hint / skip / end: sent as the words the turn classifier reads, in the session language."""
        if not session_id or not self.deps.sessions.exists(session_id):
            yield ChatView(session_id=None, notice=labels(lang)["no_session"])
            return
        words = CONTROL_WORDS[self._lang_of(session_id, lang)][action]
        yield from self._turn(session_id, lambda interview: interview.send(words), pending=words)

    def retry(self, session_id: str | None, lang: str = "zh") -> Iterator[ChatView]:
        """Run again the step that failed (the candidate's message was saved before it)."""
        if not session_id or not self.deps.sessions.exists(session_id):
            yield ChatView(session_id=None, notice=labels(lang)["no_session"])
            return
        yield from self._turn(session_id, lambda interview: interview.retry(), pending=None)

    def resume(self, session_id: str | None, lang: str = "zh") -> Iterator[ChatView]:
        """Continue a saved session in this browser (finishing any step a crash cut off)."""
        if not session_id or not self.deps.sessions.exists(session_id):
            yield ChatView(session_id=None, notice=labels(lang)["resume_none"])
            return
        yield from self._turn(session_id, lambda interview: iter(()), pending=None)

    def _turn(self, session_id: str, step: Callable[[Interview], Iterator[dict[str, Any]]],
              pending: str | None) -> Iterator[ChatView]:
        t = labels(self._lang_of(session_id))
        if not self._claim(session_id):
            yield self._view(session_id, notice=t["busy"])
            return
        try:
            try:
                interview, replay = self._interview(session_id)
                if interview.finished:
                    yield self._view(session_id, notice=t["finished"])
                    return
                # A session reopened after a crash first finishes the step that was cut off.
                yield from self._stream(interview, replay, pending=None, quiet=True)
                yield from self._stream(interview, step(interview), pending=pending)
            except InterviewerError as exc:
                yield self._view(session_id, notice=t["failed"].format(error=exc))
        finally:
            self._release(session_id)

    def _stream(self, interview: Interview, events: Iterator[dict[str, Any]], pending: str | None,
                quiet: bool = False) -> Iterator[ChatView]:
        """Fold interview events into chat views: tokens extend a partial message, a message
        replaces it, a grade fills the card. The final view is re-read from the saved record
        (with `quiet`, only when there was any event)."""
        record = interview.record
        lang = record.setup.lang
        base = chat_messages(record.transcript, lang)
        if pending is not None:
            base.append({"role": "user", "content": pending})
        view = ChatView(session_id=interview.session_id, messages=list(base), accepted=pending is not None)
        if pending is not None:
            yield view.model_copy(deep=True)
        partial = ""
        seen = False
        try:
            for event in events:
                seen = True
                kind = event["type"]
                if kind == "token":
                    partial += event["text"]
                    view.messages = [*base, {"role": "assistant", "content": partial}]
                elif kind == "message":
                    partial = ""
                    base.append({"role": "assistant", "content": event["text"]})
                    view.messages = list(base)
                elif kind == "grade":
                    index = int(event["question_index"])
                    title = labels(lang)["question_n"].format(n=index + 1)
                    if event.get("follow_up"):
                        title += f" · {labels(lang)['follow_up']}"
                    view.card = grade_card(Grade.model_validate(event["grade"]), lang, title)
                    view.reference = reference_block(interview.record, index)
                elif kind == "notice":
                    view.notice = event["text"]
                else:
                    continue  # the report event: the final view below shows it
                yield view.model_copy(deep=True)  # a snapshot: `view` keeps changing
        except InterviewerError as exc:
            view.notice = labels(lang)["failed"].format(error=exc)
        except Exception as exc:  # a bug must not cost the candidate the session: it is all saved
            log.exception("interview step failed for %s", interview.session_id)
            view.notice = labels(lang)["failed"].format(error=f"{type(exc).__name__}: {exc}")
        if quiet and not seen and not view.notice:
            return
        final = self._view(interview.session_id, card=view.card, reference=view.reference, notice=view.notice,
                           accepted=view.accepted)
        yield final

    # --- report and history -----------------------------------------------------------------------
    def report(self, session_id: str | None, lang: str = "zh") -> ReportView:
        """The session's report (an interim one while it runs) with chart rows and a Markdown file."""
        if not session_id or not self.deps.sessions.exists(session_id):
            return ReportView(markdown=labels(lang)["no_report"])
        record = self.deps.sessions.load(session_id)
        lang = record.setup.lang
        report = record.report or build_report(record)
        markdown = report.markdown
        if record.status != "finished":
            markdown = f"*{labels(lang)['interim']}*\n\n{markdown}"
        names = _topic_names(lang)
        path = self._exports / f"interview-report-{record.id}.md"
        path.write_text(report.markdown, encoding="utf-8")
        return ReportView(
            markdown=markdown,
            per_topic=[{"topic": names.get(s.topic, s.topic), "score": s.mean} for s in report.per_topic],
            per_question=[
                {"n": row["index"] + 1, "topic": names.get(row["topic"], row["topic"]),
                 "question": row["question"], "score": row["score"]}
                for row in report.per_question
            ],
            export_path=str(path),
        )

    def history(self, profile: str | None, lang: str = "zh") -> HistoryView:
        """Past sessions of a profile, progress per topic over time, and the weakest topics."""
        profile = (profile or "").strip() or "default"
        t = labels(lang)
        names = _topic_names(lang)
        records = self.deps.sessions.list_records(profile)
        sessions = [
            {"id": r.id, "started": datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M"),
             "status": r.status, "lang": r.setup.lang, "mode": r.setup.mode, "questions": len(r.questions),
             "overall": r.report.overall if r.report else None}
            for r in records
        ]
        progress = [
            {"time": datetime.fromtimestamp(ts), "topic": names.get(topic, topic), "score": score}
            for topic, points in self.deps.sessions.topic_history(profile).items()
            for ts, score in points
        ]
        means = sorted(self.deps.sessions.topic_means(profile).items(), key=lambda kv: kv[1][0])
        weakest = [
            {"topic": names.get(slug, slug), "slug": slug, "mean": round(mean, 1), "count": count}
            for slug, (mean, count) in means[:WEAK_TOPICS] if mean < 10
        ]
        note = "" if records else t["no_history"]
        if records and not weakest:
            note = t["no_weak"]
        return HistoryView(sessions=sessions, unfinished=[r.id for r in records if r.status != "finished"],
                           progress=progress, weakest=weakest, note=note)

    def practise_weak(self, form: SetupForm) -> Iterator[ChatView]:
        """Start a session on the profile's weakest topics (mixed when there is no history yet)."""
        weakest = self.history(form.profile, form.lang).weakest
        if not weakest:
            yield ChatView(notice=labels(form.lang)["no_weak"])
            return
        yield from self.start(form.model_copy(update={"topics": [w["slug"] for w in weakest]}))

    # --- knowledge --------------------------------------------------------------------------------
    def store(self) -> Any:
        """The knowledge store, opened once (loading the embedding model and syncing the bank)."""
        with self._store_lock:
            if self._store is None:
                self._store = self._store_opener()
            return self._store

    def ingest(self, files: Iterable[str] | None, lang: str = "zh",
               progress: Callable[[int, int, str], None] | None = None) -> IngestSummary:
        """Copy uploaded articles into the data dir (so they are kept, under their own names) and
        ingest them; one row per file with chunks added, Q&A extracted or the error."""
        t = labels(lang)
        paths = [Path(f) for f in files or []]
        if not paths:
            return IngestSummary(message=t["no_files"])
        rows: list[dict[str, Any]] = []
        kept: list[Path] = []
        folder = self.settings.ensure_data_dir() / "uploads"
        folder.mkdir(exist_ok=True)
        for path in paths:
            if path.suffix.lower() not in ARTICLE_SUFFIXES:
                rows.append(_ingest_row(path.name, "error", error=t["unsupported"].format(suffix=path.suffix or "?")))
                continue
            target = folder / path.name
            shutil.copyfile(path, target)
            kept.append(target)
        if kept:
            try:
                store = self.store()
            except InterviewerError as exc:
                return IngestSummary(rows=rows, message=t["store_down"].format(error=exc))

            def advance(done: int, total: int, result: FileResult) -> None:
                if progress is not None:
                    progress(done, total, Path(result.source).name)

            report = ingest_paths(kept, store, progress=advance)
            rows += [_ingest_row(Path(f.source).name, f.status, f.chunks, f.qa_items, f.message) for f in report.files]
        count = {s: sum(1 for r in rows if r["status"] == s) for s in ("added", "replaced", "unchanged", "error")}
        return IngestSummary(rows=rows, message=t["ingest_total"].format(
            added=count["added"], replaced=count["replaced"], unchanged=count["unchanged"], failed=count["error"]))

    def browse_bank(self, topic: str | None = None, text: str = "", lang: str = "zh") -> list[dict[str, Any]]:
        """Question-bank items, optionally of one topic and containing `text` (either language)."""
        names = _topic_names(lang)
        needle = (text or "").strip().lower()
        rows = []
        for item in self.deps.items:
            if topic and item.topic != topic:
                continue
            view = item.view("zh" if lang == "zh" else "en")
            other = item.view("en" if lang == "zh" else "zh")
            if needle and needle not in view.question.lower() and needle not in other.question.lower():
                continue
            rows.append({"id": item.id, "topic": names.get(item.topic, item.topic),
                         "difficulty": item.difficulty, "question": view.question})
        return rows

    def search(self, query: str, k: int = 8) -> list[dict[str, Any]]:
        """Hybrid search over the bank and ingested articles."""
        if not (query or "").strip():
            return []
        hits = self.store().search(query, k=k)
        return [
            {"kind": h.kind, "title": h.title, "question": h.question, "text": _snippet(h.text),
             "source": h.source, "score": round(h.score, 4)}
            for h in hits
        ]

    # --- status -----------------------------------------------------------------------------------
    def refresh_status(self) -> StatusView:
        """Ask the endpoint a tiny question again, then describe the result."""
        self.last_check = self._checker()
        return self.status_view()

    def status_view(self, lang: str = "zh") -> StatusView:
        """The status line from the last check (run one if there was none)."""
        if self.last_check is None:
            self.last_check = self._checker()
        check = self.last_check
        t = labels(lang)
        endpoint = check.endpoint
        where = f"{endpoint.kind} · {endpoint.base_url or '?'} · {endpoint.model or '?'}" if endpoint else "?"
        if check.answers:
            state = f"✓ {t['model_ok']} ({check.round_trip or 0:.1f} s)"
        else:
            state = f"✗ {t['model_down']}"
        line = f"**{t['model']}**: {where} — {state}"
        banner = ""
        if not check.answers:
            fix = t["fix_embedded"] if endpoint is None or endpoint.kind == "embedded" else t["fix_remote"]
            banner = t["banner"].format(error=check.error or "?", fix=fix)
        elif self.status.model is None:
            banner = t["banner_restart"].format(error=self.status.problem or "?")
        return StatusView(line=line, banner=banner, answers=check.answers)


def _ingest_row(name: str, status: str, chunks: int = 0, qa: int = 0, error: str = "") -> dict[str, Any]:
    return {"file": name, "status": status, "chunks": chunks, "qa": qa, "error": error}


def _snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _brief(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _check_endpoint(settings: Settings) -> EndpointCheck:
    from interviewer.llm import check_endpoint

    return check_endpoint(settings)


def _open_store(settings: Settings) -> Any:
    from interviewer.store import open_store

    return open_store(settings)


_shared: WebApp | None = None
_shared_lock = threading.Lock()


def shared_app() -> WebApp:
    """The process's one `WebApp`, built from the environment's settings on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            started = time.perf_counter()
            _shared = WebApp.from_settings(load_settings())
            log.info("web app ready in %.1f s", time.perf_counter() - started)
        return _shared


def session_ended(session_id: str | None) -> None:
    """`gr.State` delete callback: the browser session is gone."""
    if _shared is not None:
        _shared.forget(session_id)


__all__ = [
    "COLUMNS", "CONTROL_WORDS", "LABELS", "MAX_ANSWER_CHARS", "ChatView", "HistoryView", "IngestSummary", "ReportView",
    "SetupForm", "StatusView", "WebApp", "chat_messages", "column_names", "grade_card", "labels", "session_ended", "shared_app",
    "topic_choices",
]
