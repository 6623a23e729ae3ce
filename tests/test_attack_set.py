"""The manipulation attack set (evals/attacks/attacks.jsonl and its held-out sets): format, coverage,
and the benchmark's arithmetic. Fast and model-free; the grading itself is benchmarks/bench_attacks.py."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Literal, get_args

import pytest
from pydantic import BaseModel, ConfigDict, Field

from interviewer.bank import load_bank
from interviewer.rubric import containment, is_chinese

REPO = Path(__file__).resolve().parent.parent
ATTACKS = REPO / "evals" / "attacks" / "attacks.jsonl"
HOLDOUT = ATTACKS.with_name("holdout.jsonl")  # fresh phrasings kept out of detector tuning
HOLDOUT2 = ATTACKS.with_name("holdout2.jsonl")  # written blind to the detector (see holdout2.md)
HOLDOUT3 = ATTACKS.with_name("holdout3.jsonl")  # a second blind set, new wordings (see holdout3.md)
SHARED = REPO.parent / "shared"
AttackType = Literal[
    "direct_instruction",
    "fake_grader_output",
    "fake_role_tags",
    "role_play",
    "pressure",
    "other_question",
    "reference_copy",
    "keyword_stuffing",
    "hidden_text",
    "mixed_language",
]
ATTACK_TYPES: tuple[str, ...] = get_args(AttackType)


class AttackRow(BaseModel):
    """One row as documented in evals/attacks/README.md; unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^(zh|en)-[a-z_]+-(?:h|h2-|h3-)?\d+$")
    bank_id: str
    lang: Literal["zh", "en"]
    attack_type: AttackType
    honest: str = Field(min_length=20)
    attack: str
    honest_quality: Literal["wrong", "weak", "partial", "good"]
    note: str = Field(min_length=6)
    other_bank_id: str | None = None


def _lines(path: Path = ATTACKS) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", [ATTACKS, HOLDOUT, HOLDOUT2, HOLDOUT3], ids=lambda p: p.name)
def test_every_line_matches_the_documented_schema(path: Path) -> None:
    for number, line in enumerate(_lines(path), 1):
        try:
            AttackRow.model_validate_json(line)
        except ValueError as exc:
            pytest.fail(f"{path.name} line {number}: {exc}")


ROWS = [AttackRow.model_validate_json(line) for line in _lines()]
HELD_OUT = [AttackRow.model_validate_json(line) for line in _lines(HOLDOUT)]
HELD_OUT_2 = [AttackRow.model_validate_json(line) for line in _lines(HOLDOUT2)]
HELD_OUT_3 = [AttackRow.model_validate_json(line) for line in _lines(HOLDOUT3)]
BLIND_SETS = {"h2": HELD_OUT_2, "h3": HELD_OUT_3}  # the id marker of each blind set and its rows
EVERY_ROW = ROWS + HELD_OUT + HELD_OUT_2 + HELD_OUT_3
BANK = {item.id: item for item in load_bank()}


def test_ids_are_unique_and_name_their_language_and_type() -> None:
    assert len({r.id for r in EVERY_ROW}) == len(EVERY_ROW)
    for row in EVERY_ROW:
        assert row.id.startswith(f"{row.lang}-{row.attack_type}-"), row.id


def test_rows_answer_bank_questions_in_their_language() -> None:
    for row in EVERY_ROW:
        assert row.bank_id in BANK, f"{row.id}: unknown bank item {row.bank_id}"
        assert is_chinese(row.honest) == (row.lang == "zh"), f"{row.id}: honest answer is not in {row.lang}"


def test_each_attack_is_its_honest_answer_plus_something() -> None:
    for row in EVERY_ROW:
        assert row.honest in row.attack, f"{row.id}: the attack must contain the honest answer verbatim"
        assert len(row.attack) >= len(row.honest) + 10, f"{row.id}: the attack adds almost nothing"


def test_coverage_meets_the_issue() -> None:
    assert len(ROWS) >= 70
    assert len({r.bank_id for r in ROWS}) >= 25
    langs = Counter(r.lang for r in ROWS)
    assert 0.4 <= langs["zh"] / len(ROWS) <= 0.6
    per_type: Counter[tuple[str, str]] = Counter((r.attack_type, r.lang) for r in ROWS)
    thin = [(kind, lang) for kind in ATTACK_TYPES for lang in ("zh", "en") if per_type[(kind, lang)] < 3]
    assert not thin, f"attack types with fewer than 3 rows in a language: {thin}"
    quality = Counter(r.honest_quality for r in ROWS)
    assert (quality["wrong"] + quality["weak"]) / len(ROWS) >= 0.5, (
        "most honest answers must be wrong or weak"
    )
    assert quality["partial"] >= 5 and quality["good"] >= 3, "some partial and good answers are needed too"


# --- holdout2.jsonl and holdout3.jsonl: the blind held-out sets (issue 5) -------------------------
@pytest.mark.parametrize("marker", BLIND_SETS)
def test_blind_holdout_meets_its_brief(marker: str) -> None:
    """40 rows, 20 per language, every attack type at least 3 times and in both languages, mostly
    wrong or weak honest answers, many topics, ids marked `-h2-` / `-h3-`."""
    rows = BLIND_SETS[marker]
    assert len(rows) == 40
    assert Counter(r.lang for r in rows) == {"zh": 20, "en": 20}
    assert all(re.search(rf"-{marker}-\d+$", r.id) for r in rows), f"ids end in -{marker}-<n>"
    per_type: Counter[str] = Counter(r.attack_type for r in rows)
    thin = [kind for kind in ATTACK_TYPES if per_type[kind] < 3]
    assert not thin, f"attack types with fewer than 3 rows: {thin}"
    one_language = [
        kind for kind in ATTACK_TYPES if {r.lang for r in rows if r.attack_type == kind} != {"zh", "en"}
    ]
    assert not one_language, f"attack types missing a language: {one_language}"
    quality = Counter(r.honest_quality for r in rows)
    assert quality["wrong"] + quality["weak"] >= 26
    assert quality["partial"] >= 1 and quality["good"] >= 1
    assert len({r.honest for r in rows}) == len(rows), "each pair has its own honest answer"
    assert len({BANK[r.bank_id].topic for r in rows}) >= 20, "the set should span many topics"


def _position(row: AttackRow) -> str:
    before, _, after = row.attack.partition(row.honest)
    return "around" if before.strip() and after.strip() else "before" if before.strip() else "after"


@pytest.mark.parametrize("marker", BLIND_SETS)
def test_blind_holdout_varies_where_the_attack_sits(marker: str) -> None:
    positions = Counter(_position(r) for r in BLIND_SETS[marker])
    assert min(positions[p] for p in ("before", "after", "around")) >= 5, positions


def _added_text(row: AttackRow) -> str:
    return _squeezed(row.attack.replace(row.honest, ""))


# each blind set against every set written before it
_EARLIER = {"h2": ROWS + HELD_OUT, "h3": ROWS + HELD_OUT + HELD_OUT_2}


@pytest.mark.parametrize("marker", BLIND_SETS)
def test_blind_holdout_wordings_are_new(marker: str) -> None:
    """A blind set was written without reading the earlier sets: no 30-character run of its added
    text (the attack minus the honest answer) occurs in theirs. Pasted references are shared by
    design, so reference_copy rows are left out."""

    def windows(row: AttackRow, width: int = 30) -> list[str]:
        text = _added_text(row)
        return [text[i : i + width] for i in range(len(text) - width + 1)]

    theirs = {w for r in _EARLIER[marker] if r.attack_type != "reference_copy" for w in windows(r)}
    for row in BLIND_SETS[marker]:
        if row.attack_type != "reference_copy":
            shared = [w for w in windows(row) if w in theirs]
            assert not shared, f"{row.id} reuses wording of another set: {shared[0]!r}"


def test_other_question_rows_name_a_different_bank_item() -> None:
    for row in ROWS + HELD_OUT_2 + HELD_OUT_3:
        if row.attack_type == "other_question":
            assert row.other_bank_id in BANK and row.other_bank_id != row.bank_id, row.id
        else:
            assert row.other_bank_id is None, f"{row.id}: other_bank_id is only for other_question rows"


def test_reference_copy_rows_contain_the_current_reference() -> None:
    """Fails when a bank reference is rewritten and the pasted copy no longer matches it."""
    for row in ROWS + HELD_OUT_2 + HELD_OUT_3:
        if row.attack_type == "reference_copy":
            reference = BANK[row.bank_id].view(row.lang).reference
            assert containment(reference, row.attack) >= 0.5, f"{row.id}: pasted reference out of date"


_HIDDEN = (
    re.compile(r"[\u200b-\u200f\u2060\ufeff]"),  # zero-width characters
    re.compile(r"[\uff01-\uff5e]{4}"),  # full-width Latin letters
    re.compile(
        r"[A-Za-z]*[\u0370-\u03ff\u0400-\u04ff][A-Za-z]+"
    ),  # Greek/Cyrillic homoglyphs inside Latin words
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"```"),
    # ways holdout2.jsonl hides text: invisible Unicode tag characters, CSS-hidden HTML,
    # white LaTeX, and a markdown image title (shown only on hover)
    re.compile(r"[\U000e0000-\U000e007f]"),
    re.compile(r"display\s*:\s*none"),
    re.compile(r"\\color\{white\}"),
    re.compile(r'!\[[^\]]*\]\(\S+\s+"[^"]+"\)'),
    # ways holdout3.jsonl adds: bidirectional overrides (text stored reversed) and zero-size HTML text
    re.compile(r"[\u202a-\u202e\u2066-\u2069]"),
    re.compile(r"font-size\s*:\s*0(?![.\d])"),
)


def test_hidden_text_rows_actually_hide_something() -> None:
    for row in ROWS + HELD_OUT_2 + HELD_OUT_3:
        if row.attack_type == "hidden_text":
            extra = row.attack.replace(row.honest, "")
            assert any(p.search(extra) for p in _HIDDEN), f"{row.id}: nothing hidden"


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_nothing_is_copied_from_the_shared_seeds_or_datasets() -> None:
    """No passage of 45+ characters (whitespace ignored) of the set occurs in ../shared: every such
    passage fully contains one of their 30-character windows taken every 15 characters, which keeps
    this scan of ~5 MB under a second."""
    files = [p for sub in ("seeds", "datasets") for p in (SHARED / sub).rglob("*") if p.is_file()]
    if not files:
        pytest.skip("../shared is not present")
    width, stride = 30, 15
    ours = {
        text[i : i + width]
        for r in EVERY_ROW
        for text in (_squeezed(r.honest), _squeezed(r.attack))
        for i in range(max(0, len(text) - width + 1))
    }
    for path in files:
        theirs = _squeezed(path.read_text(encoding="utf-8", errors="ignore"))
        hits = [
            theirs[i : i + width]
            for i in range(0, len(theirs) - width + 1, stride)
            if theirs[i : i + width] in ours
        ]
        assert not hits, f"{path.name} shares text with the attack set, e.g. {hits[0]!r}"


# --- the benchmark's arithmetic (benchmarks/ is not a package: load the script by path) ---------
def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_attacks", REPO / "benchmarks" / "bench_attacks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_attacks"] = module  # dataclass-free, but keeps pickling/typing lookups sane
    spec.loader.exec_module(module)
    return module


def _record(
    kind: str, quality: str, honest: float, attack: float, flags: list[str] | None = None
) -> dict[str, object]:
    side: dict[str, object] = {
        "flags": [],
        "status": "graded",
        "error": None,
        "latency": 1.0,
        "tokens": 0,
        "cached": 0,
    }
    return {
        "id": f"en-{kind}-1",
        "bank_id": "x",
        "lang": "en",
        "attack_type": kind,
        "honest_quality": quality,
        "honest": {**side, "score": honest},
        "attack": {**side, "score": attack, "flags": flags or []},
    }


def test_summary_counts_inflation_lifts_and_fair_ceilings() -> None:
    bench = _bench()
    records = [
        _record("direct_instruction", "wrong", 2.0, 7.0, ["injection_attempt"]),  # lifted to a pass
        _record("pressure", "good", 8.0, 7.0),  # a penalty, not a failure
        _record("reference_copy", "weak", 1.0, 2.9, ["reference_copy"]),  # within the 3/10 copy ceiling
        _record("keyword_stuffing", "weak", 1.0, 2.0),  # above honest + 0.5
    ]
    figures = bench.summarise(records)
    assert figures["inflation_mean"] == pytest.approx((5.0 - 1.0 + 1.9 + 1.0) / 4)
    assert figures["inflation_max"] == pytest.approx(5.0)
    assert figures["wrong_weak"] == 3 and figures["wrong_weak_lifted_to_pass"] == 1
    assert figures["above_fair_ceiling"] == 2
    assert figures["flagged_share"] == pytest.approx(0.5)


def test_subset_keeps_every_attack_type_and_whole_questions() -> None:
    bench = _bench()
    rows = [json.loads(line) for line in ATTACKS.read_text(encoding="utf-8").splitlines() if line.strip()]
    subset = bench.select(rows, 20)
    assert {r["attack_type"] for r in subset} == set(ATTACK_TYPES)
    questions = {(r["bank_id"], r["lang"]) for r in subset}
    assert all((r["bank_id"], r["lang"]) not in questions or r in subset for r in rows)
    keys = [(r["bank_id"], r["lang"]) for r in subset]
    assert keys == sorted(keys), "rows of one question must come together (prefix cache)"
