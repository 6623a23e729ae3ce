"""Report: final question scores and the end-of-session report (per question, per topic, gaps), as Markdown."""

from __future__ import annotations

import re
from collections import defaultdict

from interviewer.llm import Usage
from interviewer.sessions import QuestionResult, Report, SessionRecord, TopicScore

HINT_PENALTY = 1.5  # points (of 10) per hint: a hint gives part of the answer away
FOLLOW_UP_CREDIT = 0.5  # share of a missed point recovered by answering its follow-up fully


def _labels(lang: str) -> dict[str, str]:
    if lang == "zh":
        return {
            "title": "面试报告", "overall": "总分", "per_q": "逐题得分", "topic": "主题", "question": "题目",
            "score": "得分", "per_topic": "各主题平均分", "strengths": "做得好的地方", "gaps": "最需要补的三点",
            "study": "参考", "source": "来源", "time": "用时", "tokens": "tokens", "skipped": "跳过",
            "ungraded": "未评分", "none": "（无）", "minutes": "分钟",
        }
    return {
        "title": "Interview report", "overall": "Overall", "per_q": "Score per question", "topic": "Topic",
        "question": "Question", "score": "Score", "per_topic": "Average per topic", "strengths": "Strengths",
        "gaps": "The three most important gaps", "study": "Study", "source": "Source", "time": "Time",
        "tokens": "tokens", "skipped": "skipped", "ungraded": "ungraded", "none": "(none)", "minutes": "min",
    }


def final_score(result: QuestionResult) -> float | None:
    """0-10 score of a question: the main grade, plus partial credit for follow-ups that recovered a
    missed point, minus hint penalties. None if the main answer could not be graded."""
    if result.skipped:
        return 0.0
    grade = result.grade
    if grade is None or grade.score is None:
        return None
    score = 10.0 * grade.score / grade.score_max
    total_weight = sum(p.weight for p in result.key_points) or 1
    weights = {p.id: p.weight for p in result.key_points}
    for follow_up in result.follow_ups:
        if follow_up.point_id is None or follow_up.grade is None or follow_up.grade.normalized is None:
            continue
        share = 10.0 * weights.get(follow_up.point_id, 0) / total_weight
        score += share * FOLLOW_UP_CREDIT * follow_up.grade.normalized
    score -= HINT_PENALTY * result.hints
    return round(max(0.0, min(10.0, score)), 1)


def _gaps(record: SessionRecord) -> list[dict]:
    """Missed or half-covered key points, most important first (weight, then how badly missed)."""
    found = []
    for q in record.questions:
        verdicts = {v.point_id: v.verdict for v in (q.grade.verdicts if q.grade else [])}
        recovered = {f.point_id for f in q.follow_ups if f.grade and (f.grade.normalized or 0) >= 0.7}
        for point in q.key_points:
            verdict = "missing" if q.skipped else verdicts.get(point.id)
            if verdict in ("missing", "partly") and point.id not in recovered:
                badness = 1.0 if verdict == "missing" else 0.5
                found.append((point.weight * badness, q, point, verdict))
    found.sort(key=lambda row: -row[0])
    return [
        {
            "point": point.text, "verdict": verdict, "question": q.question, "topic": q.topic,
            "reference": reference_passage(q.reference, f"{point.text} {point.covers}"), "source": q.source,
        }
        for _, q, point, verdict in found[:3]
    ]


_SENTENCE_END = re.compile(r"(?<=[。！？；.!?;])\s*")


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", " ", text.lower())
    return {text[i : i + 2] for i in range(len(text) - 1)}


def reference_passage(reference: str, point: str, max_sentences: int = 2) -> str:
    """The sentences of the reference that best match a key point (character-bigram overlap), in
    their original order: what to study for that gap, without the whole reference every time."""
    sentences = [s.strip() for s in _SENTENCE_END.split(reference) if s.strip()]
    if len(sentences) <= max_sentences:
        return reference.strip()
    wanted = _bigrams(point)
    ranked = sorted(range(len(sentences)), key=lambda i: -len(wanted & _bigrams(sentences[i])))
    keep = sorted(ranked[:max_sentences])
    joiner = "" if re.search(r"[\u4e00-\u9fff]", reference) else " "
    return joiner.join(sentences[i] for i in keep)


def _strengths(record: SessionRecord) -> list[str]:
    points = [
        (v.weight, v.point)
        for q in record.questions if q.grade
        for v in q.grade.verdicts if v.verdict == "covered"
    ]
    points.sort(key=lambda row: -row[0])
    return [text for _, text in points[:5]]


def build_report(record: SessionRecord) -> Report:
    """The report of a session whose questions have their final scores."""
    per_topic: dict[str, list[float]] = defaultdict(list)
    per_question = []
    for q in record.questions:
        if q.score is not None:
            per_topic[q.topic].append(q.score)
        per_question.append({
            "index": q.index, "topic": q.topic, "question": q.question, "score": q.score,
            "skipped": q.skipped, "hints": q.hints, "follow_ups": len(q.follow_ups),
            "verdicts": [v.model_dump() for v in (q.grade.verdicts if q.grade else [])],
            "flags": list(q.grade.flags) if q.grade else [],
        })
    scored = [q.score for q in record.questions if q.score is not None]
    turns = record.transcript
    usage = sum((q.grade.usage for q in record.questions if q.grade), start=Usage())
    usage += sum((f.grade.usage for q in record.questions for f in q.follow_ups if f.grade), start=Usage())
    report = Report(
        overall=round(sum(scored) / len(scored), 1) if scored else None,
        per_question=per_question,
        per_topic=[
            TopicScore(topic=t, mean=round(sum(s) / len(s), 1), count=len(s)) for t, s in sorted(per_topic.items())
        ],
        strengths=_strengths(record),
        gaps=_gaps(record),
        seconds=round(turns[-1].ts - turns[0].ts, 1) if len(turns) > 1 else 0.0,
        usage=usage + record.usage,
    )
    report.markdown = render_markdown(record, report)
    return report


def render_markdown(record: SessionRecord, report: Report) -> str:
    """The report as Markdown, in the session's language."""
    t = _labels(record.setup.lang)
    lines = [f"# {t['title']} — {record.id}", ""]
    overall = "—" if report.overall is None else f"{report.overall}/10"
    lines += [f"**{t['overall']}: {overall}**  ·  {t['time']}: {report.seconds / 60:.1f} {t['minutes']}  ·  "
              f"{t['tokens']}: {report.usage.total} (cached {report.usage.cached})", ""]
    lines += [f"## {t['per_q']}", "", f"| # | {t['topic']} | {t['question']} | {t['score']} |", "|---|---|---|---|"]
    for row in report.per_question:
        score = t["skipped"] if row["skipped"] else (t["ungraded"] if row["score"] is None else f"{row['score']}")
        question = row["question"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {row['index'] + 1} | {row['topic']} | {question} | {score} |")
    lines += ["", f"## {t['per_topic']}", ""]
    lines += [f"- {s.topic}: {s.mean}/10 ({s.count})" for s in report.per_topic] or [t["none"]]
    lines += ["", f"## {t['strengths']}", ""]
    lines += [f"- {s}" for s in report.strengths] or [t["none"]]
    lines += ["", f"## {t['gaps']}", ""]
    for i, gap in enumerate(report.gaps, 1):
        lines += [
            f"{i}. **{gap['point']}** — {gap['question']}",
            f"   - {t['study']}: {gap['reference']}",
            f"   - {t['source']}: {gap['source']}",
        ]
    if not report.gaps:
        lines.append(t["none"])
    return "\n".join(lines) + "\n"
