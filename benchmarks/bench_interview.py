"""Interview speed with the real model: a scripted 5-question interview, timed turn by turn.

Usage: python benchmarks/bench_interview.py [--mode practice|mock] [--lang zh|en] [--questions 5]
       [--think SECONDS] [--data-dir DIR]

For every candidate message it records the time from submit to the first interviewer event
(a streamed token or a whole message), to the grade (practice mode), and to the end of the turn;
then the whole session's wall time and tokens, split into grading and the rest. Answers are a fixed
mix of strong, partial and empty replies written here, so runs are comparable. `--think` waits
before each answer, as a candidate reads and types (the interview primes the grading prompt in
that time); `--think 0` shows the cost when answers arrive instantly. Uses whatever model
the settings select (the embedded 1.5B when nothing is configured)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from interviewer.config import load_settings
from interviewer.interview import Interview
from interviewer.sessions import InterviewSetup
from interviewer.wiring import build_deps

ANSWERS = {
    "zh": [
        "这个问题的核心是偏差和方差的权衡：模型太简单欠拟合，太复杂过拟合，要用验证集、正则化和更多数据来控制。",
        "我记得和梯度有关，但具体细节不太清楚。",
        "跳过",
        "可以从数据、模型结构和训练策略三个方面回答：数据增强、合适的初始化与归一化、学习率调度和早停。",
        "不知道",
    ],
    "en": [
        "The core is the bias-variance trade-off: too simple underfits, too complex overfits; use validation data, regularisation and more data.",
        "I think it is related to gradients but I am not sure about the details.",
        "skip",
        "Look at data, architecture and training: augmentation, good initialisation and normalisation, a learning-rate schedule and early stopping.",
        "I don't know",
    ],
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-interview-"))
    settings = load_settings(data_dir=data_dir)
    started = time.perf_counter()
    deps, status = build_deps(settings)
    setup_seconds = time.perf_counter() - started
    if status.problem:
        raise SystemExit(f"model unavailable: {status.problem}")
    interview, events = Interview.start(
        deps, InterviewSetup(lang=args.lang, questions=args.questions, mode=args.mode, profile="bench")
    )
    list(events)
    answers = iter(ANSWERS[args.lang] * 4)
    turns = []
    session_start = time.perf_counter()
    while not interview.finished:
        answer = next(answers, None)
        if answer is None:
            break
        time.sleep(args.think)
        sent = time.perf_counter()
        first = grade_at = None
        for event in interview.send(answer):
            now = time.perf_counter() - sent
            if first is None and event["type"] in ("token", "message"):
                first = now
            if event["type"] == "grade" and grade_at is None:
                grade_at = now
        turns.append({"answer": answer[:20], "first_event": first, "grade": grade_at,
                      "turn": time.perf_counter() - sent})
    wall = time.perf_counter() - session_start
    record = interview.record
    grading = [q.grade for q in record.questions if q.grade] + [
        f.grade for q in record.questions for f in q.follow_ups if f.grade
    ]
    firsts = [t["first_event"] for t in turns if t["first_event"] is not None]
    grades = [t["grade"] for t in turns if t["grade"] is not None]
    return {
        "model": deps.model and getattr(deps.model, "model_name", ""),
        "mode": args.mode, "lang": args.lang, "think_seconds": args.think, "questions": len(record.questions), "turns": len(turns),
        "status": record.status, "setup_seconds": round(setup_seconds, 1), "wall_seconds": round(wall, 1),
        "first_event_p50": round(statistics.median(firsts), 2) if firsts else None,
        "first_event_p95": round(_percentile(firsts, 0.95), 2) if firsts else None,
        "grade_p50": round(statistics.median(grades), 2) if grades else None,
        "grade_p95": round(_percentile(grades, 0.95), 2) if grades else None,
        "grading_seconds": round(sum(g.latency for g in grading), 1),
        "tokens": record.report.usage.model_dump() if record.report else None,
        "grader_kinds": sorted({g.grader for g in grading}),
        "turn_detail": turns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["practice", "mock"], default="practice")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--think", type=float, default=10.0, help="seconds before each answer")
    parser.add_argument("--data-dir")
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
