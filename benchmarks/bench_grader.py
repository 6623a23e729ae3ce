"""Grader benchmark: collect per-row features with the real model, fit the score blend with
cross-validation grouped by question, and print accuracy / speed / tokens.

    # 1. grade a subset with the embedded (or a configured) model, one JSON line per row
    python benchmarks/bench_grader.py collect ../shared/datasets/le_zh/le_zh.jsonl --sample 80 --out /tmp/le.jsonl
    # 2. fit prompts/grade_weights.json on collected rows (grouped 5-fold CV figures printed)
    python benchmarks/bench_grader.py fit /tmp/le.jsonl /tmp/saf.jsonl --write
    # 3. accuracy of the committed weights on collected rows, next to the similarity baseline
    python benchmarks/bench_grader.py report /tmp/le.jsonl

The blend is fitted only on ../shared/datasets and our gold set (evals/gold), never on rows
reported as held-out without saying so: `fit` prints grouped-CV figures, `report` in-sample ones."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout; the package itself is installed

from evals.metrics import pearson, qwk  # noqa: E402
from interviewer.grader import (  # noqa: E402
    PROMPT_VERSION,
    WEIGHTS_PATH,
    Blend,
    Weights,
    grade,
)

SIGNALS = ("char_cosine", "token_recall", "token_precision", "bm25", "log_length_ratio", "keypoint_coverage")
# The model's two judgements, as expected values under its token probabilities (the weighted
# key-point codes and the overall rating), plus the no-LLM `similarity` grader's score: one
# input that sums up the lexical signals with parameters fitted on thousands of rows, where the
# raw signals refitted on these 140 rows added nothing in grouped CV (2026-11-23). `fit` prints
# the blend with and without `similarity` for the record.
MODEL_FEATURES = ("verdicts", "overall")
LLM_FEATURES = ("verdicts", "overall", "similarity")


def _rows(path: Path, sample: int | None, seed: int, questions: int | None = None, per_question: int = 5) -> list[dict]:
    """--sample N: N random rows. --questions Q: Q random questions with at least `per_question`
    answers, `per_question` random answers each (answers to one question in a row reuse the
    model server's cached prompt prefix, so this is the cheaper way to a subset)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    if questions:
        by_question: dict[str, list[dict]] = {}
        for row in rows:
            by_question.setdefault(str(row["qid"]), []).append(row)
        eligible = sorted(q for q, answers in by_question.items() if len(answers) >= per_question)
        rows = [row for q in rng.sample(eligible, min(questions, len(eligible)))
                for row in rng.sample(by_question[q], per_question)]
    elif sample and sample < len(rows):
        rows = rng.sample(rows, sample)
    return sorted(rows, key=lambda r: (str(r["qid"]), r["id"]))  # same question in a row: prefix cache


def _model(base_url: str | None):  # type: ignore[no-untyped-def]
    from interviewer.config import load_settings

    settings = load_settings(**({"openai_base_url": base_url} if base_url else {}))
    try:
        from interviewer.llm import build_chat_model  # type: ignore[attr-defined]
    except ImportError:  # until the model layer lands: a plain client on the given server
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=base_url, api_key="none", model="local", temperature=0, max_retries=0)
    return build_chat_model(settings)


def collect(args: argparse.Namespace) -> None:
    model = _model(args.base_url)
    rows = _rows(Path(args.dataset), args.sample, args.seed, args.questions, args.per_question)
    if args.reverse:  # a second collector can start from the other end of the same sample
        rows.reverse()
    done = set()
    out = Path(args.out)
    if out.exists():  # resume: a killed run keeps what it wrote
        done = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines() if line.strip()}
    with out.open("a", encoding="utf-8") as sink:
        for row in rows:
            if row["id"] in done:
                continue
            result = grade(row["question"], row["answer"], references=[row["reference"]],
                           score_max=row["score_max"], model=model, lang=row.get("lang"),
                           key_point_method=args.key_points)
            features = {**result.signals, "verdicts": result.model_score, "overall": result.overall}
            sink.write(json.dumps({
                "id": row["id"], "qid": row["qid"], "lang": row.get("lang"),
                "gold": row["score"] / row["score_max"], "pred": result.normalized, "status": result.status,
                "features": features, "flags": result.flags, "latency": result.latency,
                "usage": result.usage.model_dump(), "error": result.error,
                "codes": [v.verdict for v in result.verdicts], "prompt_version": PROMPT_VERSION,
            }, ensure_ascii=False) + "\n")
            sink.flush()
            print(f"{row['id']}: gold {row['score'] / row['score_max']:.2f} pred {result.normalized} "
                  f"{result.latency:.2f}s {result.usage.total} tok", flush=True)


def _read(paths: list[str]) -> list[dict]:
    """Collected rows; files collected before `similarity` was a signal hold its inputs, so it is
    computed for them here."""
    from interviewer import similarity

    rows = [json.loads(line) for p in paths for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        if r["status"] == "graded" and "char_cosine" in r["features"]:
            r["features"].setdefault("similarity", similarity.predict(r["features"], r["lang"]))
    return rows


def _load(paths: list[str]) -> list[dict]:
    return [r for r in _read(paths) if r["status"] == "graded" and r["features"].get("verdicts") is not None]


def _matrix(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[float(r["features"].get(n) or 0.0) for n in names] for r in rows])


def _fit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Blend:
    from sklearn.linear_model import Ridge

    # Ridge, not plain least squares: a few hundred rows and correlated overlap signals.
    reg = Ridge(alpha=1.0).fit(x, y)
    return Blend(intercept=float(reg.intercept_), coef={n: float(c) for n, c in zip(names, reg.coef_, strict=True)})


def _cv(rows: list[dict], names: tuple[str, ...], folds: int = 5) -> np.ndarray:
    """Out-of-fold predictions, folds grouped by question so no question is seen in training."""
    from sklearn.model_selection import GroupKFold

    x, y = _matrix(rows, names), np.array([r["gold"] for r in rows])
    groups = [f"{r['lang']}:{r['qid']}" for r in rows]
    pred = np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=min(folds, len(set(groups)))).split(x, y, groups):
        pred[test] = [_fit(x[train], y[train], names).apply(dict(zip(names, row, strict=True))) for row in x[test]]
    return pred


def _figures(pred: np.ndarray | list[float], gold: list[float]) -> str:
    return f"r={pearson(pred, gold):.3f} qwk={qwk(pred, gold):.3f}"


def fit(args: argparse.Namespace) -> None:
    rows = _load(args.files)
    gold = [r["gold"] for r in rows]
    notes: dict = {"rows": len(rows), "files": [Path(f).name for f in args.files], "cv": {}}
    for lang in [*sorted({r["lang"] for r in rows}), "all"]:
        subset = [r for r in rows if lang in ("all", r["lang"])]
        g = [r["gold"] for r in subset]
        verdicts_only = [r["features"]["verdicts"] for r in subset]
        overall_only = [r["features"]["overall"] for r in subset]
        similarity_only = [r["features"]["similarity"] for r in subset]
        sim_cv, model_cv, llm_cv = _cv(subset, SIGNALS), _cv(subset, MODEL_FEATURES), _cv(subset, LLM_FEATURES)
        line = (f"{lang} n={len(subset)}  verdicts alone {_figures(verdicts_only, g)} | overall alone "
                f"{_figures(overall_only, g)} | similarity grader {_figures(similarity_only, g)} | signals "
                f"refitted (CV) {_figures(sim_cv, g)} | verdicts+overall (CV) {_figures(model_cv, g)} | "
                f"+ similarity (CV) {_figures(llm_cv, g)}")
        print(line)
        notes["cv"][lang] = line
    weights = Weights(
        llm=_fit(_matrix(rows, LLM_FEATURES), np.array(gold), LLM_FEATURES),
        command="python benchmarks/bench_grader.py fit " + " ".join(Path(f).name for f in args.files) + " --write",
        notes={**notes, "fitted": time.strftime("%Y-%m-%d"), "prompt_version": PROMPT_VERSION},
    )
    print(weights.model_dump_json(indent=2))
    if args.write:
        WEIGHTS_PATH.write_text(weights.model_dump_json(indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_PATH}")


def report(args: argparse.Namespace) -> None:
    rows = _read(args.files)
    graded = [r for r in rows if r["status"] == "graded"]
    lat = sorted(r["latency"] for r in graded)
    tokens = [r["usage"]["prompt"] + r["usage"]["completion"] for r in graded]
    cached = [r["usage"]["cached"] for r in graded]
    print(f"rows {len(rows)} graded {len(graded)} ungraded {len(rows) - len(graded)}")
    print(f"latency p50 {statistics.median(lat):.2f}s p95 {lat[int(0.95 * (len(lat) - 1))]:.2f}s; "
          f"tokens/answer mean {statistics.mean(tokens):.0f} (cached mean {statistics.mean(cached):.0f}, "
          f"completion mean {statistics.mean(r['usage']['completion'] for r in graded):.1f})")
    gold = [r["gold"] for r in graded]
    print("pred (as collected):", _figures([r["pred"] for r in graded], gold))
    print("verdicts alone:     ", _figures([r["features"]["verdicts"] for r in graded], gold))
    if all(r["features"].get("overall") is not None for r in graded):
        print("overall alone:      ", _figures([r["features"]["overall"] for r in graded], gold))
    # The codes as emitted (argmax), for comparison with the expected values above; dataset rows
    # have split key points, all of one weight, so the plain mean is the weighted score.
    value = {"covered": 1.0, "partly": 0.5, "missing": 0.0}
    emitted = [sum(value[c] for c in r["codes"]) / len(r["codes"]) if r["codes"] else 0.0 for r in graded]
    print("verdicts as emitted:", _figures(emitted, gold))
    weights = Weights.model_validate_json(WEIGHTS_PATH.read_text(encoding="utf-8")) if WEIGHTS_PATH.exists() else None
    if weights:  # in-sample when these rows were used to fit the weights: say so when quoting
        print("committed blend:    ", _figures([weights.llm.apply(r["features"]) for r in graded], gold))
    print("similarity grader:  ", _figures(_similarity_baseline(graded, args.dataset), gold))


def _similarity_baseline(rows: list[dict], datasets: list[str]) -> list[float]:
    """The project's no-LLM grader on the same rows (its committed parameters)."""
    from interviewer import similarity

    source = {}
    for path in datasets:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                source[row["id"]] = row
    preds = []
    for r in rows:
        row = source[r["id"]]
        result = similarity.grade(row["question"], row["answer"], references=[row["reference"]],
                                  score_max=row["score_max"], lang=row.get("lang"))
        preds.append(result.normalized or 0.0)
    return preds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True)
    c = sub.add_parser("collect")
    c.add_argument("dataset")
    c.add_argument("--sample", type=int)
    c.add_argument("--seed", type=int, default=7)
    c.add_argument("--questions", type=int, help="Q random questions, --per-question answers each")
    c.add_argument("--per-question", type=int, default=5)
    c.add_argument("--out", required=True)
    c.add_argument("--base-url")
    c.add_argument("--key-points", choices=["split", "llm"], default="split")
    c.add_argument("--reverse", action="store_true", help="Grade the sample from its last question.")
    c.set_defaults(func=collect)
    f = sub.add_parser("fit")
    f.add_argument("files", nargs="+")
    f.add_argument("--write", action="store_true")
    f.set_defaults(func=fit)
    r = sub.add_parser("report")
    r.add_argument("files", nargs="+")
    r.add_argument("--dataset", action="append", required=True, help="The dataset file(s) the rows came from.")
    r.set_defaults(func=report)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
