"""ui: the Gradio page (`python ui.py` or `interviewer ui`), a thin shell over `interviewer.webapp`.

The layout and the bindings live here; every handler is a method of `WebApp`, tested directly.
Analytics are off and the theme uses local fonts, so neither the server nor the page reaches out."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # must be set before gradio is imported

import signal
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pandas as pd

from interviewer.webapp import (
    LABELS,
    ChatView,
    SetupForm,
    WebApp,
    column_names,
    labels,
    session_ended,
    shared_app,
    topic_choices,
)

L = LABELS["zh"]  # the page opens in Chinese; choosing English relabels it
_FONTS = ("ui-sans-serif", "system-ui", "Noto Sans CJK SC", "sans-serif")  # local fonts only: no web fonts
THEME = gr.themes.Soft(font=_FONTS, font_mono=("ui-monospace", "monospace"))
CSS = """
.grade-card table {font-size: 0.9em}
#model-banner {background: #fff4e5; border: 1px solid #f0a020; border-radius: 6px; padding: 4px 12px}
"""
CHAT_CONCURRENCY = 8  # interview turns of different users run side by side (one Interview each)


def app() -> WebApp:
    return shared_app()


# Row keys of each table, in display order.
REPORT_COLUMNS = ["n", "topic", "question", "score"]
SESSION_COLUMNS = ["id", "started", "status", "lang", "mode", "questions", "overall"]
WEAK_COLUMNS = ["topic", "mean", "count"]
INGEST_COLUMNS = ["file", "status", "chunks", "qa", "error"]
BANK_COLUMNS = ["id", "topic", "difficulty", "question"]
SEARCH_COLUMNS = ["kind", "title", "question", "text", "source", "score"]


def _frame(rows: list[dict[str, Any]], columns: list[str], lang: str | None = None) -> pd.DataFrame:
    """A table for the page; with `lang`, the headers are shown in that language."""
    frame = pd.DataFrame(rows, columns=columns)
    if lang is not None:
        frame.columns = column_names(columns, lang)
    return frame


def _difficulty_choices(lang: str) -> list[tuple[str, str]]:
    return [(labels(lang)["adaptive"], "adaptive"), ("1", "1"), ("2", "2"), ("3", "3")]


def _mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(labels(lang)["practice"], "practice"), (labels(lang)["mock"], "mock")]


# --- adapters: a ChatView becomes the Interview tab's outputs -----------------------------------
def _outputs(view: ChatView, previous: str | None, *, fresh: bool = False) -> tuple[Any, ...]:
    """(session, chat, answer box, notice, grade card, reference). A view without a session
    (e.g. a bad setup) leaves the current conversation as it is."""
    if view.session_id is None:
        return previous, gr.update(), gr.update(), view.notice, gr.update(), gr.update()
    keep = gr.update()
    return (
        view.session_id,
        view.messages,
        "" if view.accepted else keep,
        view.notice,
        view.card if view.card or fresh else keep,
        view.reference if view.reference or fresh else keep,
    )


def _form(lang: str, topics: list[str] | None, difficulty: str, questions: float, mode: str, profile: str) -> SetupForm:
    return SetupForm(lang=lang, topics=topics or [], difficulty=difficulty, questions=int(questions), mode=mode,
                     profile=profile)


def start(session: str | None, lang: str, topics: list[str] | None, difficulty: str, questions: float, mode: str,
          profile: str) -> Iterator[tuple[Any, ...]]:
    app().forget(session)
    for view in app().start(_form(lang, topics, difficulty, questions, mode, profile)):
        yield _outputs(view, session, fresh=True)


def send(session: str | None, text: str, lang: str) -> Iterator[tuple[Any, ...]]:
    for view in app().send(session, text, lang):
        yield _outputs(view, session)


def hint(session: str | None, lang: str) -> Iterator[tuple[Any, ...]]:
    for view in app().act(session, "hint", lang):
        yield _outputs(view, session)


def skip(session: str | None, lang: str) -> Iterator[tuple[Any, ...]]:
    for view in app().act(session, "skip", lang):
        yield _outputs(view, session)


def end(session: str | None, lang: str) -> Iterator[tuple[Any, ...]]:
    for view in app().act(session, "end", lang):
        yield _outputs(view, session)


def retry(session: str | None, lang: str) -> Iterator[tuple[Any, ...]]:
    for view in app().retry(session, lang):
        yield _outputs(view, session)


def resume(session: str | None, chosen: str | None, lang: str) -> Iterator[tuple[Any, ...]]:
    if chosen != session:
        app().forget(session)
    for view in app().resume(chosen, lang):
        yield _outputs(view, session, fresh=True)


def practise_weak(session: str | None, lang: str, difficulty: str, questions: float, mode: str,
                  profile: str) -> Iterator[tuple[Any, ...]]:
    app().forget(session)
    for view in app().practise_weak(_form(lang, [], difficulty, questions, mode, profile)):
        yield _outputs(view, session, fresh=True)


def report(session: str | None, lang: str) -> tuple[Any, ...]:
    view = app().report(session, lang)
    return (
        view.markdown,
        _frame(view.per_topic, ["topic", "score"]),
        _frame(view.per_question, REPORT_COLUMNS, lang),
    )


def export(session: str | None, lang: str) -> Any:
    view = app().report(session, lang)
    return gr.update(value=view.export_path, visible=view.export_path is not None)


def history(profile: str, lang: str) -> tuple[Any, ...]:
    view = app().history(profile, lang)
    return (
        _frame(view.sessions, SESSION_COLUMNS, lang),
        gr.update(choices=view.unfinished, value=view.unfinished[0] if view.unfinished else None),
        _frame(view.progress, ["time", "topic", "score"]),
        _frame(view.weakest, WEAK_COLUMNS, lang),
        view.note,
    )


def ingest(files: list[str] | None, lang: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
    progress(0, desc="…")

    def advance(done: int, total: int, name: str) -> None:
        progress((done, total), desc=name)

    summary = app().ingest(files, lang, progress=advance)
    return _frame(summary.rows, INGEST_COLUMNS, lang), summary.message


def browse(topic: str | None, text: str, lang: str) -> pd.DataFrame:
    return _frame(app().browse_bank(topic or None, text, lang), BANK_COLUMNS, lang)


def search(query: str, lang: str) -> pd.DataFrame:
    return _frame(app().search(query), SEARCH_COLUMNS, lang)


def status(lang: str) -> tuple[str, Any]:
    view = app().status_view(lang)
    return view.line, gr.update(value=view.banner, visible=bool(view.banner))


def recheck(lang: str) -> tuple[str, Any]:
    app().refresh_status()
    return status(lang)


# --- the page ---------------------------------------------------------------------------------------
with gr.Blocks(title=L["title"]) as demo:
    session = gr.State(None, delete_callback=session_ended)
    with gr.Row():
        status_line = gr.Markdown(elem_id="status-line")
        recheck_btn = gr.Button(L["status_refresh"], size="sm", scale=0, min_width=160)
    banner = gr.Markdown(visible=False, elem_id="model-banner")

    with gr.Tabs():
        with gr.Tab(L["tab_interview"], id="interview") as tab_interview, gr.Row():
            with gr.Column(scale=1, min_width=260):
                lang = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label=L["lang"], elem_id="lang")
                topics = gr.Dropdown(topic_choices("zh"), multiselect=True, label=L["topics"], elem_id="topics")
                difficulty = gr.Radio(_difficulty_choices("zh"), value="adaptive", label=L["difficulty"])
                questions = gr.Slider(1, 10, value=3, step=1, label=L["questions"], elem_id="questions")
                mode = gr.Radio(_mode_choices("zh"), value="practice", label=L["mode"], elem_id="mode")
                profile = gr.Textbox("default", label=L["profile"], max_lines=1)
                start_btn = gr.Button(L["start"], variant="primary", elem_id="start")
            with gr.Column(scale=3):
                notice = gr.Markdown(elem_id="notice")
                chat = gr.Chatbot(label=L["chat"], show_label=False, height=420, elem_id="chat")
                answer = gr.Textbox(label=L["answer"], placeholder=L["answer_ph"], lines=4, elem_id="answer")
                with gr.Row():
                    send_btn = gr.Button(L["send"], variant="primary", elem_id="send")
                    hint_btn = gr.Button(L["hint"], elem_id="hint")
                    skip_btn = gr.Button(L["skip"], elem_id="skip")
                    end_btn = gr.Button(L["end"], variant="stop", elem_id="end")
                    retry_btn = gr.Button(L["retry"], size="sm", elem_id="retry")
                card = gr.Markdown(elem_id="grade-card", elem_classes="grade-card")
                with gr.Accordion(L["reference"], open=False, elem_id="reference") as reference_box:
                    reference = gr.Markdown(elem_id="reference-text")

        with gr.Tab(L["tab_report"], id="report") as tab_report:
            report_md = gr.Markdown(L["no_report"], elem_id="report")
            with gr.Row():
                topic_plot = gr.BarPlot(x="topic", y="score", y_lim=[0, 10], label=L["per_topic"],
                                        elem_id="topic-plot")
                question_table = gr.Dataframe(_frame([], REPORT_COLUMNS, "zh"), label=L["per_question"], wrap=True,
                                              column_widths=["8%", "22%", "55%", "15%"], elem_id="question-table")
            with gr.Row():
                export_btn = gr.Button(L["export"], elem_id="export")
                export_file = gr.File(label=L["export_file"], visible=False, elem_id="export-file")

        with gr.Tab(L["tab_history"], id="history") as tab_history:
            history_btn = gr.Button(L["refresh"], size="sm", elem_id="history-refresh")
            history_note = gr.Markdown()
            sessions_table = gr.Dataframe(_frame([], SESSION_COLUMNS, "zh"), label=L["sessions"], elem_id="sessions")
            with gr.Row():
                resume_pick = gr.Dropdown([], label=L["resume_pick"], elem_id="resume-pick")
                resume_btn = gr.Button(L["resume"], elem_id="resume")
            progress_plot = gr.LinePlot(x="time", y="score", color="topic", y_lim=[0, 10], label=L["progress"])
            with gr.Row():
                weak_table = gr.Dataframe(_frame([], WEAK_COLUMNS, "zh"), label=L["weak"], elem_id="weak")
                practise_btn = gr.Button(L["practise"], elem_id="practise")

        with gr.Tab(L["tab_knowledge"], id="knowledge") as tab_knowledge:
            with gr.Row():
                with gr.Column():
                    uploads = gr.File(label=L["upload"], file_count="multiple", file_types=[".txt", ".md", ".html"],
                                      type="filepath", elem_id="uploads")
                    ingest_btn = gr.Button(L["ingest"], variant="primary", elem_id="ingest")
                    ingest_msg = gr.Markdown(elem_id="ingest-message")
                    ingest_table = gr.Dataframe(_frame([], INGEST_COLUMNS, "zh"), label=L["ingest_result"],
                                                elem_id="ingest-table")
                with gr.Column():
                    search_box = gr.Textbox(label=L["search"], placeholder=L["search_ph"], elem_id="search")
                    search_btn = gr.Button(L["search_btn"])
                    search_table = gr.Dataframe(_frame([], SEARCH_COLUMNS, "zh"), label=L["search_result"], wrap=True,
                                                elem_id="search-table")
            with gr.Row():
                bank_topic = gr.Dropdown([("—", ""), *topic_choices("zh")], value="", label=L["bank_topic"])
                bank_filter = gr.Textbox(label=L["bank_filter"], max_lines=1)
            bank_table = gr.Dataframe(_frame([], BANK_COLUMNS, "zh"), label=L["bank"], wrap=True,
                                      column_widths=["28%", "17%", "8%", "47%"], elem_id="bank")

    # --- bindings -------------------------------------------------------------------------------
    chat_outputs = [session, chat, answer, notice, card, reference]
    report_outputs = [report_md, topic_plot, question_table]
    setup_inputs = [session, lang, topics, difficulty, questions, mode, profile]

    def _chat_event(trigger: Any, fn: Any, inputs: list[Any], name: str) -> None:
        trigger(fn, inputs, chat_outputs, api_name=name, concurrency_limit=CHAT_CONCURRENCY).then(
            report, [session, lang], report_outputs, api_name=f"{name}_report", api_visibility="private")

    tab_report.select(report, [session, lang], report_outputs, api_name="report")
    _chat_event(start_btn.click, start, setup_inputs, "start")
    _chat_event(send_btn.click, send, [session, answer, lang], "send")
    _chat_event(answer.submit, send, [session, answer, lang], "send_enter")
    _chat_event(hint_btn.click, hint, [session, lang], "hint")
    _chat_event(skip_btn.click, skip, [session, lang], "skip")
    _chat_event(end_btn.click, end, [session, lang], "end")
    _chat_event(retry_btn.click, retry, [session, lang], "retry")
    _chat_event(resume_btn.click, resume, [session, resume_pick, lang], "resume")
    _chat_event(practise_btn.click, practise_weak, [session, lang, difficulty, questions, mode, profile], "practise")

    export_btn.click(export, [session, lang], export_file, api_name="export")
    history_outputs = [sessions_table, resume_pick, progress_plot, weak_table, history_note]
    tab_history.select(history, [profile, lang], history_outputs, api_name="history")
    history_btn.click(history, [profile, lang], history_outputs, api_visibility="private")
    ingest_btn.click(ingest, [uploads, lang], [ingest_table, ingest_msg], api_name="ingest")
    search_btn.click(search, [search_box, lang], search_table, api_name="search")
    search_box.submit(search, [search_box, lang], search_table, api_visibility="private")
    for trigger in (bank_topic.change, bank_filter.submit, tab_knowledge.select):
        trigger(browse, [bank_topic, bank_filter, lang], bank_table, api_visibility="private")
    recheck_btn.click(recheck, lang, [status_line, banner], api_name="recheck")
    demo.load(status, lang, [status_line, banner], api_visibility="private")

    # Interface language follows the chosen interview language.
    relabel_targets: list[tuple[Any, str, str]] = [
        (tab_interview, "label", "tab_interview"), (tab_report, "label", "tab_report"),
        (tab_history, "label", "tab_history"), (tab_knowledge, "label", "tab_knowledge"),
        (topics, "label", "topics"), (difficulty, "label", "difficulty"), (questions, "label", "questions"),
        (mode, "label", "mode"), (profile, "label", "profile"), (start_btn, "value", "start"),
        (chat, "label", "chat"), (answer, "label", "answer"), (send_btn, "value", "send"), (hint_btn, "value", "hint"),
        (skip_btn, "value", "skip"), (end_btn, "value", "end"), (retry_btn, "value", "retry"),
        (reference_box, "label", "reference"), (topic_plot, "label", "per_topic"),
        (question_table, "label", "per_question"), (export_btn, "value", "export"), (history_btn, "value", "refresh"),
        (sessions_table, "label", "sessions"), (resume_pick, "label", "resume_pick"), (resume_btn, "value", "resume"),
        (progress_plot, "label", "progress"), (weak_table, "label", "weak"), (practise_btn, "value", "practise"),
        (uploads, "label", "upload"), (ingest_btn, "value", "ingest"), (ingest_table, "label", "ingest_result"),
        (search_box, "label", "search"), (search_btn, "value", "search_btn"), (bank_topic, "label", "bank_topic"),
        (bank_filter, "label", "bank_filter"), (bank_table, "label", "bank"), (recheck_btn, "value", "status_refresh"),
    ]

    def relabel(chosen: str) -> list[Any]:
        t = labels(chosen)
        updates = [gr.update(**{attr: t[key]}) for _, attr, key in relabel_targets]
        updates.append(gr.update(placeholder=t["answer_ph"]))
        updates.append(gr.update(choices=topic_choices("zh" if chosen == "zh" else "en")))
        updates.append(gr.update(choices=_difficulty_choices(chosen)))
        updates.append(gr.update(choices=_mode_choices(chosen)))
        return updates

    lang.change(relabel, lang, [c for c, _, _ in relabel_targets] + [answer, topics, difficulty, mode],
                api_visibility="private").then(status, lang, [status_line, banner], api_visibility="private")


def _stop_on_sigterm() -> None:
    # `kill PID` unwinds like Ctrl-C, so exit handlers run (the embedded model server is released).
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(host: str | None = None, port: int | None = None) -> None:
    """Build the shared app (starting the model when it is the embedded one), check it, serve."""
    _stop_on_sigterm()
    web = app()
    web.refresh_status()
    settings = web.settings
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY).launch(
        server_name=host or settings.host, server_port=port if port is not None else settings.port,
        theme=THEME, css=CSS, max_file_size="20mb",
    )


if __name__ == "__main__":
    from interviewer.errors import InterviewerError

    try:
        main()
    except InterviewerError as exc:  # e.g. a bad setting: say which, without a traceback
        raise SystemExit(f"error: {exc}") from exc
