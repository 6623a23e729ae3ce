"""Benchmark the web UI: page load, time to the interviewer's first words after an answer, and many
concurrent sessions through `gradio_client`.

    python benchmarks/bench_ui.py page                 # page load in chromium (offline model path)
    python benchmarks/bench_ui.py concurrent -n 20     # 20 sessions at once, offline grading
    python benchmarks/bench_ui.py first-words          # embedded model (INTERVIEWER_LOCAL_MODEL, default 1.5b)

Each run starts its own `python ui.py` with a fresh data dir in a temp folder and stops it by PID.
Prints one JSON object; the figures go to BENCHMARKS.md ("Web UI")."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the app-process helper shared with the UI's tests

from ui_process import free_port, running_app  # noqa: E402

from interviewer.sessions import SessionStore  # noqa: E402
from interviewer.webapp import LABELS  # noqa: E402

BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage"]
ANSWERS = {
    "zh": ["它的核心思想是减少模型方差：训练时加入约束或噪声，让模型不过度依赖少数特征，从而提升泛化。",
           "我不太确定，但我认为关键在于梯度的稳定性，以及学习率和批大小之间的配合。",
           "可以从偏差和方差两方面解释：模型越复杂方差越大，需要更多数据或正则化。"],
    "en": ["The core idea is to reduce variance: add a constraint or noise during training so the model does "
           "not rely on a few features, which improves generalisation.",
           "I am not sure, but I think it is about keeping gradients stable and matching the learning rate "
           "to the batch size.",
           "In terms of bias and variance: a more complex model has higher variance and needs more data."],
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def texts(chat: list[dict[str, Any]], role: str) -> list[str]:
    out = []
    for message in chat:
        if message["role"] == role:
            content = message["content"]
            parts = content if isinstance(content, list) else [{"text": content}]
            out.append("".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)))
    return out


# --- page load ------------------------------------------------------------------------------------
def bench_page(loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dead = f"http://127.0.0.1:{free_port()}/v1"
        with running_app(work, work / "data", OPENAI_BASE_URL=dead) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            load, ready = [], []
            for _ in range(loads + 1):  # the first load warms the server's caches and is not counted
                page = browser.new_page()
                started = time.perf_counter()
                page.goto(url, wait_until="load")
                loaded = time.perf_counter() - started
                page.wait_for_selector("#start", state="visible")
                page.wait_for_function("document.querySelector('#status-line').innerText.length > 0")
                load.append(loaded)
                ready.append(time.perf_counter() - started)
                page.close()
            browser.close()
    return {"bench": "page", "loads": loads, "load_event_p50_s": pct(load[1:], 0.5),
            "load_event_max_s": round(max(load[1:]), 3), "interactive_p50_s": pct(ready[1:], 0.5),
            "interactive_max_s": round(max(ready[1:]), 3), "first_load_s": round(ready[0], 3),
            "loadavg_after": load_average()}


# --- concurrent sessions --------------------------------------------------------------------------
def one_session(url: str, name: str, lang: str, max_turns: int = 10) -> dict[str, Any]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    latencies = []
    started = time.perf_counter()
    chat, *_ = client.predict(lang, [], "adaptive", 2, "practice", name, api_name="/start")
    latencies.append(time.perf_counter() - started)
    turn = 0
    while LABELS[lang]["report_ready"] not in texts(chat, "assistant"):
        turn += 1
        if turn > max_turns:
            raise RuntimeError(f"{name} did not finish in {max_turns} answers")
        answer = f"[{name}] {ANSWERS[lang][turn % len(ANSWERS[lang])]}"
        began = time.perf_counter()
        chat, *_ = client.predict(answer, lang, api_name="/send")
        latencies.append(time.perf_counter() - began)
    client.close()
    return {"name": name, "lang": lang, "latencies": latencies, "said": texts(chat, "user"),
            "seconds": time.perf_counter() - started}


def bench_concurrent(sessions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        dead = f"http://127.0.0.1:{free_port()}/v1"
        with running_app(work, data, OPENAI_BASE_URL=dead) as url:
            one_session(url, "warmup", "en")  # loads jieba and the similarity grader once
            names = [f"c{i:02d}" for i in range(sessions)]
            started = time.perf_counter()
            with ThreadPoolExecutor(sessions) as pool:
                results = list(pool.map(lambda n: one_session(url, n, "zh" if int(n[1:]) % 2 else "en"), names))
            wall = time.perf_counter() - started
        store = SessionStore(data / "sessions.sqlite")
        cross_talk = 0
        for r in results:
            records = store.list_records(profile=r["name"])
            saved = [t.text for t in records[0].transcript if t.role == "candidate"] if len(records) == 1 else []
            ok = (len(records) == 1 and records[0].status == "finished" and saved == r["said"]
                  and all(f"[{r['name']}]" in s for s in r["said"]))
            cross_talk += not ok
        store.close()
    turns = [x for r in results for x in r["latencies"]]
    return {"bench": "concurrent", "sessions": sessions, "finished": len(results), "sessions_with_problems": cross_talk,
            "turns": len(turns), "turn_p50_s": pct(turns, 0.5), "turn_p95_s": pct(turns, 0.95),
            "turn_max_s": round(max(turns), 3), "session_p50_s": pct([r["seconds"] for r in results], 0.5),
            "wall_s": round(wall, 2), "loadavg_after": load_average()}


# --- first words after an answer with the embedded model ------------------------------------------
def first_words(url: str, mode: str, answers: int) -> list[dict[str, float]]:
    """Per answer: seconds from submit to the first interviewer text of the reply, and to the next
    question / follow-up (in practice mode the grade comes first)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    rows = []
    chat, *_ = client.predict("zh", [], "adaptive", answers + 1, mode, f"bench-{mode}", api_name="/start")
    for turn in range(answers):
        if LABELS["zh"]["report_ready"] in texts(chat, "assistant"):
            break
        before = len(chat)
        began = time.perf_counter()
        job = client.submit(ANSWERS["zh"][turn % 3], "zh", api_name="/send")
        first = question = None
        for output in job:
            chat = output[0]
            replies = [m for m in chat[before + 1:] if m["role"] == "assistant"]
            now = time.perf_counter() - began
            if replies and first is None:
                first = now
            if question is None and any(("题" in t and "/" in t) or t.startswith("追问") or "深入" in t
                                        for t in texts(replies, "assistant")):
                question = now
        chat = job.outputs()[-1][0]
        rows.append({"first_words_s": round(first or float("nan"), 3),
                     "question_s": round(question or float("nan"), 3),
                     "total_s": round(time.perf_counter() - began, 3)})
    client.close()
    return rows


def bench_first_words(answers: int) -> dict[str, Any]:
    model = os.environ.get("INTERVIEWER_LOCAL_MODEL", "1.5b")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        before = load_average()
        with running_app(work, work / "data", INTERVIEWER_LOCAL_MODEL=model) as url:
            results = {mode: first_words(url, mode, answers) for mode in ("practice", "mock")}
    summary: dict[str, Any] = {"bench": "first-words", "model": model, "loadavg_before": before,
                               "loadavg_after": load_average()}
    for mode, rows in results.items():
        for key in ("first_words_s", "question_s"):
            values = [r[key] for r in rows if r[key] == r[key]]
            summary[f"{mode}_{key}_p50"] = pct(values, 0.5) if values else None
        summary[f"{mode}_rows"] = rows
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", required=True)
    sub.add_parser("page").add_argument("--loads", type=int, default=5)
    sub.add_parser("concurrent").add_argument("-n", "--sessions", type=int, default=20)
    sub.add_parser("first-words").add_argument("--answers", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if args.bench == "page":
        result = bench_page(args.loads)
    elif args.bench == "concurrent":
        result = bench_concurrent(args.sessions)
    else:
        result = bench_first_words(args.answers)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
