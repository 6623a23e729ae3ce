"""A whole interview through `interviewer chat`, answers piped on stdin, against the real embedded 0.5B.

The 0.5B's judgement is no better than chance (DESIGN.md), so this checks the plumbing: the server
starts by itself, every answer is saved and graded by the model, the session finishes with a report,
and the server is gone afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interviewer.local_model import ServerPaths, pid_alive, read_state
from interviewer.sessions import SessionStore

pytestmark = pytest.mark.integration

ANSWERS = [
    "Dropout 在训练时随机把一部分神经元的输出置零，防止神经元之间的共适应，推理时关闭并按比例缩放。",
    "我不太确定，可能和学习率有关。",
    "提示",
    "它可以看作很多子网络的集成。",
    "BatchNorm 对每个 mini-batch 做标准化，再用可学习的缩放和平移参数恢复表达能力。",
    "不知道",
    "梯度消失是因为链式法则里很多小于 1 的导数连乘。",
    "用 ReLU、残差连接和合适的初始化。",
    "跳过",
    "结束面试",
]


def test_three_question_interview_with_the_real_small_model(isolated_env: Path, small_model_path: Path) -> None:
    env = os.environ | {
        "INTERVIEWER_DATA_DIR": str(isolated_env),
        "INTERVIEWER_MODEL_PATH": str(small_model_path),
        "INTERVIEWER_MODEL_CTX": "4096",
    }
    done = subprocess.run(
        [sys.executable, "-m", "interviewer.cli", "chat", "--lang", "zh", "-n", "3", "--json"],
        input="\n".join(ANSWERS) + "\n", capture_output=True, text=True, env=env, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads(done.stdout[done.stdout.index("{"):])
    assert record["status"] == "finished"
    assert len(record["questions"]) == 3

    typed = [t["text"] for t in record["transcript"] if t["role"] == "candidate"]
    assert typed == ANSWERS[: len(typed)], "every answer is saved, in order"
    graded = [q["grade"] for q in record["questions"] if q["answer"]]
    assert graded and all(g["status"] == "graded" for g in graded)
    assert any(g["grader"] == "llm" and g["model"] for g in graded), "the model, not the fallback, graded"
    assert record["report"]["markdown"].startswith("# 面试报告")
    assert len(record["report"]["per_question"]) == 3

    saved = SessionStore(isolated_env / "sessions.sqlite").load(record["id"])
    assert saved.status == "finished" and saved.report is not None
    state = read_state(ServerPaths(isolated_env))
    deadline = time.monotonic() + 20  # the server notices within ~1 s that its last app is gone
    while state is not None and pid_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state is None or not pid_alive(state.pid), "the embedded server stopped with the app"
