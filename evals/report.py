"""Report: a run's report.md and self-contained report.html (scatter, confusion matrix, per-question
table, worst disagreements); every dataset text is HTML-escaped."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from evals.dataset import EvalRow
from evals.metrics import BINS, mae, pearson, spearman, to_bins
from evals.predictions import Prediction

WORST = 10
HEADLINE = ("pearson", "qwk", "spearman", "spearman_within_question", "mae", "rmse", "exact", "within_one")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list) and len(value) == 2:
        return f"[{value[0]:.3f}, {value[1]:.3f}]"
    return str(value)


def _pairs(rows: list[EvalRow], predictions: list[Prediction]) -> list[tuple[EvalRow, Prediction]]:
    by_id = {p.id: p for p in predictions}
    return [(row, by_id[row.id]) for row in rows if row.id in by_id and by_id[row.id].done]


def _headline_rows(metrics: dict[str, Any]) -> list[list[str]]:
    baseline = metrics.get("baseline") or {}
    human = metrics.get("human") or {}
    table = []
    for key in HEADLINE:
        table.append([key, _fmt(metrics.get(key)), _fmt(baseline.get(key)), _fmt(human.get(key))])
        if key in ("pearson", "qwk"):
            ci = f"{key}_ci95"
            table.append([f"{key} 95% CI", _fmt(metrics.get(ci)), _fmt(baseline.get(ci)), _fmt(human.get(ci))])
    return table


def _per_question(pairs: list[tuple[EvalRow, Prediction]]) -> list[list[str]]:
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row, p in pairs:
        groups[row.qid].append((p.predicted_norm or 0.0, row.gold))
    table = []
    for qid, values in groups.items():
        pred, gold = [v[0] for v in values], [v[1] for v in values]
        table.append([qid, str(len(values)), _fmt(float(np.mean(gold))), _fmt(float(np.mean(pred))),
                      _fmt(pearson(pred, gold)), _fmt(spearman(pred, gold)), _fmt(mae(pred, gold))])
    return table


def _confusion(pairs: list[tuple[EvalRow, Prediction]]) -> np.ndarray:
    matrix = np.zeros((BINS, BINS), dtype=int)
    if pairs:
        gold = to_bins([row.gold for row, _ in pairs])
        pred = to_bins([p.predicted_norm or 0.0 for _, p in pairs])
        np.add.at(matrix, (gold, pred), 1)
    return matrix


def _worst(pairs: list[tuple[EvalRow, Prediction]]) -> list[tuple[EvalRow, Prediction]]:
    return sorted(pairs, key=lambda pair: -abs((pair[1].predicted_norm or 0.0) - pair[0].gold))[:WORST]


def _speed_lines(metrics: dict[str, Any]) -> list[str]:
    return [f"- {key}: {_fmt(metrics.get(key))}" for key in
            ("seconds_per_item_p50", "seconds_per_item_p95", "items_per_minute", "tokens_per_item_mean")]


# --- markdown -----------------------------------------------------------------------------------------
def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def clean(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(rows: list[EvalRow], predictions: list[Prediction], metrics: dict[str, Any],
                    settings: dict[str, Any]) -> str:
    pairs = _pairs(rows, predictions)
    matrix = _confusion(pairs)
    parts = [
        f"# Eval: {Path(settings['dataset']['path']).name} with `{settings['grader']}`",
        f"model `{settings.get('model') or '-'}`, prompt/params version `{settings.get('prompt_version') or '-'}`, "
        f"dataset sha256 `{settings['dataset']['sha256'][:16]}…`",
        f"rows {metrics['n']}, graded {metrics['graded']}, ungraded {metrics['ungraded']}"
        + (" — **interrupted**: figures cover the finished rows only" if metrics.get("interrupted") else ""),
        "## Agreement with the gold (scores normalised by score_max)",
        "Headline: Pearson r and QWK. Exact agreement and RMSE flatter a grader that always gives full "
        "marks; never headline them. The baseline is the grouped-CV similarity regression on the same rows.",
        _md_table(["metric", "grader", "baseline", "human-human"], _headline_rows(metrics)),
        "## Speed and tokens", "\n".join(_speed_lines(metrics)),
        "## Confusion matrix (rows: gold step 0-10, columns: predicted step)",
        _md_table(["gold\\pred", *map(str, range(BINS))],
                  [[str(i), *(str(v) for v in matrix[i])] for i in range(BINS)]),
        "## Per question",
        _md_table(["qid", "n", "mean gold", "mean pred", "pearson", "spearman", "mae"], _per_question(pairs)),
        "## Worst disagreements",
    ]
    for row, p in _worst(pairs):
        parts.append(
            f"### {row.id} (question {row.qid}): gold {row.score:g}/{row.score_max:g}, "
            f"predicted {p.predicted or 0:.2f}\n\n**Question:** {row.question}\n\n"
            f"**Reference:** {row.reference}\n\n**Answer:** {row.answer}"
        )
    return "\n\n".join(parts) + "\n"


# --- html ---------------------------------------------------------------------------------------------
def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scatter_svg(pairs: list[tuple[EvalRow, Prediction]], size: int = 360, pad: int = 36) -> str:
    span = size - 2 * pad
    rng = np.random.default_rng(0)  # a little fixed jitter so points on the same step stay visible
    dots = []
    for row, p in pairs:
        jx, jy = rng.uniform(-0.012, 0.012, 2)
        x = pad + (row.gold + jx) * span
        y = size - pad - ((p.predicted_norm or 0.0) + jy) * span
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6"><title>{escape(row.id)}</title></circle>')
    ticks = "".join(
        f'<text x="{pad + t * span:.0f}" y="{size - pad + 16}" text-anchor="middle">{t:g}</text>'
        f'<text x="{pad - 8}" y="{size - pad - t * span + 4:.0f}" text-anchor="end">{t:g}</text>'
        for t in (0, 0.5, 1)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" font-size="11" '
        f'role="img" aria-label="predicted vs gold">'
        f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#999"/>'
        f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" stroke="#c44" stroke-dasharray="4"/>'
        f'<g fill="#2563eb" fill-opacity="0.35">{"".join(dots)}</g>{ticks}'
        f'<text x="{size / 2}" y="{size - 4}" text-anchor="middle">gold (normalised)</text>'
        f'<text x="12" y="{size / 2}" transform="rotate(-90 12 {size / 2})" text-anchor="middle">predicted</text>'
        "</svg>"
    )


def _confusion_html(matrix: np.ndarray) -> str:
    top = max(1, int(matrix.max()))
    head = "<th>gold\\pred</th>" + "".join(f"<th>{j}</th>" for j in range(BINS))
    body = []
    for i in range(BINS):
        cells = "".join(
            f'<td style="background:rgba(37,99,235,{matrix[i, j] / top:.2f})">{matrix[i, j] or ""}</td>'
            for j in range(BINS)
        )
        body.append(f"<tr><th>{i}</th>{cells}</tr>")
    return f'<table class="cm"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


_CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
td:first-child,th:first-child{text-align:left}.cm td{min-width:2.2em;text-align:center}
.pair{border:1px solid #ddd;padding:.6em 1em;margin:1em 0}.pair p{white-space:pre-wrap;text-align:left}"""


def render_html(rows: list[EvalRow], predictions: list[Prediction], metrics: dict[str, Any],
                settings: dict[str, Any]) -> str:
    pairs = _pairs(rows, predictions)
    worst = "".join(
        f'<div class="pair"><h3>{escape(row.id)} (question {escape(row.qid)}): gold {row.score:g}/'
        f"{row.score_max:g}, predicted {p.predicted or 0:.2f}</h3>"
        f"<p><b>Question:</b> {escape(row.question)}</p><p><b>Reference:</b> {escape(row.reference)}</p>"
        f"<p><b>Answer:</b> {escape(row.answer)}</p></div>"
        for row, p in _worst(pairs)
    )
    status = f"rows {metrics['n']}, graded {metrics['graded']}, ungraded {metrics['ungraded']}"
    if metrics.get("interrupted"):
        status += " — interrupted: figures cover the finished rows only"
    title = f"Eval: {Path(settings['dataset']['path']).name} with {settings['grader']}"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>model {escape(settings.get('model') or '-')}, version {escape(settings.get('prompt_version') or '-')}, "
        f"dataset sha256 {escape(settings['dataset']['sha256'][:16])}…<br>{escape(status)}</p>"
        "<h2>Agreement with the gold</h2><p>Headline: Pearson r and QWK; exact agreement and RMSE flatter a "
        "grader that always gives full marks. Baseline: grouped-CV similarity regression, same rows.</p>"
        + _html_table(["metric", "grader", "baseline", "human-human"], _headline_rows(metrics))
        + "<h2>Speed and tokens</h2>"
        + _html_table(["figure", "value"], [line[2:].split(": ", 1) for line in _speed_lines(metrics)])
        + "<h2>Predicted vs gold</h2>" + _scatter_svg(pairs)
        + "<h2>Confusion matrix (gold step × predicted step)</h2>" + _confusion_html(_confusion(pairs))
        + "<h2>Per question</h2>"
        + _html_table(["qid", "n", "mean gold", "mean pred", "pearson", "spearman", "mae"], _per_question(pairs))
        + f"<h2>Worst disagreements</h2>{worst}</body></html>\n"
    )


def write_reports(out_dir: Path, rows: list[EvalRow], predictions: list[Prediction], metrics: dict[str, Any],
                  settings: dict[str, Any]) -> None:
    (out_dir / "report.md").write_text(render_markdown(rows, predictions, metrics, settings), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(rows, predictions, metrics, settings), encoding="utf-8")
