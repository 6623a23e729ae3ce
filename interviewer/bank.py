"""Question bank: the `BankItem` schema, loading `knowledge/`, and per-language views of an item."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from interviewer.errors import BankError

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


class KeyPointText(BaseModel):
    """One key point in one language."""

    point: str = Field(min_length=2, description="The idea the answer should contain, stated briefly.")
    covers: str = Field(min_length=2, description="What in an answer counts as covering this point.")
    follow_up: str = Field(min_length=2, description="A follow-up question that probes this point.")


class KeyPoint(BaseModel):
    """A weighted rubric point, written in both languages so the weight has one source of truth."""

    weight: int = Field(ge=1, le=3, description="Importance: 1 nice to have, 2 expected, 3 essential.")
    zh: KeyPointText
    en: KeyPointText


class LocalizedQA(BaseModel):
    """The question side of an item in one language."""

    question: str = Field(min_length=4, description="The question as the interviewer asks it.")
    reference: str = Field(min_length=10, description="A model answer, written by us.")
    common_mistakes: list[str] = Field(default_factory=list, description="Typical wrong or shallow answers.")


class BankItem(BaseModel):
    """One interview question. Curated items (ours, in `knowledge/`) carry both languages and 3-6
    key points; items extracted from ingested articles carry one language and no key points
    (the grader derives them from the reference when needed)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.:-]*$", description="Stable unique id.")
    topic: str = Field(description="Topic slug from knowledge/topics.yaml.")
    tags: list[str] = Field(default_factory=list, description="Free-form finer labels.")
    difficulty: int = Field(default=2, ge=1, le=3, description="1 basic, 2 standard, 3 deep.")
    origin: Literal["bank", "article"] = Field(default="bank", description="Written by us or extracted.")
    source: str | None = Field(default=None, description="For extracted items: the article it came from.")
    zh: LocalizedQA | None = None
    en: LocalizedQA | None = None
    key_points: list[KeyPoint] = Field(default_factory=list, description="Weighted rubric points.")

    @model_validator(mode="after")
    def _check_shape(self) -> BankItem:
        if self.zh is None and self.en is None:
            raise ValueError("an item needs at least one language (zh or en)")
        if self.origin == "bank":
            if self.zh is None or self.en is None:
                raise ValueError("a curated bank item needs both zh and en")
            if not 3 <= len(self.key_points) <= 6:
                raise ValueError(f"a curated bank item needs 3-6 key points, has {len(self.key_points)}")
        return self

    @property
    def langs(self) -> list[Lang]:
        return [lang for lang in LANGS if getattr(self, lang) is not None]

    def view(self, lang: Lang) -> QuestionView:
        """The item as seen in one language (falls back to the other language if missing)."""
        qa = getattr(self, lang) or getattr(self, "en" if lang == "zh" else "zh")
        actual: Lang = lang if getattr(self, lang) is not None else ("en" if lang == "zh" else "zh")
        points = [
            RubricPoint(
                id=f"k{i + 1}",
                weight=kp.weight,
                text=getattr(kp, actual).point,
                covers=getattr(kp, actual).covers,
                follow_up=getattr(kp, actual).follow_up,
            )
            for i, kp in enumerate(self.key_points)
        ]
        return QuestionView(
            id=self.id,
            topic=self.topic,
            difficulty=self.difficulty,
            lang=actual,
            question=qa.question,
            reference=qa.reference,
            key_points=points,
            common_mistakes=list(qa.common_mistakes),
            source=self.source or f"bank:{self.id}",
        )


class RubricPoint(BaseModel):
    """A key point flattened to one language, as the grader and the interviewer use it."""

    id: str = Field(description="Stable within its question: k1, k2, ...")
    weight: int = Field(ge=1, le=3, description="Importance 1-3.")
    text: str = Field(description="The idea the answer should contain.")
    covers: str = Field(default="", description="What counts as covering it.")
    follow_up: str = Field(default="", description="A question that probes it.")


class QuestionView(BaseModel):
    """A question in one language with its reference and rubric: what a session asks and grades."""

    id: str
    topic: str
    difficulty: int
    lang: Lang
    question: str
    reference: str
    key_points: list[RubricPoint]
    common_mistakes: list[str]
    source: str = Field(description="Where the reference comes from: bank:<id> or an article path.")


class Topic(BaseModel):
    """A topic of the bank with its display names."""

    slug: str
    zh: str
    en: str


def load_topics(knowledge_dir: Path = KNOWLEDGE_DIR) -> list[Topic]:
    """The topics listed in knowledge/topics.yaml."""
    data = yaml.safe_load((knowledge_dir / "topics.yaml").read_text(encoding="utf-8"))
    return [Topic(**row) for row in data]


@cache
def _topic_names(knowledge_dir: Path = KNOWLEDGE_DIR) -> dict[str, Topic]:
    return {t.slug: t for t in load_topics(knowledge_dir)}


def topic_name(slug: str, lang: Lang) -> str:
    """The display name of a topic in `lang`; the slug itself for a topic we do not list."""
    topic = _topic_names().get(slug)
    return getattr(topic, lang) if topic else slug


def load_bank_file(path: Path) -> list[BankItem]:
    """Parse one YAML file of bank items, naming the file and item on any schema error."""
    try:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BankError(f"{path}: cannot read question bank file: {exc}") from exc
    if not isinstance(rows, list):
        raise BankError(f"{path}: expected a YAML list of items")
    items = []
    for index, row in enumerate(rows):
        try:
            items.append(BankItem.model_validate(row))
        except ValidationError as exc:
            label = row.get("id", f"#{index}") if isinstance(row, dict) else f"#{index}"
            raise BankError(f"{path}: item {label}: {exc}") from exc
    return items


def check_bank(items: Iterable[BankItem], topics: Iterable[Topic]) -> list[BankItem]:
    """Cross-item checks: unique ids and known topics."""
    known = {t.slug for t in topics}
    seen: set[str] = set()
    result = []
    for item in items:
        if item.id in seen:
            raise BankError(f"duplicate bank item id {item.id!r}")
        if item.topic not in known:
            raise BankError(f"item {item.id!r}: unknown topic {item.topic!r} (add it to topics.yaml)")
        seen.add(item.id)
        result.append(item)
    return result


@cache
def load_bank(knowledge_dir: Path = KNOWLEDGE_DIR) -> tuple[BankItem, ...]:
    """Every curated item under knowledge/bank/*.yaml, validated."""
    items = [item for path in sorted((knowledge_dir / "bank").glob("*.yaml")) for item in load_bank_file(path)]
    return tuple(check_bank(items, load_topics(knowledge_dir)))
