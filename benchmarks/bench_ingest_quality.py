"""Ingest quality on the five seed articles: share of questions that became Q&A items with their
answer attached, and share of chunks that are site chrome. Run from the repo root:

    /work/venv/bin/python benchmarks/bench_ingest_quality.py

How questions are counted (independently of the extractor, from the raw seed file at run time):
- 000 (whole article on one line): the numbered entries of its own inline table of contents.
- 001: the line just above every line that starts with the answer marker "答".
- 002, 003, 004: question / section heading lines whose line numbers were checked by hand and are
  listed below (002: leaf sections, not the conclusion; 003: its contents list minus the three
  optimizer sub-headings nested under question 5, plus two question headings not in the list).
Questions whose answer in the article is only a link (or under 10 characters) cannot yield an
answer and are listed separately; they are not in the denominator.

How chrome is detected in chunks (independently of the cleaner): a chunk is chrome if
(a) any of its lines is absent from the article's content lines but present in the page's other
lines (content line ranges checked by hand, below), or (b) it matches a chrome marker regex.
The seed files are read from ../shared at run time and never copied into the repository.
"""

from __future__ import annotations

import random
import re
import sys
import time
import unicodedata
from pathlib import Path

from interviewer.ingest import ParsedArticle, parse_article

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"

# Hand-checked per file: 1-based line numbers of the question headings (None = counted by a rule
# in `questions_of`), questions with no answer text, and the line range of the article proper.
EXPECTED: dict[str, dict] = {
    "000": {"count": 6, "lines": None, "no_answer": [], "content": (36, 37)},
    "001": {"count": 25, "lines": None, "no_answer": [], "content": (2, 62)},
    "002": {"count": 25, "no_answer": [], "content": (1, 216),
            "lines": [7, 16, 24, 35, 43, 52, 59, 68, 77, 84, 95, 99, 103, 107, 115, 119, 123, 129, 133,
                      137, 143, 153, 163, 173, 186]},
    "003": {"count": 21, "no_answer": [127, 205, 281, 285, 289, 293], "content": (1, 296),
            "lines": [32, 40, 48, 56, 74, 123, 127, 131, 187, 199, 205, 213, 229, 241, 251, 259, 271, 281,
                      285, 289, 293]},
    "004": {"count": 4, "no_answer": [], "content": (1, 98), "lines": [5, 10, 49, 81]},
}
CHROME_MARKERS = re.compile(
    r"登录|注册|点赞|收藏|已关注|取消关注|欢迎关注|公众号|次浏览|人参与|热榜|相关推荐|相关文章|打赏|版权|侵权|"
    r"本文链接|本文作者|评论|阅读\s*\d+\s*分钟|ali pay|wechat pay|牛客|\.png|发布于|举报|转载"
)


def canon(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def strip_number(text: str) -> str:
    return re.sub(r"^\s*\d+(?:\.\d+)*\s*[.、)]?\s*", "", text).strip()


def questions_of(prefix: str, lines: list[str]) -> list[tuple[int, str]]:
    """(line number, question text) by the documented independent method for that file."""
    spec = EXPECTED[prefix]
    if spec["lines"] is not None:
        return [(n, strip_number(lines[n - 1])) for n in spec["lines"]]
    if prefix == "001":
        answers = [i for i, line in enumerate(lines) if line.startswith("答")]
        return [(i, strip_number(lines[i - 1])) for i in answers]
    # 000: "目录 1.xxx 2.xxx ... N.xxx 1.xxx": the entries between the marker and the restart at 1.
    line_no, line = next((i + 1, s) for i, s in enumerate(lines) if "目录" in s)
    after = line.split("目录", 1)[1]
    entries = re.split(r"\s(?=\d+\.)", " " + after.strip())
    toc: list[str] = []
    for entry in (e.strip() for e in entries if e.strip()):
        if toc and entry.startswith("1."):
            break
        toc.append(strip_number(entry))
    return [(line_no, e) for e in toc]


def item_for(question: str, article: ParsedArticle) -> tuple[str, str] | None:
    """The extracted item whose question is this question (containment either way)."""
    wanted = canon(question)
    for item in article.items:
        qa = item.zh or item.en
        assert qa is not None
        got = canon(re.sub(r"^(请介绍：|Explain: )", "", qa.question))
        if got and (wanted in got or got in wanted):
            return qa.question, qa.reference
    return None


def answer_attached(question: str, reference: str, source: str, others: list[str]) -> bool:
    """Some occurrence of the reference's opening text in the article has the question before
    it and no other expected question between the two."""
    text, wanted = canon(source), canon(question)
    # the first line with words: links repeat across answers, so they cannot place an answer
    words = [canon(line) for line in reference.split("\n") if canon(re.sub(r"https?://\S+", "", line))]
    head = words[0][:30] if words else ""
    if not head:
        return False
    for found in re.finditer(re.escape(head), text):
        q_at = [m.start() for m in re.finditer(re.escape(wanted), text[:found.start()])]
        if not q_at:
            continue
        between = text[q_at[-1] + len(wanted):found.start()]
        if not any(canon(o) and canon(o) in between for o in others if canon(o) != wanted):
            return True
    return False


def chrome_chunks(prefix: str, lines: list[str], article: ParsedArticle) -> list[str]:
    first, last = EXPECTED[prefix]["content"]
    content = canon("\n".join(lines[first - 1:last]))
    page_rest = canon("\n".join(lines[:first - 1] + lines[last:]))
    dirty = []
    for chunk in article.chunks:
        parts = [canon(p) for p in chunk.text.split("\n") if canon(p)]
        outside = [p for p in parts if p not in content and p in page_rest]
        if outside or CHROME_MARKERS.search(chunk.text):
            dirty.append(chunk.text)
    return dirty


def main() -> int:
    files = sorted(SEEDS.glob("*.txt"))
    if len(files) != 5:
        print(f"expected the five seed articles in {SEEDS}", file=sys.stderr)
        return 2
    total_q = total_ok = total_chunks = total_dirty = 0
    samples: list[str] = []
    started = time.perf_counter()
    print(f"{'file':<8}{'questions':>10}{'no answer':>10}{'with answer':>12}{'items':>7}{'chunks':>8}{'chrome':>8}")
    for path in files:
        prefix = path.name[:3]
        spec = EXPECTED[prefix]
        lines = path.read_text(encoding="utf-8").split("\n")
        article = parse_article(path)
        questions = questions_of(prefix, lines)
        assert len(questions) == spec["count"], (path.name, len(questions))
        answerable = [(n, q) for n, q in questions if n not in spec["no_answer"]]
        texts = [q for _, q in questions]
        ok, missing = 0, []
        for _, question in answerable:
            found = item_for(question, article)
            if found and answer_attached(question, found[1], "\n".join(lines), texts):
                ok += 1
            else:
                missing.append(question)
        dirty = chrome_chunks(prefix, lines, article)
        total_q, total_ok = total_q + len(answerable), total_ok + ok
        total_chunks, total_dirty = total_chunks + len(article.chunks), total_dirty + len(dirty)
        samples.extend(c.text for c in article.chunks)
        print(f"{prefix:<8}{len(questions):>10}{len(questions) - len(answerable):>10}"
              f"{ok:>7}/{len(answerable):<4}{len(article.items):>7}{len(article.chunks):>8}{len(dirty):>8}")
        for question in missing:
            print(f"    missing: {question[:60]}")
        for text in dirty:
            print(f"    chrome chunk: {text[:100]!r}")
    elapsed = time.perf_counter() - started
    print(f"\nquestions with answers that became items: {total_ok}/{total_q} = {total_ok / total_q:.1%}")
    print(f"chunks that are chrome: {total_dirty}/{total_chunks} = {total_dirty / total_chunks:.1%}")
    print(f"parse time for the five files: {elapsed:.2f} s")
    print("\nrandom sample of chunks for hand inspection (seed 7):")
    for text in random.Random(7).sample(samples, 10):
        print("  -", text.replace("\n", " | ")[:160])
    return 0 if total_ok / total_q >= 0.95 and total_dirty / total_chunks <= 0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
