"""The eval harness: dataset checks, outputs, cache, resume after SIGKILL, Ctrl-C, compare."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.compare import compare_runs
from evals.dataset import EvalRow, load_dataset, select_rows
from evals.predictions import read_predictions
from evals.runner import RunOptions, run_eval
from interviewer.cli import app
from interviewer.config import Settings, load_settings
from interviewer.errors import ConfigError, DatasetError
from interviewer.grader import Grade

TESTS = Path(__file__).resolve().parent
FAKE = "test_eval_runner:fake_grader"  # importable by the subprocesses too (tests/ on PYTHONPATH)


# --- a scripted grader, selectable by name in this process and in `python -m evals` subprocesses ---
class FakeGrader:
    """Scores from the answer's length; env vars make it slow (EVAL_FAKE_SLEEP), log each finished
    grade (EVAL_FAKE_LOG), fail once on answers containing FAIL_ONCE, or be constant."""

    name = "fake"

    def identity(self) -> dict[str, str]:
        return {"grader": "fake", "model": "", "prompt_version": "fake-1", "params": ""}

    def grade(self, row: EvalRow) -> Grade:
        time.sleep(float(os.environ.get("EVAL_FAKE_SLEEP", "0")))
        marker = Path(os.environ.get("EVAL_FAKE_LOG", "fake.log") + ".failed")
        if "FAIL_ONCE" in row.answer and not marker.exists():
            marker.touch()
            raise RuntimeError("endpoint hiccup")
        if log := os.environ.get("EVAL_FAKE_LOG"):
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(row.id + "\n")
        fraction = 0.5 if os.environ.get("EVAL_FAKE_CONSTANT") else (len(row.answer) % 11) / 10
        return Grade(status="graded", score=fraction * row.score_max, score_max=row.score_max, grader="fake")


def fake_grader(settings: Settings) -> FakeGrader:
    return FakeGrader()


LANES: list[tuple[str, str, str]] = []  # (thread, qid, row id) of each grade, for the lane test


class LaneRecordingGrader(FakeGrader):
    def grade(self, row: EvalRow) -> Grade:
        time.sleep(0.01)  # long enough that both lanes are busy at once
        LANES.append((threading.current_thread().name, row.qid, row.id))
        return super().grade(row)


def lane_grader(settings: Settings) -> LaneRecordingGrader:
    return LaneRecordingGrader()


# --- fixtures ------------------------------------------------------------------------------------
QUESTIONS = {
    "q1": ("What does dropout do?", "Dropout randomly zeroes units during training to stop co-adaptation."),
    "q2": ("Why normalise inputs?", "Normalising inputs puts features on one scale so gradient descent converges faster."),
    "q3": ("过拟合是什么？", "过拟合指模型在训练集上表现很好，但在新数据上表现差，因为它记住了噪声。"),
}
ANSWERS = [
    ("q1", "Dropout randomly zeroes units during training so they cannot co-adapt.", 1.0),
    ("q1", "It zeroes some units.", 0.5),
    ("q1", "<script>alert('x')</script> dropout is good", 1.0),
    ("q1", "No idea.", 0.0),
    ("q2", "Features end up on one scale, so gradient descent converges faster.", 10.0),
    ("q2", "It helps training FAIL_ONCE.", 6.0),
    ("q2", "Because of the GPU.", 0.0),
    ("q2", "Same scale for features.", 7.0),
    ("q3", "模型在训练集上很好，在新数据上差，记住了噪声。", 1.0),
    ("q3", "训练集好，测试集差。", 0.6),
    ("q3", "模型太小。", 0.0),
    ("q3", "记住了噪声。", 0.4),
]


def _row(index: int, qid: str, answer: str, score: float) -> dict[str, object]:
    question, reference = QUESTIONS[qid]
    return {"id": f"r{index:02d}", "qid": qid, "question": question, "reference": reference, "answer": answer,
            "score": score, "score_max": 10.0 if qid == "q2" else 1.0, "scores": [score],
            "lang": "zh" if qid == "q3" else "en"}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    # interleaved questions, so the grouping by question is visible in the output order
    order = [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    path = tmp_path / "tiny.jsonl"
    lines = [json.dumps(_row(i, *ANSWERS[i]), ensure_ascii=False) for i in order]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fake_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "graded.log"
    monkeypatch.setenv("EVAL_FAKE_LOG", str(log))
    monkeypatch.syspath_prepend(str(TESTS))
    return log


def _graded_ids(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split() if log.exists() else []


def _ids_in(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


# --- dataset --------------------------------------------------------------------------------------
def test_bad_lines_are_reported_by_number_and_skipped(tmp_path: Path) -> None:
    good = json.dumps(_row(0, *ANSWERS[0]))
    missing = json.dumps({k: v for k, v in _row(1, *ANSWERS[1]).items() if k != "reference"})
    too_high = json.dumps({**_row(2, *ANSWERS[2]), "score": 3.0})
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([
        good.encode(), b'{"id": "x", "qid": ', missing.encode(), too_high.encode(),
        '{"id": "caf\u00e9"}'.encode("latin-1"), b"", json.dumps(_row(3, *ANSWERS[3])).encode(), good.encode(),
    ]))
    loaded = load_dataset(path)
    assert [row.id for row in loaded.rows] == ["r00", "r03"]
    reasons = {p.line: p.reason for p in loaded.problems}
    assert sorted(reasons) == [2, 3, 4, 5, 8]
    assert "invalid JSON" in reasons[2]
    assert "missing field reference" in reasons[3]
    assert "above score_max" in reasons[4]
    assert "not UTF-8" in reasons[5]
    assert "duplicate id" in reasons[8]


def test_missing_or_unusable_dataset_raises_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "nope.jsonl")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"no valid row.*line 1"):
        load_dataset(junk)


def test_rows_are_grouped_by_question_and_samples_are_reproducible(dataset: Path) -> None:
    rows = load_dataset(dataset).rows
    assert [r.qid for r in select_rows(rows)] == ["q1"] * 4 + ["q2"] * 4 + ["q3"] * 4
    first = [r.id for r in select_rows(rows, sample=5, seed=3)]
    assert first == [r.id for r in select_rows(rows, sample=5, seed=3)] and len(first) == 5
    assert [r.id for r in select_rows(rows, limit=2)] == ["r00", "r04"]


# --- a run and its outputs ----------------------------------------------------------------------
def test_similarity_run_writes_predictions_metrics_reports_and_settings(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["eval", str(dataset), "--grader", "similarity", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert _ids_in(out) == [r.id for r in select_rows(load_dataset(dataset).rows)]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    for key in ("n", "graded", "ungraded", "pearson", "spearman", "qwk", "mae", "rmse", "exact", "within_one",
                "spearman_within_question", "pearson_ci95", "qwk_ci95", "human", "seconds_per_item_p50",
                "seconds_per_item_p95", "items_per_minute", "tokens_per_item_mean", "baseline"):
        assert key in metrics, key
    assert metrics["n"] == metrics["graded"] == 12 and metrics["human"] is None
    assert metrics["baseline"]["n"] == 12 and metrics["baseline"]["pearson"] is not None
    settings = json.loads((out / "settings.json").read_text(encoding="utf-8"))
    assert settings["dataset"]["sha256"] == load_dataset(dataset).sha256
    assert settings["prompt_version"].startswith("similarity-")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert "Worst disagreements" in (out / "report.md").read_text(encoding="utf-8")


def test_constant_predictions_give_null_correlation(dataset: Path, fake_log: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVAL_FAKE_CONSTANT", "1")
    (dataset.parent / "graded.log.failed").touch()  # no failing row here
    metrics = run_eval(dataset, RunOptions(grader=FAKE), load_settings()).metrics
    assert metrics["pearson"] is None and metrics["qwk"] == pytest.approx(0.0)


def test_finished_rows_come_from_the_cache_in_a_new_run(dataset: Path, fake_log: Path, tmp_path: Path) -> None:
    first = run_eval(dataset, RunOptions(grader=FAKE, out=tmp_path / "a"), load_settings())
    assert first.errors == 1 and first.graded_now == 11  # the FAIL_ONCE row failed
    second = run_eval(dataset, RunOptions(grader=FAKE, out=tmp_path / "b", concurrency=3), load_settings())
    assert second.cache_hits == 11 and second.graded_now == 1 and second.errors == 0
    assert sorted(_graded_ids(fake_log)) == sorted(r.id for r in load_dataset(dataset).rows)  # each once
    records = read_predictions(tmp_path / "b" / "predictions.jsonl")
    assert sum(r.cached for r in records) == 11 and len(records) == 12


def test_each_question_is_graded_on_one_lane_in_file_order(dataset: Path, fake_log: Path) -> None:
    # The model server caches a prompt prefix per slot: a question's rows must not be spread
    # over lanes, or each lane pays for the uncached prefix.
    (dataset.parent / "graded.log.failed").touch()  # no failing row here
    LANES.clear()
    result = run_eval(dataset, RunOptions(grader="test_eval_runner:lane_grader", concurrency=2), load_settings())
    assert result.graded_now == 12
    lanes_of: dict[str, set[str]] = {}
    for thread, qid, _ in LANES:
        lanes_of.setdefault(qid, set()).add(thread)
    assert all(len(threads) == 1 for threads in lanes_of.values()), lanes_of
    assert len({thread for thread, _, _ in LANES}) == 2  # both lanes worked
    file_order = [row.id for row in load_dataset(dataset).rows]
    for qid in lanes_of:
        graded = [row_id for _, q, row_id in LANES if q == qid]
        assert graded == [row_id for row_id in file_order if row_id in set(graded)]


def test_failed_row_is_recorded_then_retried_in_the_same_dir(dataset: Path, fake_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = run_eval(dataset, RunOptions(grader=FAKE, out=out), load_settings())
    failed = [r for r in read_predictions(out / "predictions.jsonl") if r.status == "error"]
    assert [r.error for r in failed] == ["RuntimeError: endpoint hiccup"]
    assert first.metrics["ungraded"] == 1 and first.metrics["errors"] == 1
    again = run_eval(dataset, RunOptions(grader=FAKE, out=out), load_settings())
    assert again.resumed == 11 and again.graded_now == 1 and again.metrics["graded"] == 12
    assert sorted(_ids_in(out)) == sorted(r.id for r in load_dataset(dataset).rows)


def test_an_output_dir_of_another_grader_is_refused(dataset: Path, fake_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_eval(dataset, RunOptions(grader="similarity", out=out, baseline=False), load_settings())
    with pytest.raises(ConfigError, match="another dataset or grader"):
        run_eval(dataset, RunOptions(grader=FAKE, out=out), load_settings())


def test_unknown_grader_names_the_choices(dataset: Path) -> None:
    with pytest.raises(ConfigError, match="similarity"):
        run_eval(dataset, RunOptions(grader="nonsense"), load_settings())


# --- kill and interrupt (real subprocesses of `python -m evals`) --------------------------------------
def _start(dataset: Path, out: Path, log: Path, sleep: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(TESTS), "EVAL_FAKE_LOG": str(log), "EVAL_FAKE_SLEEP": sleep}
    return subprocess.Popen(
        [sys.executable, "-m", "evals", str(dataset), "--grader", FAKE, "--out", str(out), "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # Ctrl-C as in a terminal, even when the test run itself was started in the background
        # (a shell starts background jobs with SIGINT ignored, and children inherit that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_lines(out: Path, count: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    path = out / "predictions.jsonl"
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_bytes().splitlines()) >= count:
            return
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the run did not get going")


def test_sigkill_mid_run_then_rerun_loses_nothing_and_regrades_nothing(dataset: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "run", tmp_path / "graded.log"
    (tmp_path / "graded.log.failed").touch()  # no failing row in this test
    process = _start(dataset, out, log, sleep="0.3")
    _wait_for_lines(out, 4, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = _ids_in(out)
    assert 4 <= len(before) < 12
    with (out / "predictions.jsonl").open("ab") as handle:  # and a torn last line, as if killed mid-write
        handle.write(b'{"id": "r0')
    rerun = _start(dataset, out, log, sleep="0")
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr.decode()
    assert json.loads(stdout)["resumed"] == len(before)
    after = _ids_in(out)
    assert sorted(after) == sorted(r.id for r in load_dataset(dataset).rows)  # every row exactly once
    graded = _graded_ids(log)
    assert all(graded.count(i) == 1 for i in before)  # rows finished before the kill were not regraded


def test_ctrl_c_stops_cleanly_with_finished_rows_written(dataset: Path, tmp_path: Path) -> None:
    out, log = tmp_path / "run", tmp_path / "graded.log"
    (tmp_path / "graded.log.failed").touch()
    process = _start(dataset, out, log, sleep="0.3")
    _wait_for_lines(out, 3, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["interrupted"] is True
    assert metrics["graded"] == len(_ids_in(out)) < 12
    assert (out / "report.html").exists()


# --- compare --------------------------------------------------------------------------------------
def test_compare_shows_differences_overlap_and_disagreements(dataset: Path, fake_log: Path, tmp_path: Path) -> None:
    (tmp_path / "graded.log.failed").touch()
    a, b = tmp_path / "a", tmp_path / "b"
    run_a = run_eval(dataset, RunOptions(grader="similarity", out=a), load_settings())
    run_b = run_eval(dataset, RunOptions(grader=FAKE, out=b), load_settings())
    comparison = compare_runs(a, b, top=3)
    assert comparison.same_dataset and comparison.shared_rows == 12
    pearson = next(m for m in comparison.metrics if m.metric == "pearson")
    assert pearson.diff == pytest.approx(run_b.metrics["pearson"] - run_a.metrics["pearson"])
    assert pearson.ci_overlap is not None
    gaps = [abs(r.a - r.b) for r in comparison.disagreements]
    assert len(gaps) == 3 and gaps == sorted(gaps, reverse=True)
    printed = CliRunner().invoke(app, ["eval", "compare", str(a), str(b)])
    assert printed.exit_code == 0 and "B - A" in printed.output and "pearson" in printed.output
    missing = CliRunner().invoke(app, ["eval", "compare", str(a), str(tmp_path / "none")])
    assert missing.exit_code == 1


# --- integration: the real LLM grader on the embedded 0.5B model -------------------------------------
def _llm_grader_available() -> bool:
    import interviewer.grader
    import interviewer.llm

    return hasattr(interviewer.grader, "grade") and hasattr(interviewer.llm, "build_chat_model")


@pytest.mark.integration
@pytest.mark.skipif(not _llm_grader_available(), reason="interviewer.grader.grade / llm.build_chat_model missing")
def test_llm_grader_on_the_embedded_small_model_over_ten_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 0.5B is for plumbing only (its judgement is at chance): this checks the whole path.
    from conftest import DATASETS

    monkeypatch.setenv("INTERVIEWER_LOCAL_MODEL", "0.5b")
    out = tmp_path / "run"
    result = run_eval(DATASETS / "saf_en" / "sample.jsonl", RunOptions(grader="llm", limit=10, out=out),
                      load_settings())
    records = read_predictions(out / "predictions.jsonl")
    assert len(records) == 10 and result.metrics["n"] == 10
    graded = [r for r in records if r.status == "graded"]
    assert graded, [r.error for r in records]
    assert all(0 <= (r.predicted_norm or 0) <= 1 for r in graded)
    assert result.metrics["tokens_per_item_mean"] > 0 and result.metrics["seconds_per_item_p50"] > 0
    settings = json.loads((out / "settings.json").read_text(encoding="utf-8"))
    assert settings["model"].startswith("embedded:0.5b") and settings["prompt_version"]
    again = run_eval(DATASETS / "saf_en" / "sample.jsonl", RunOptions(grader="llm", limit=10), load_settings())
    assert again.cache_hits == len(graded) and again.graded_now == 10 - len(graded)
