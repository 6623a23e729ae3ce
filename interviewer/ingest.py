"""Ingest: read article files, strip site chrome, split into Q&A units, chunk by tokens, store."""

from __future__ import annotations

import hashlib
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from interviewer.bank import BankItem, LocalizedQA
from interviewer.errors import IngestError, InterviewerError
from interviewer.tokens import count_tokens

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024  # one article; anything bigger is almost surely not an article
CHUNK_TOKENS = 350
CHUNK_OVERLAP = 40
MIN_ANSWER_CHARS = 10  # of answer text once links are removed; below that the article gives no answer
FALLBACK_TOPIC = "classical-ml"
Lang = Literal["zh", "en"]


class Chunk(BaseModel):
    """A piece of an article as stored in the "articles" collection."""

    id: str = Field(description="Deterministic: derived from source, fingerprint and position.")
    text: str = Field(description="The chunk's text (question line included when it has one).")
    source: str = Field(description="The article file, as an absolute path.")
    title: str = Field(description="The article's title.")
    question: str = Field(default="", description="The Q&A unit's question, '' for preamble text.")
    position: int = Field(ge=0, description="Order of the chunk within the article.")
    content_hash: str = Field(description="SHA-256 of `text`.")
    lang: Literal["zh", "en"] = Field(description="Main language of the text.")


class SourceStore(Protocol):
    """What ingestion needs from the vector store (implemented by store.KnowledgeStore)."""

    def source_fingerprint(self, source: str) -> str | None:
        """The fingerprint stored for `source`, or None if it was never ingested."""
        ...

    def replace_source(self, source: str, fingerprint: str, chunks: list[Chunk], items: list[BankItem]) -> None:
        """Make `chunks` and `items` the only stored content of `source`, all or nothing."""
        ...


class QAUnit(BaseModel):
    """One question with its answer as found in an article (or preamble text without a question)."""

    position: int = Field(ge=0, description="Order of the unit within the article.")
    question: str = Field(description="The question or heading, numbering removed; '' for preamble text.")
    section: str = Field(default="", description="The enclosing heading for numbered sub-sections, else ''.")
    answer: str = Field(description="The text under the question, lines kept.")

    @property
    def has_answer(self) -> bool:
        """True when the answer has real text, not just links or a couple of characters."""
        return len(_URL.sub("", self.answer).strip()) >= MIN_ANSWER_CHARS


class ParsedArticle(BaseModel):
    """An article after cleaning and splitting: what would be stored for it."""

    source: str = Field(description="The article file, as an absolute path.")
    fingerprint: str = Field(description="SHA-256 of the file's bytes.")
    title: str = Field(description="Title found in the page (or its first sentence when it has none).")
    lang: Lang = Field(description="Main language of the article.")
    encoding: str = Field(description="Text encoding the file was decoded with.")
    units: list[QAUnit] = Field(description="Q&A units in order; preamble text has an empty question.")
    chunks: list[Chunk] = Field(description="Token-bounded chunks of the units, in order.")
    items: list[BankItem] = Field(description="Question-bank items for units that have a question and answer.")
    chrome_lines_removed: int = Field(ge=0, description="Lines dropped as site chrome (menus, counters, ...).")


FileStatus = Literal["added", "unchanged", "replaced", "error"]


class FileResult(BaseModel):
    """What happened to one file of an ingest batch."""

    source: str = Field(description="The file as given or found in a folder.")
    status: FileStatus = Field(description="added | unchanged | replaced | error.")
    title: str = Field(default="", description="The article's title ('' when unchanged or failed).")
    chunks: int = Field(default=0, ge=0, description="Chunks stored for the file (0 when unchanged).")
    qa_items: int = Field(default=0, ge=0, description="Question-bank items extracted (0 when unchanged).")
    message: str = Field(default="", description="One-line error message naming the file and the reason.")
    seconds: float = Field(default=0.0, ge=0, description="Time spent on the file.")


class IngestReport(BaseModel):
    """The outcome of `ingest_paths`: one entry per file, in the order processed."""

    files: list[FileResult] = Field(default_factory=list, description="Per-file results.")

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def errors(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "error"]

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.errors


# --- finding and reading files ------------------------------------------------------------------
def iter_article_paths(paths: Iterable[Path | str]) -> Iterator[Path | IngestError]:
    """Every article file under `paths` (files, or folders searched recursively), each once, in a
    stable order; a path that cannot be used is yielded as an `IngestError` instead of raised, so
    the caller can carry on with the rest."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                yield from _walk_folder(path, seen)
            elif path.is_file():
                if path.suffix.lower() not in ARTICLE_SUFFIXES:
                    yield IngestError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                                      f"use one of {', '.join(ARTICLE_SUFFIXES)}")
                elif _first_visit(path, seen):
                    yield path
            else:
                yield _missing_path_error(path)
        except PermissionError:
            yield IngestError(f"{path}: permission denied while looking it up; make it readable")


def _first_visit(path: Path, seen: set[str]) -> bool:
    key = os.path.realpath(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def _missing_path_error(path: Path) -> IngestError:
    if path.is_symlink():
        return IngestError(f"{path}: broken symbolic link (target {os.readlink(path)!r} does not exist); "
                           "fix or remove the link")
    if not path.exists():
        return IngestError(f"{path}: no such file or folder; check the path")
    return IngestError(f"{path}: not a regular file or folder")


def _walk_folder(folder: Path, seen: set[str]) -> Iterator[Path | IngestError]:
    errors: list[OSError] = []
    # followlinks=False: a link to a parent folder would otherwise loop forever
    for dirpath, dirnames, filenames in os.walk(folder, onerror=errors.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in ARTICLE_SUFFIXES:
                continue
            if not path.exists():
                yield _missing_path_error(path)
            elif _first_visit(path, seen):
                yield path
    for exc in errors:
        yield IngestError(f"{exc.filename}: cannot list folder: {exc.strerror}; check its permissions")


def read_article_bytes(path: Path) -> bytes:
    """The file's bytes, refusing files over `MAX_FILE_BYTES` before reading them whole."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(path, size)
        with path.open("rb") as handle:
            # read one byte past the limit: stat sizes of special files can lie
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _missing_path_error(path) from None
    except PermissionError:
        raise IngestError(f"{path}: permission denied; make the file readable (chmod a+r)") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, len(data))
    return data


def _too_large(path: Path, size: int) -> IngestError:
    return IngestError(f"{path}: file is {size / 2**20:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
                       "for one article; split it into smaller files")


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B}


def decode_article(path: Path, data: bytes) -> tuple[str, str]:
    """Decode an article's bytes; returns (text, encoding name). Raises `IngestError` for empty,
    binary, damaged or undecodable files.

    Order: a BOM wins; then strict UTF-8; then GB18030 (a superset of GBK/GB2312, what Chinese
    Windows editors write) if the result looks like real Chinese; then charset_normalizer."""
    if not data:
        raise IngestError(f"{path}: file is empty (0 bytes); nothing to ingest")
    text, encoding = _decode(path, data)
    text = text.lstrip("\ufeff")
    controls = sum(1 for ch in text[:65536] if ord(ch) in _CONTROL_BYTES)
    if controls > max(2, len(text[:65536]) // 100):
        raise IngestError(f"{path}: looks like a binary file ({controls} control characters); "
                          "ingest text, Markdown or HTML files only")
    if not text.strip():
        raise IngestError(f"{path}: file contains only whitespace; nothing to ingest")
    return text, encoding


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec.replace("-sig", "")
            except UnicodeDecodeError as exc:
                raise IngestError(f"{path}: starts with a {codec} byte-order mark but is not valid {codec} "
                                  f"at byte {exc.start}; re-save it as UTF-8") from None
    head = data[:65536]
    if b"\x00" in head or sum(1 for b in head if b in _CONTROL_BYTES) > max(2, len(head) // 100):
        raise IngestError(f"{path}: looks like a binary file (NUL or control bytes; UTF-16 needs a "
                          "byte-order mark); ingest text, Markdown or HTML files only")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if _mostly_utf8(data):
            raise IngestError(f"{path}: not valid UTF-8 at byte {exc.start} although the rest is UTF-8 "
                              "(damaged file or mixed encodings); re-save it as UTF-8") from None
    try:
        text = data.decode("gb18030")
        if _plausible_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    return _detect(path, data)


def _mostly_utf8(data: bytes) -> bool:
    """True when most non-ASCII bytes form valid UTF-8: a UTF-8 file with a few bad bytes,
    rather than a file in another encoding."""
    decoded = data.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd")
    good = sum(1 for ch in decoded if ord(ch) > 127 and ch != "\ufffd")
    return good >= 8 and good >= 4 * bad


def _plausible_chinese(text: str) -> bool:
    """GB18030 decodes many non-Chinese byte strings into rare characters; real Chinese text is
    nearly all within the common GB2312 set."""
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return True
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(wide)


def _detect(path: Path, data: bytes) -> tuple[str, str]:
    # charset_normalizer: well kept, and better than a hand-written guesser for the long tail
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise IngestError(f"{path}: cannot tell the text encoding (not UTF-8, GBK/GB18030 or UTF-16 with "
                          "BOM); re-save it as UTF-8")
    return str(best), best.encoding


# --- HTML to lines ---------------------------------------------------------------------------
_HTML_NOISE_TAGS = ("script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg",
                    "button", "template", "select", "input", "textarea")
_HTML_NOISE_NAMES = re.compile(
    r"menu|navbar|\bnav\b|comment|share|sharing|recommend|related|sidebar|side-bar|footer|login|"
    r"breadcrumb|advert|\bads?\b|social|toolbar|hot-?list|hot_list|copyright|banner|popup|modal|follow",
    re.IGNORECASE,
)
_HTML_BLOCKS = frozenset(
    ["p", "div", "section", "article", "main", "header", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "pre", "blockquote", "dt", "dd", "dl", "figure", "figcaption", "hr"]
)
_LIST_MARK = "\u0001"  # stands in for list indentation until the text is split into lines


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page as lines, menus/comments/share blocks dropped; headings become
    Markdown headings and list items indented lines. Returns (text, title or '')."""
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    title = _html_title(soup)
    for tag in soup.find_all(_HTML_NOISE_TAGS):
        tag.decompose()
    for tag in soup.find_all("header"):
        if tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    total = len(soup.get_text())
    for tag in list(soup.find_all(True)):
        if tag.decomposed or tag.name in ("html", "body", "main", "article"):
            continue
        names = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
        # a wrapper holding most of the page is never noise, whatever its class says
        if names.strip() and _HTML_NOISE_NAMES.search(names) and len(tag.get_text()) < 0.5 * total:
            tag.decompose()
    for node in list(soup.find_all(string=True)):
        if isinstance(node, NavigableString) and node.find_parent("pre") is None:
            node.replace_with(re.sub(r"\s+", " ", str(node)))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.name not in _HTML_BLOCKS:
            continue
        if re.fullmatch(r"h[1-6]", tag.name):
            tag.insert(0, "#" * int(tag.name[1]) + " ")
        elif tag.name == "li":
            parent = tag.find_parent(["ol", "ul"])
            if parent is not None and parent.name == "ol":
                number = len(tag.find_previous_siblings("li")) + 1
                tag.insert(0, f"{_LIST_MARK}{number}. ")
            else:
                tag.insert(0, f"{_LIST_MARK}• ")
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = []
    for line in soup.get_text().split("\n"):
        stripped = line.strip()
        if stripped.startswith(_LIST_MARK):
            stripped = "  " + stripped.replace(_LIST_MARK, "").strip()
        lines.append(stripped.replace(_LIST_MARK, ""))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), title


def _html_title(soup: object) -> str:
    for name in ("title", "h1"):
        tag = soup.find(name)  # type: ignore[attr-defined]
        if tag is not None and tag.get_text(strip=True):
            return str(tag.get_text(" ", strip=True))
    return ""


# --- site chrome ----------------------------------------------------------------------------
# Whole lines that are page furniture on Chinese and English article sites. Written as general
# patterns (buttons, counters, dates, legal boilerplate), not as the text of particular pages.
_CHROME_LINES = re.compile(
    r"^(?:"
    r"首页|主页|登录|注册|登录\s*/\s*注册|/|\||·|关注|已关注|取消关注|\+\s*关注|关注作者|私信|点赞|评论|收藏|分享|举报|转发|"
    r"编辑|已编辑|更多|搜索|推荐|最新|最热|热门|楼层|回复|置顶|打赏|赞赏|返回内容|返回顶部|返回首页|全部评论|查看更多|"
    r"展开全文|展开阅读全文|阅读全文|上一篇|下一篇|点赞成功.*|聊一聊.*|写评论|发表评论|提到的真题|"
    r"home|log ?in|sign ?in|sign ?up|register|follow|following|unfollow|like|likes|share|comment|comments|"
    r"reply|report|more|search|menu|subscribe|back to top|read more|previous|next"
    r")$",
    re.IGNORECASE,
)
_COUNTER_LINES = re.compile(
    r"^(?:"
    r"(?:点赞|评论|收藏|分享|阅读|浏览|喜欢|赞|转发|回复|粉丝|关注|views?|likes?|comments?|shares?)\s*[:：]?\s*\d[\d,.]*[kKwW万]?|"
    r"\d[\d,.]*[kKwW万]?\s*(?:次浏览|次阅读|人参与|人浏览|人点赞|人看过|阅读|浏览|赞|评论|收藏|条评论|views?|likes?|comments?)|"
    r"\d[\d,.]*\s*阅读\s*\d+\s*分钟|阅读\s*\d+\s*分钟|\d+\s*min(?:ute)?s? read|"
    r"\d{1,7}|#|\.{3}|…+|[-=_*·•]{1,}"
    r")$",
    re.IGNORECASE,
)
_DATE_LINES = re.compile(
    r"^(?:(?:发布于|发表于|更新于|编辑于|posted on|updated)\s*)?"
    r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}-\d{1,2}|昨天|今天|前天|刚刚|\d+\s*(?:秒|分钟|小时|天)前)"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*(?:发布|编辑|更新))?$",
    re.IGNORECASE,
)
_SHORT_CHROME = re.compile(  # chrome when the line is short: location stamps, tips, pay buttons
    r"^(?:发布于|IP属地|来自)\s*\S{1,10}$|打赏|赞赏|ali ?pay|wechat ?pay|微信支付|支付宝|扫码|二维码|"
    r"^\S+\.(?:png|jpe?g|gif|webp|svg|bmp)$|^(?:image|图片)$|^(?:暂无评论|快来抢首评|快来发表|发表一下你的评论)",
    re.IGNORECASE,
)
_LEGAL_LINES = re.compile(
    r"版权声明|本文链接|本文作者|原文链接|转载请注明|如若转载|侵权|不代表本站立场|信息存储空间服务|"
    r"All rights reserved|Copyright ©|©\s*\d{4}",
    re.IGNORECASE,
)
# Where the article ends and the page's recommendations or comments begin.
_TAIL_MARKERS = re.compile(
    r"^(?:相关推荐|相关文章|相关阅读|推荐阅读|热门推荐|热门文章|猜你喜欢|为你推荐|精选推荐|全站热榜|热榜|"
    r"全部评论|评论区|最新评论|热门评论|暂无评论.*|全部\s*\d+\s*条评论|\d+\s*条评论|"
    r"related (?:posts|articles)|you may also like|recommended(?: for you)?|comments?(?: \(\d+\))?)$",
    re.IGNORECASE,
)
# Promotional sentences inside article text ("follow my account", "more coming soon").
_PROMO_SENTENCE = re.compile(
    r"公众号|欢迎关注|敬请关注|持续关注|关注我|敬请期待|持续更新中|点赞关注|一键三连|加群|微信号|转载请|"
    r"follow me|subscribe to|stay tuned",
    re.IGNORECASE,
)
# Clause ends: sentence punctuation, or a space next to a Chinese character (pasted pages often
# separate sentences with spaces), so dropping a promotional clause never takes content with it.
_CLAUSE_END = re.compile(r"(?<=[。！!？?~])(?![。！!？?~])|\s+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\s+")


def _is_chrome_line(line: str) -> bool:
    text = line.strip()
    if not text:
        return False
    if _CHROME_LINES.match(text) or _COUNTER_LINES.match(text) or _DATE_LINES.match(text):
        return True
    if len(text) <= 30 and _SHORT_CHROME.search(text):
        return True
    return len(text) <= 400 and bool(_LEGAL_LINES.search(text))


def _strip_promo_sentences(line: str) -> str:
    if not _PROMO_SENTENCE.search(line):
        return line
    pieces, cursor = [], 0
    for match in _CLAUSE_END.finditer(line):
        pieces.append(line[cursor:match.end()])
        cursor = match.end()
    pieces.append(line[cursor:])
    return "".join(p for p in pieces if not _PROMO_SENTENCE.search(p)).rstrip()


# --- lines and structure -----------------------------------------------------------------------
@dataclass
class _Line:
    text: str
    fragment: bool = False  # cut out of a longer line, so not a heading of its own


_URL = re.compile(r"https?://\S+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_TOC_MARK = re.compile(r"^(?:目\s*录|文章目录|contents|table of contents)\s*[:：]?$", re.IGNORECASE)
_NUMBERED = re.compile(
    r"^(?:#{1,6}\s*)?(?:"
    r"(?P<q>(?:Q|问题|题目|第|面试题)\s*(?P<qn>\d{1,3})\s*题?\s*[.:：、)）]?\s*)|"
    r"(?P<paren>[（(](?P<pn>\d{1,3})[)）]\s*)|"
    r"(?P<dot>(?P<dn>\d{1,3})(?:(?P<sub>(?:\.\d{1,2})+)\.?\s+|\s*[.、．)）](?!\d)\s*))"
    r")(?P<rest>\S.*)$",
    re.IGNORECASE,
)
_ANSWER_MARK = re.compile(r"^(?:答|解答|回答|参考答案|answer|a)\s*[:：]\s*", re.IGNORECASE)
_INTERROGATIVE = re.compile(
    r"为什么|为何|如何|怎么|怎样|什么|哪些|哪种|哪个|是否|能否|区别|异同|优缺点|优劣|原因|原理|作用|吗|"
    r"\b(?:why|how|what|which|when|explain|describe|compare|difference)\b",
    re.IGNORECASE,
)
_NOT_A_QUESTION = re.compile(r"^(?:总结|小结|结语|结论|前言|引言|参考|参考资料|参考文献|写在最后|后记|"
                             r"summary|conclusions?|references|introduction)\b", re.IGNORECASE)
# Where a numbered question or list item starts inside a long line (articles pasted as one line).
_INLINE_BREAK = re.compile(
    r"(?<=[\s。！？!?；;:：])(?="
    r"目\s*录\s|"
    r"\d{1,2}(?:\.\d{1,2})+\s|"
    r"\d{1,2}[.、．](?!\d)\s*\S|"
    r"[（(]\d{1,2}[)）]|"
    r"[a-h][.、)]\s|"
    r"[一二三四五六七八九十]{1,3}、|"
    r"[●•▪■◆]|"
    r"(?:Q|问题)\s*\d{1,3}[.:：、\s]"
    r")"
)
_LONG_LINE = 200
_SENTENCE_END = ("。", ".", "!", "！", ";", "；", ":", "：", ",", "，")


@dataclass
class _Numbered:
    family: str  # "q", "paren", or "dot" plus its separator ("dot.", "dot、", "dot)"): a list keeps one style
    number: int
    sub: bool
    rest: str


def _numbered(text: str) -> _Numbered | None:
    match = _NUMBERED.match(text.strip())
    if match is None:
        return None
    if match.group("q"):
        return _Numbered("q", int(match.group("qn")), False, match.group("rest"))
    if match.group("paren"):
        return _Numbered("paren", int(match.group("pn")), False, match.group("rest"))
    separator = re.sub(r"[\d\s#]", "", match.group("dot"))[-1:] or "."
    separator = {"．": ".", "）": ")"}.get(separator, separator)
    return _Numbered(f"dot{separator}", int(match.group("dn")), bool(match.group("sub")), match.group("rest"))


def _is_indented(raw: str) -> bool:
    return raw[:1] in (" ", "\t", "\u3000") or raw.lstrip()[:1] in ("•", "●", "▪", "■", "◆", "-", "*", "+")


def _question_text(text: str) -> str:
    """A question or heading line without Markdown hashes or its number."""
    text = text.strip()
    heading = _MD_HEADING.match(text)
    if heading:
        text = heading.group(2).strip()
    numbered = _numbered(text)
    if numbered is not None:
        text = numbered.rest.strip()
    return text.strip("*").strip()


def _canon(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _matches_entry(line: str, entry: str) -> int | None:
    """Where `entry` ends inside `line` if the line starts with it (spacing and full/half width
    ignored) and the entry ends at a word boundary; else None."""
    target = _canon(entry)
    matched = 0
    for index, ch in enumerate(line):
        if matched == len(target):
            rest = line[index:]
            return index if not rest or rest[0].isspace() or rest[0] in "?？:：" else None
        if ch.isspace():
            continue
        if _canon(ch) != target[matched:matched + len(_canon(ch))]:
            return None
        matched += len(_canon(ch))
    return len(line) if matched == len(target) else None


def _cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def detect_lang(text: str) -> Lang:
    """zh when Chinese characters carry a real share of the text (a Latin word ~ five letters)."""
    cjk = _cjk_count(text)
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if cjk > 0 and cjk * 5 >= latin else "en"


def _is_question_like(text: str) -> bool:
    stripped = text.strip().rstrip("*").strip()
    return stripped.endswith(("?", "？")) or bool(_INTERROGATIVE.search(stripped))


# --- cleaning --------------------------------------------------------------------------------
@dataclass
class _Cleaned:
    lines: list[_Line]
    title: str
    removed: int


def _split_long_lines(lines: list[str]) -> list[_Line]:
    result: list[_Line] = []
    for raw in lines:
        if len(raw) <= _LONG_LINE:
            result.append(_Line(raw))
            continue
        cuts = [0, *(m.start() for m in _INLINE_BREAK.finditer(raw)), len(raw)]
        pieces = [raw[a:b].strip() for a, b in pairwise(cuts)]
        result.extend(_Line(p, fragment=True) for p in pieces if p)
    return result


def _content_start(lines: list[str]) -> int:
    """Index of the first line that is article content rather than page header."""
    for index, raw in enumerate(lines):
        text = raw.strip()
        if not text or _is_chrome_line(text):
            continue
        if _ANSWER_MARK.match(text):  # the question is the line above its answer marker
            previous = [i for i in range(index) if lines[i].strip() and not _is_chrome_line(lines[i])]
            return previous[-1] if previous else index
        long_enough = len(text) >= 50 or (len(text) >= 25 and text.endswith(("。", ".", "!", "！")))
        if (long_enough or _TOC_MARK.match(text) or (_MD_HEADING.match(text) is not None and index > 0)
                or _numbered(text) is not None or text.endswith(("?", "？"))):
            return index
    return 0


_TITLE_WORDS = re.compile(r"面试|面经|八股|题|汇总|总结|知识点|深度学习|机器学习|算法|神经网络|"
                          r"interview|questions?|deep learning|machine learning", re.IGNORECASE)


def _pick_title(header: list[str]) -> str:
    """The header line that reads most like an article title: long enough, not an @mention or a
    label ending in a colon, with topic words; the later line wins a tie (titles sit just above
    the text, below menus)."""
    best, best_score = "", 0.0
    for text in (line.strip() for line in header):
        heading = _MD_HEADING.match(text)
        text = heading.group(2).strip() if heading else text
        if len(text) < 4 or text.endswith((":", "：")) or text.startswith("@") or _is_chrome_line(text):
            continue
        score = 1 + len(_TITLE_WORDS.findall(text)) + (2 if re.search(r"[【\[].+[】\]]", text) else 0)
        score += 3 if heading else 0
        if score >= best_score:
            best, best_score = text, score
    return best


def _first_sentence(lines: list[_Line]) -> str:
    for line in lines:
        text = line.text.strip()
        if text:
            sentence = re.split(r"(?<=[。！？!?])|(?<=\.\s)", text)[0]
            return sentence[:60].strip()
    return ""


def clean_text(text: str, title_hint: str = "") -> tuple[list[str], str, int]:
    """Remove site chrome from an article's text. Returns (content lines, title, lines removed)."""
    cleaned = _clean(text, title_hint)
    return [line.text for line in cleaned.lines], cleaned.title, cleaned.removed


def _clean(text: str, title_hint: str = "") -> _Cleaned:
    raw = [line.rstrip().replace("\u00a0", " ").replace("\t", "    ")
           for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    total = sum(1 for line in raw if line.strip())
    start = _content_start(raw)
    header, body = raw[:start], raw[start:]
    title = title_hint or _pick_title(header)
    # Header lines are menus, author and follow buttons; a long or sentence-like line stays.
    kept_header = [line for line in header
                   if len(line.strip()) > 40 and line.strip() != title and not _is_chrome_line(line)]
    for index, line in enumerate(body):
        if index > 0 and _TAIL_MARKERS.match(line.strip()):
            body = body[:index]
            break
    lines: list[str] = []
    for line in [*kept_header, *body]:
        if _is_chrome_line(line):
            continue
        stripped = _strip_promo_sentences(line)
        if stripped.strip() or not line.strip():
            lines.append(stripped)
    # a title line repeated as the first content line is the title, not content
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and title and _question_text(lines[0]) == title and not _numbered(lines[0]):
        lines.pop(0)
    split = _split_long_lines(lines)
    kept = sum(1 for line in lines if line.strip())
    return _Cleaned(split, title or _first_sentence(split), max(0, total - kept))


# --- splitting into Q&A units --------------------------------------------------------------------
@dataclass
class _Start:
    index: int
    question: str
    section: str = ""


def _find_toc(lines: list[_Line]) -> tuple[int, int, list[str]] | None:
    """(first line, end line, entries) of a table of contents whose entries reappear later."""
    for index, line in enumerate(lines):
        if not _TOC_MARK.match(line.text.strip()):
            continue
        entries: list[str] = []
        end = index + 1
        while end < len(lines):
            text = lines[end].text.strip()
            if text and (len(text) > 80 or (entries and _matches_entry(text, entries[0]) is not None)):
                break
            if text:
                entries.append(text)
            end += 1
        later = [_canon(line.text) for line in lines[end:]]
        found = sum(1 for e in entries if any(c.startswith(_canon(e)) for c in later))
        if len(entries) >= 2 and found * 2 >= len(entries):
            return index, end, entries
    return None


def _top_level_entries(entries: list[str]) -> list[str]:
    """TOC entries that are questions: numbered ones, and unnumbered ones not sandwiched between
    numbered ones (those are sub-headings of the question above them)."""
    numbered = [i for i, e in enumerate(entries) if _numbered(e) is not None]
    if not numbered:
        return entries
    return [e for i, e in enumerate(entries)
            if _numbered(e) is not None or i > numbered[-1] or i < numbered[0]]


def _toc_starts(lines: list[_Line], entries: list[str]) -> list[_Start]:
    starts: list[_Start] = []
    cursor = 0
    for entry in _top_level_entries(entries):
        for index in range(cursor, len(lines)):
            end = _matches_entry(lines[index].text.strip(), entry)
            if end is None:
                continue
            text = lines[index].text.strip()
            if end < len(text):  # question and answer share a line: cut after the entry
                lines[index:index + 1] = [_Line(text[:end], True), _Line(text[end:].strip(), True)]
            starts.append(_Start(index, _question_text(entry)))
            cursor = index + 1
            break
    return starts


def _standalone(lines: list[_Line], index: int) -> bool:
    """A line on its own between blank lines (or a Markdown heading): how pages render headings."""
    line = lines[index]
    if line.fragment or _is_indented(line.text):
        return False
    if _MD_HEADING.match(line.text.strip()):
        return True
    before = index == 0 or not lines[index - 1].text.strip()
    after = index + 1 >= len(lines) or not lines[index + 1].text.strip()
    return before and after and len(line.text.strip()) <= 80


def _answer_follows(lines: list[_Line], index: int) -> bool:
    for line in lines[index + 1:]:
        if line.text.strip():
            return bool(_ANSWER_MARK.match(line.text.strip()))
    return False


def _chain(lines: list[_Line]) -> list[int]:
    """The top-level numbered questions: the run n, n+1, n+2, ... of one numbering style that
    scores best. Question-like lines, lines followed by an answer marker and standalone headings
    score; a plain list item costs, so a nested list that continues the count (3., 4. after the
    top-level 2.) does not extend the run. Explicit "Q1"/"问题1" numbering wins when present."""
    families: dict[str, list[tuple[int, int, float]]] = {}
    for index, line in enumerate(lines):
        numbered = _numbered(line.text)
        if numbered is None or numbered.sub or _is_indented(line.text):
            continue
        score = 2 * _is_question_like(numbered.rest) + 3 * _answer_follows(lines, index)
        score += _standalone(lines, index) + 2 * bool(_MD_HEADING.match(line.text.strip()))
        families.setdefault(numbered.family, []).append((index, numbered.number, score - 0.5))
    best: tuple[float, int, list[int]] = (float("-inf"), 0, [])
    for family, candidates in families.items():
        chains = _best_chains(candidates)
        if family == "q" and any(len(c) >= 2 for _, c in chains):
            return max(chains, key=lambda t: (len(t[1]), t[0]))[1]
        for total, chain in chains:
            best = max(best, (total, len(chain), chain))
    if len(best[2]) >= 2 or best[0] > 0:
        return best[2]
    # nothing stands out (e.g. a bare numbered list with no question marks): take the longest run
    runs = [c for cands in families.values() for _, c in _best_chains(cands)]
    return max(runs, key=len, default=[])


def _best_chains(candidates: list[tuple[int, int, float]]) -> list[tuple[float, list[int]]]:
    """For each candidate, the best-scoring consecutive run ending there (dynamic programming)."""
    total: dict[int, tuple[float, list[int]]] = {}
    for index, number, score in candidates:
        previous = [total[i] for i, n, _ in candidates if i < index and n == number - 1 and i in total]
        base = max(previous, key=lambda t: t[0], default=(0.0, []))
        # the first member of a run is free: a run is judged by how its continuation scores
        total[index] = (base[0] + (score if base[1] else max(score, 0.0)), [*base[1], index])
    return list(total.values())


def _structure_starts(lines: list[_Line], toc_starts: list[_Start] | None) -> list[_Start]:
    chain = set() if toc_starts is not None else set(_chain(lines))
    starts = {s.index: s for s in toc_starts or []}
    section = ""
    for index, line in enumerate(lines):
        text = line.text.strip()
        if not text or index in starts or _is_indented(line.text) or _ANSWER_MARK.match(text):
            continue
        numbered = _numbered(text)
        heading = _MD_HEADING.match(text) is not None
        if index in chain:
            section = _question_text(text)
            starts[index] = _Start(index, section)
        elif numbered is not None and numbered.family.startswith("dot") and numbered.sub:
            if toc_starts is None and _standalone(lines, index):
                starts[index] = _Start(index, _question_text(text), section)
        elif numbered is not None and not heading:
            continue  # a nested list item inside an answer
        elif _unnumbered_question(lines, index, heading and toc_starts is None):
            starts[index] = _Start(index, _question_text(text))
    return [starts[i] for i in sorted(starts)]


def _unnumbered_question(lines: list[_Line], index: int, heading_starts: bool) -> bool:
    """An unnumbered line that opens a question: followed by an answer marker, a Markdown heading
    (when no TOC decides), a short line ending in a question mark, or a standalone heading that
    asks something ("...的原因和解决方法") rather than naming a sub-part ("定义", "原因")."""
    line = lines[index]
    text = line.text.strip()
    if (_answer_follows(lines, index) and len(text) <= 200) or heading_starts:
        return True
    if not line.fragment and len(text) <= 100 and text.rstrip("*").strip().endswith(("?", "？")):
        return True
    return (_standalone(lines, index) and 8 <= len(_question_text(text)) <= 60
            and not text.endswith(_SENTENCE_END) and bool(_INTERROGATIVE.search(text)))


def _split_question_line(question: str, lines: list[_Line], index: int) -> tuple[str, str]:
    """For a start line that also carries answer text (one-line articles without a TOC), cut the
    question at its question mark or, failing that, at the first space after a short head."""
    text = question
    if not lines[index].fragment or len(text) <= 100:
        return text, ""
    cut = re.search(r"[?？]", text[:120])
    if cut is None:
        cut = re.search(r"\s", text[6:60])
        end = cut.end() + 6 if cut else 60
    else:
        end = cut.end()
    return text[:end].strip(), text[end:].strip()


def split_units(lines: list[_Line]) -> list[QAUnit]:
    """Split cleaned lines into Q&A units (a preamble unit without a question comes first when
    the article has text before its first question)."""
    lines = list(lines)
    toc = _find_toc(lines)
    toc_starts = None
    if toc is not None:
        first, end, entries = toc
        del lines[first:end]
        toc_starts = _toc_starts(lines, entries)
    starts = _structure_starts(lines, toc_starts)
    units: list[QAUnit] = []
    bounds = [s.index for s in starts] + [len(lines)]
    preamble = _join(lines[: bounds[0]])
    if preamble:
        units.append(QAUnit(position=0, question="", answer=preamble))
    pending_heading = ""
    for start, end in zip(starts, bounds[1:], strict=False):
        question, inline_answer = _split_question_line(start.question, lines, start.index)
        answer = _join([_Line(inline_answer), *lines[start.index + 1: end]])
        if not answer:
            # a heading with nothing under it (e.g. a chapter title before its numbered parts):
            # keep its words as context of what follows rather than as an empty unit
            pending_heading = question
            continue
        section = start.section or pending_heading
        pending_heading = ""
        units.append(QAUnit(position=len(units), question=question,
                            section=section if section != question else "", answer=answer))
    if pending_heading:
        units.append(QAUnit(position=len(units), question="", answer=pending_heading))
    return units


def _join(lines: list[_Line]) -> str:
    texts = [line.text.strip() for line in lines if line.text.strip()]
    if texts:
        texts[0] = _ANSWER_MARK.sub("", texts[0], count=1).strip()
    return "\n".join(t for t in texts if t)


# --- chunks and bank items -----------------------------------------------------------------------
@cache
def _splitter(chunk_tokens: int) -> object:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_tokens,
        chunk_overlap=min(CHUNK_OVERLAP, chunk_tokens // 4),
        length_function=count_tokens,
        # Chinese has no spaces: sentence and clause punctuation are the natural cut points
        separators=["\n\n", "\n", "。", "！", "？", "；", "，", ". ", "! ", "? ", "; ", ", ", " ", ""],
        keep_separator="end",
    )


def _unit_head(unit: QAUnit) -> str:
    return "\n".join(part for part in (unit.section, unit.question) if part)


def _chunk_texts(unit: QAUnit) -> list[str]:
    head = _unit_head(unit)
    whole = f"{head}\n{unit.answer}" if head else unit.answer
    if count_tokens(whole) <= CHUNK_TOKENS:
        return [whole]
    budget = max(100, CHUNK_TOKENS - count_tokens(head) - 1)
    pieces = _splitter(budget).split_text(unit.answer)  # type: ignore[attr-defined]
    return [f"{head}\n{piece}" if head else piece for piece in pieces]


def _chunk_id(source: str, fingerprint: str, position: int) -> str:
    digest = hashlib.sha256(f"{source}\0{fingerprint}\0{position}".encode()).hexdigest()[:24]
    return f"art-{digest}"


def make_chunks(units: list[QAUnit], source: str, fingerprint: str, title: str) -> list[Chunk]:
    """Token-bounded chunks of `units`; every chunk of a unit starts with the unit's question."""
    chunks: list[Chunk] = []
    for unit in units:
        for text in _chunk_texts(unit):
            position = len(chunks)
            chunks.append(Chunk(
                id=_chunk_id(source, fingerprint, position), text=text, source=source, title=title,
                question=unit.question, position=position,
                content_hash=hashlib.sha256(text.encode()).hexdigest(), lang=detect_lang(text),
            ))
    return chunks


# Keywords per topic slug of knowledge/topics.yaml (tests check every slug exists there).
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "imbalanced-data": ("不均衡", "不平衡", "过采样", "欠采样", "smote", "imbalance", "oversampl", "undersampl"),
    "data-augmentation": ("数据增强", "数据扩充", "augmentation", "mixup", "翻转", "裁剪"),
    "overfitting": ("过拟合", "欠拟合", "overfit", "underfit", "泛化", "early stopping", "提前终止"),
    "regularization": ("正则化", "范数", "l0", "l1", "l2", "regulariz", "weight decay", "权重衰减", "lasso"),
    "activations": ("激活函数", "relu", "sigmoid", "tanh", "softmax", "activation", "非线性", "gelu"),
    "gradients": ("梯度消失", "梯度爆炸", "梯度弥散", "vanishing", "exploding", "梯度裁剪", "梯度剪切", "clipping"),
    "initialization": ("初始化", "xavier", "initializ", "对称性"),
    "optimizers": ("优化器", "adam", "sgd", "rmsprop", "momentum", "动量", "optimizer", "学习速率", "学习率调度"),
    "batch-size": ("batch size", "批大小", "批量大小", "小批量", "mini-batch", "批处理", "打乱"),
    "dropout": ("dropout",),
    "normalization": ("batchnorm", "batch normalization", "批量归一化", "归一化", "layernorm", "layer norm"),
    "transfer-learning": ("迁移学习", "微调", "fine-tun", "transfer learning", "预训练", "冻结", "多任务"),
    "cnn": ("卷积", "cnn", "convolution", "池化", "pooling", "感受野", "过滤器"),
    "rnn": ("rnn", "lstm", "gru", "bilstm", "循环神经网络", "双向", "门控"),
    "transformer": ("transformer", "注意力", "attention", "位置编码"),
    "losses": ("损失函数", "交叉熵", "cross-entropy", "cross entropy", "mse", "均方误差", "focal", "hinge", "合页"),
    "metrics": ("roc", "auc", "精确率", "召回率", "precision", "recall", "f1", "准确率", "评价指标", "混淆矩阵"),
    "segmentation": ("分割", "segmentation", "u-net", "unet", "hrnet", "mask r-cnn"),
    "detection": ("目标检测", "detection", "yolo", "yolov5", "faster-rcnn", "rcnn", "r-cnn", "roi", "锚框", "iou"),
    "autoencoders": ("自编码器", "autoencoder", "vae", "变分"),
    "gan": ("gan", "生成对抗", "判别器", "discriminator", "生成器"),
    "diffusion": ("扩散", "diffusion"),
    "decision-trees": ("决策树", "decision tree", "id3", "c4.5", "cart", "随机森林", "xgboost", "gbdt", "boosting"),
    "svm": ("svm", "支持向量", "核技巧", "超平面"),
    "bayes": ("贝叶斯", "bayes", "先验", "后验"),
    "compression": ("剪枝", "量化", "蒸馏", "部署", "pruning", "quantiz", "distill", "deploy", "模型压缩"),
    "gpu-training": ("gpu", "利用率", "分布式", "dataloader", "distributed", "显存", "cuda"),
    "llm": ("大模型", "llm", "大语言模型", "gpt", "prompt", "提示学习"),
    "embeddings": ("词向量", "embedding", "word2vec", "表示学习"),
    "reinforcement-learning": ("强化学习", "模仿学习", "reinforcement", "imitation learning", "q-learning",
                               "策略梯度", "policy gradient", "奖励", "reward", "行为克隆"),
    "classical-ml": ("机器学习", "逻辑回归", "线性回归", "knn", "k-means", "聚类", "pca"),
}


@cache
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # short Latin keywords (l1, roc, gan) must not match inside longer words
    if keyword.isascii():
        return re.compile(rf"(?<![a-z]){re.escape(keyword)}", re.IGNORECASE)
    return re.compile(re.escape(keyword))


def guess_topic(question: str, answer: str) -> str:
    """The topic slug whose keywords occur most (question words count three times)."""
    best, best_score = FALLBACK_TOPIC, 0
    for slug, keywords in TOPIC_KEYWORDS.items():
        score = sum(3 * len(_keyword_pattern(k).findall(question)) + min(3, len(_keyword_pattern(k).findall(answer)))
                    for k in keywords)
        if score > best_score:
            best, best_score = slug, score
    return best


def _item_id(source: str, position: int) -> str:
    return f"article:{hashlib.sha256(source.encode()).hexdigest()[:12]}:{position:03d}"


def _as_interview_question(heading: str, lang: Lang) -> str:
    """A heading that names a topic ("激活函数") becomes a request to explain it; real questions
    are kept as written."""
    if _is_question_like(heading):
        return heading
    return f"请介绍：{heading}" if lang == "zh" else f"Explain: {heading}"


def make_items(units: list[QAUnit], source: str) -> list[BankItem]:
    """Question-bank items for the units that have a question and a real answer (not a mere link,
    not a conclusion heading)."""
    items = []
    for unit in units:
        if not unit.question or not unit.has_answer:
            continue
        if _NOT_A_QUESTION.match(unit.question):
            continue
        lang = detect_lang(f"{unit.question}\n{unit.answer}")
        qa = LocalizedQA(question=_as_interview_question(unit.question, lang), reference=unit.answer)
        items.append(BankItem(
            id=_item_id(source, unit.position), topic=guess_topic(unit.question, unit.answer),
            tags=["article"], origin="article", source=source, key_points=[],
            **{lang: qa},  # type: ignore[arg-type]
        ))
    return items


# --- whole articles and batches --------------------------------------------------------------------
def _absolute(path: Path) -> str:
    return os.path.abspath(path)


def parse_article(path: Path | str, data: bytes | None = None) -> ParsedArticle:
    """Read, clean and split one article (no store involved). `data` skips re-reading the file."""
    path = Path(path)
    if data is None:
        data = read_article_bytes(path)
    text, encoding = decode_article(path, data)
    title_hint = ""
    if path.suffix.lower() in HTML_SUFFIXES:
        text, title_hint = html_to_text(text)
    cleaned = _clean(text, title_hint)
    units = split_units(cleaned.lines)
    if not units:
        raise IngestError(f"{path}: no article text left after removing page menus and buttons; "
                          "is this an article page?")
    source = _absolute(path)
    fingerprint = hashlib.sha256(data).hexdigest()
    title = cleaned.title or path.stem
    return ParsedArticle(
        source=source, fingerprint=fingerprint, title=title,
        lang=detect_lang("\n".join(u.answer for u in units)), encoding=encoding, units=units,
        chunks=make_chunks(units, source, fingerprint, title), items=make_items(units, source),
        chrome_lines_removed=cleaned.removed,
    )


ProgressCallback = Callable[[int, int, FileResult], None]


def ingest_paths(paths: Iterable[Path | str], store: SourceStore,
                 progress: ProgressCallback | None = None) -> IngestReport:
    """Ingest every article under `paths` into `store`. An unchanged file (same SHA-256) is skipped
    without parsing; a changed one replaces its chunks and items in one call. A file that fails
    is reported and the batch goes on. `progress(done, total, result)` is called after each file."""
    found = list(iter_article_paths(paths))
    report = IngestReport()
    for done, entry in enumerate(found, start=1):
        result = _ingest_one(entry, store)
        report.files.append(result)
        if progress is not None:
            progress(done, len(found), result)
    return report


def unchanged_report(paths: Iterable[Path | str], stored: Mapping[str, str]) -> IngestReport | None:
    """The report `ingest_paths` would give if every article under `paths` is unchanged, i.e. its
    SHA-256 is the fingerprint `stored` for it; None as soon as one is not (new, changed,
    unreadable or not an article): those need the store, so the caller runs `ingest_paths`."""
    report = IngestReport()
    for entry in iter_article_paths(paths):
        if isinstance(entry, IngestError):
            return None
        started = time.perf_counter()
        try:
            data = read_article_bytes(entry)
        except InterviewerError:
            return None
        source = _absolute(entry)
        if stored.get(source) != hashlib.sha256(data).hexdigest():
            return None
        report.files.append(FileResult(source=source, status="unchanged", seconds=time.perf_counter() - started))
    return report


def _ingest_one(entry: Path | IngestError, store: SourceStore) -> FileResult:
    if isinstance(entry, IngestError):
        return FileResult(source=str(entry).split(": ", 1)[0], status="error", message=str(entry))
    started = time.perf_counter()
    try:
        data = read_article_bytes(entry)
        source = _absolute(entry)
        fingerprint = hashlib.sha256(data).hexdigest()
        previous = store.source_fingerprint(source)
        if previous == fingerprint:
            return FileResult(source=source, status="unchanged", seconds=time.perf_counter() - started)
        article = parse_article(entry, data)
        store.replace_source(source, fingerprint, article.chunks, article.items)
    except InterviewerError as exc:
        return FileResult(source=str(entry), status="error", message=str(exc),
                          seconds=time.perf_counter() - started)
    except Exception as exc:  # one file's bug must not cost the user the rest of the batch
        return FileResult(source=str(entry), status="error",
                          message=f"{entry}: unexpected {type(exc).__name__} while ingesting: {exc}; "
                                  "please report this with the file",
                          seconds=time.perf_counter() - started)
    return FileResult(
        source=source, status="replaced" if previous else "added", title=article.title,
        chunks=len(article.chunks), qa_items=len(article.items), seconds=time.perf_counter() - started,
    )
