"""Screening benchmark (no model): how often `manipulation.screen` flags honest human answers and
how many attacks it catches, per flag, attack type and language, and how long it takes.

    python benchmarks/bench_screening.py
    python benchmarks/bench_screening.py --module /work/tmp_manip/manipulation_before.py   # another version
    python benchmarks/bench_screening.py --set evals/attacks/attacks.jsonl --no-datasets

False alarms: every row of ../shared/datasets/saf_en/saf_en.jsonl and le_zh/le_zh.jsonl (human-written
answers) and of our gold set evals/gold/gold_*.jsonl (ML answers of graded quality), screened with
the row's own question and reference(s), as the eval harness grades them.
Catches: the attack and the honest side of each attack set (`evals/attacks/*.jsonl`), screened with
the bank question and reference the row answers. "flagged" counts the manipulation flags the attack
benchmark counts (injection_attempt / reference_copy / keyword_stuffing / off_topic); a clean copy of
the reference is flagged `reference_copy` but not penalised, so the penalised share (flags that cap
the score: everything but a clean copy) is printed too, for honest answers and for attacks (an
attack flagged `reference_copy` but not taken for a paste is graded whole).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"
SHARED_DATASETS = (DATASETS / "saf_en" / "saf_en.jsonl", DATASETS / "le_zh" / "le_zh.jsonl")
# Our own gold answers (evals/gold): the only honest answers here that are about ML, the domain
# the cue words have to tell apart from grading talk ("F1 score", "evaluate on the validation set").
GOLD_DATASETS = tuple(sorted((REPO / "evals" / "gold").glob("gold_*.jsonl")))
ATTACK_DIR = REPO / "evals" / "attacks"
# Each set is read only when present. holdout2 has been used for development since 2026-11-23;
# a newer blind set is measured with --set, not by default (see evals/attacks/README.md).
DEFAULT_SETS = tuple(ATTACK_DIR / name for name in ("attacks.jsonl", "holdout.jsonl", "holdout2.jsonl"))
MANIPULATION_FLAGS = ("injection_attempt", "reference_copy", "keyword_stuffing", "off_topic")


def load_module(path: Path | None) -> ModuleType:
    """`interviewer.manipulation`, or the module in `path` (e.g. a copy of an older version)."""
    if path is None:
        from interviewer import manipulation

        return manipulation
    spec = importlib.util.spec_from_file_location("manipulation_under_test", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def manipulation_flags(screening: Any) -> list[str]:
    return [f for f in screening.flags if f in MANIPULATION_FLAGS]


def penalised(screening: Any) -> bool:
    """A flag that lowers the grade: all of them except a clean (unpadded) copy of the reference."""
    flags = set(manipulation_flags(screening))
    if flags == {"reference_copy"}:
        return bool(screening.pasted)
    return bool(flags)


def _screen(module: ModuleType, answer: str, question: str, references: list[str]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = module.screen(module.clean_text(answer), question=question, references=references)
    return result, time.perf_counter() - started


# --- honest human answers ------------------------------------------------------------------------
def dataset_figures(module: ModuleType, path: Path, examples: int) -> dict[str, Any]:
    """Flag rates over every answer of one dataset."""
    from evals.dataset import load_dataset

    rows = load_dataset(path).rows
    per_flag: Counter[str] = Counter()
    any_flag = penalties = 0
    seconds: list[float] = []
    flagged: list[dict[str, Any]] = []
    for row in rows:
        result, spent = _screen(module, row.answer, row.question, [row.reference, *row.references])
        seconds.append(spent)
        flags = manipulation_flags(result)
        per_flag.update(flags)
        any_flag += bool(flags)
        penalties += penalised(result)
        if flags and len(flagged) < examples:
            flagged.append({"id": row.id, "flags": flags, "removed": result.removed[:2], "answer": row.answer[:160]})
    return {
        "rows": len(rows),
        "any_flag": any_flag,
        "penalised": penalties,
        "per_flag": dict(per_flag),
        "ms_p50": 1000 * statistics.median(seconds),
        "ms_mean": 1000 * statistics.fmean(seconds),
        "ms_max": 1000 * max(seconds),
        "examples": flagged,
    }


# --- attack sets ---------------------------------------------------------------------------------
def attack_figures(module: ModuleType, path: Path) -> dict[str, Any]:
    """Per (attack type, language): attacks flagged and honest answers flagged."""
    from interviewer.bank import load_bank

    bank = {item.id: item for item in load_bank()}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"rows": 0, "attack": 0, "capped": 0, "honest": 0})
    missed: list[str] = []
    false_alarms: list[str] = []
    seconds: list[float] = []
    for row in rows:
        view = bank[row["bank_id"]].view(row["lang"])
        attack, spent_attack = _screen(module, row["attack"], view.question, [view.reference])
        honest, spent_honest = _screen(module, row["honest"], view.question, [view.reference])
        seconds += [spent_attack, spent_honest]
        group = groups[(row["attack_type"], row["lang"])]
        group["rows"] += 1
        group["attack"] += bool(manipulation_flags(attack))
        group["capped"] += penalised(attack)
        group["honest"] += bool(manipulation_flags(honest))
        if not manipulation_flags(attack):
            missed.append(row["id"])
        if manipulation_flags(honest):
            false_alarms.append(f"{row['id']} {manipulation_flags(honest)}")
    return {
        "rows": len(rows),
        "attack_flagged": sum(g["attack"] for g in groups.values()),
        "attack_penalised": sum(g["capped"] for g in groups.values()),
        "honest_flagged": sum(g["honest"] for g in groups.values()),
        "groups": {f"{kind}/{lang}": g for (kind, lang), g in sorted(groups.items())},
        "missed": missed,
        "honest_false_alarms": false_alarms,
        "ms_p50": 1000 * statistics.median(seconds),
    }


# --- output --------------------------------------------------------------------------------------
def print_report(datasets: dict[str, dict[str, Any]], attacks: dict[str, dict[str, Any]]) -> None:
    if datasets:
        print("## Honest human answers (false alarms)\n")
        print("| dataset | rows | any flag | penalised | per flag | ms/answer p50 / mean / max |")
        print("|---|---|---|---|---|---|")
        for name, d in datasets.items():
            per_flag = ", ".join(f"{k} {v}" for k, v in sorted(d["per_flag"].items())) or "–"
            print(f"| {name} | {d['rows']} | {d['any_flag']} ({d['any_flag'] / d['rows']:.2%}) | "
                  f"{d['penalised']} ({d['penalised'] / d['rows']:.2%}) | {per_flag} | "
                  f"{d['ms_p50']:.2f} / {d['ms_mean']:.2f} / {d['ms_max']:.1f} |")
        shared = {name: d for name, d in datasets.items() if not name.startswith("gold")}
        for label, group in (("**saf_en + le_zh**", shared), ("**all**", datasets)):
            total = sum(d["rows"] for d in group.values())
            flagged = sum(d["any_flag"] for d in group.values())
            punished = sum(d["penalised"] for d in group.values())
            if total and len(group) > 1:
                print(f"| {label} | {total} | {flagged} ({flagged / total:.2%}) | "
                      f"{punished} ({punished / total:.2%}) | | |")
        for name, d in datasets.items():
            for example in d["examples"]:
                print(f"- {name} {example['id']} {example['flags']} removed={example['removed']}: "
                      f"{example['answer']!r}")
    for name, a in attacks.items():
        print(f"\n## {name}: attacks flagged {a['attack_flagged']}/{a['rows']} (penalised "
              f"{a['attack_penalised']}), honest flagged {a['honest_flagged']}/{a['rows']} "
              f"(ms/answer p50 {a['ms_p50']:.2f})\n")
        print("| type/lang | rows | attack flagged | attack penalised | honest flagged |")
        print("|---|---|---|---|---|")
        for group, g in a["groups"].items():
            print(f"| {group} | {g['rows']} | {g['attack']} | {g['capped']} | {g['honest']} |")
        print(f"\nmissed: {', '.join(a['missed']) or '–'}")
        print(f"honest flagged: {', '.join(a['honest_false_alarms']) or '–'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", type=Path, default=None, help="screen with this manipulation.py instead")
    parser.add_argument("--set", type=Path, action="append", default=None,
                        help="attack set(s) to use (default: attacks, holdout and holdout2 if present)")
    parser.add_argument("--dataset", type=Path, action="append", default=None,
                        help="dataset(s) of honest answers (default: all of saf_en, le_zh and evals/gold)")
    parser.add_argument("--no-datasets", action="store_true", help="skip the honest-answer datasets")
    parser.add_argument("--examples", type=int, default=5, help="flagged dataset answers to print per dataset")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    module = load_module(args.module)
    started = time.perf_counter()
    module.screen("warm-up", question="warm-up question", references=["warm-up reference"])  # caches, jieba
    warm_up = time.perf_counter() - started
    datasets = {} if args.no_datasets else {
        path.stem: dataset_figures(module, path, args.examples)
        for path in (args.dataset or [*SHARED_DATASETS, *GOLD_DATASETS])
    }
    sets = [path for path in (args.set or DEFAULT_SETS) if args.set or path.exists()]
    attacks = {path.name: attack_figures(module, path) for path in sets}
    if args.json:
        print(json.dumps({"datasets": datasets, "attacks": attacks}, ensure_ascii=False, indent=2))
    else:
        print_report(datasets, attacks)
    print(f"\nfirst call (loading caches) {warm_up:.2f} s; total {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
