"""Tests for ingest: reading and rejecting files, chrome removal, Q&A splitting, chunks, batches."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interviewer import ingest
from interviewer.bank import BankItem, load_topics
from interviewer.errors import IngestError, StoreError
from interviewer.ingest import (
    CHUNK_TOKENS,
    Chunk,
    QAUnit,
    clean_text,
    decode_article,
    guess_topic,
    html_to_text,
    ingest_paths,
    iter_article_paths,
    make_chunks,
    parse_article,
    read_article_bytes,
    unchanged_report,
)
from interviewer.tokens import count_tokens

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"  # read at run time, never copied


class FakeStore:
    """In-memory SourceStore: remembers fingerprints, chunks and items per source."""

    def __init__(self, fail_on: str = "") -> None:
        self.fingerprints: dict[str, str] = {}
        self.chunks: dict[str, list[Chunk]] = {}
        self.items: dict[str, list[BankItem]] = {}
        self.replace_calls = 0
        self.fail_on = fail_on

    def source_fingerprint(self, source: str) -> str | None:
        return self.fingerprints.get(source)

    def replace_source(self, source: str, fingerprint: str, chunks: list[Chunk], items: list[BankItem]) -> None:
        self.replace_calls += 1
        if self.fail_on and source.endswith(self.fail_on):
            raise StoreError(f"{source}: store is read-only; check the Chroma server")
        self.fingerprints[source] = fingerprint
        self.chunks[source] = chunks
        self.items[source] = items

    def save_snapshot(self) -> bool:
        return False  # no Chroma files to vouch for: the CLI keeps asking the store


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# Our own small article in the style of a pasted web page: menu, author line, counters, a comment
# block and a recommendation list around a numbered Q&A body.
PAGE = """首页
题库
面经
登录
注册
某某大学 算法工程师
关注
【机器学习面试题】模型训练常见问题
1. 为什么要对输入特征做标准化?
答:不同特征的量纲差别很大时,梯度下降在各方向上的步长失衡,收敛变慢;标准化后损失面更接近各向同性。
2. Dropout 在推理时如何处理?
答:推理时不再随机丢弃神经元,而是使用全部神经元,并按保留概率缩放(或训练时已做反向缩放)。
点赞 8
评论 2
全部评论
相关推荐
2024-03-01 10:20
另一篇不相关的帖子标题
3528次浏览
"""


# --- cleaning --------------------------------------------------------------------------------
def test_chrome_lines_are_removed_and_content_kept() -> None:
    lines, title, removed = clean_text(PAGE)
    text = "\n".join(lines)
    assert title == "【机器学习面试题】模型训练常见问题"
    for chrome in ("首页", "登录", "注册", "关注", "点赞", "全部评论", "相关推荐", "次浏览", "不相关的帖子"):
        assert chrome not in text, chrome
    assert "不同特征的量纲差别很大" in text
    assert "按保留概率缩放" in text
    assert removed >= 12


@pytest.mark.parametrize(
    "line",
    ["点赞 12", "评论 0", "2302次浏览", "56人参与", "229 阅读5分钟", "2025-05-16", "01-21 15:35", "昨天 20:40",
     "发布于山西", "image.png", "打赏", "wechat pay", "本文作者:某人", "版权声明:转载请注明出处", "Sign in", "1993"],
)
def test_each_kind_of_chrome_line_is_recognised(line: str) -> None:
    text = f"一篇文章的标题\n{line}\n1. 什么是过拟合?\n答:模型记住了训练集的噪声,在新数据上表现变差。\n"
    lines, _, _ = clean_text(text)
    assert line not in lines


def test_promotional_clause_is_dropped_but_the_rest_of_the_line_kept() -> None:
    text = "标题行\n1. 学习率怎么调?\n答:先用较大的学习率再逐步衰减 持续更新中,敬请期待。 公众号:某号,欢迎关注\n"
    lines, _, _ = clean_text(text)
    joined = "\n".join(lines)
    assert "先用较大的学习率再逐步衰减" in joined
    assert "公众号" not in joined and "敬请期待" not in joined


def test_content_lines_that_mention_chrome_words_are_kept() -> None:
    text = "标题行\n1. AUC 有什么局限?\n答:AUC 并不关注特定阈值下的表现,分享阈值选择需要结合业务代价来评论。\n"
    lines, _, _ = clean_text(text)
    assert any("并不关注特定阈值" in line for line in lines)


# --- splitting -------------------------------------------------------------------------------
def _units(text: str, tmp_path: Path, name: str = "a.txt") -> list[QAUnit]:
    return parse_article(_write(tmp_path / name, text)).units


def _questions(units: list[QAUnit]) -> list[str]:
    return [u.question for u in units if u.question]


@pytest.mark.parametrize(
    ("marker_a", "marker_b"),
    [("1.", "2."), ("1、", "2、"), ("（1）", "（2）"), ("Q1:", "Q2:"), ("问题1：", "问题2：")],
)
def test_numbered_question_formats(marker_a: str, marker_b: str, tmp_path: Path) -> None:
    text = (f"标题行\n\n{marker_a} 什么是批归一化\n它在每个小批量上标准化激活值,再做可学习的缩放和平移。\n\n"
            f"{marker_b} 什么是层归一化\n它在单个样本的特征维度上做标准化,与批大小无关。\n")
    units = _units(text, tmp_path)
    assert _questions(units) == ["什么是批归一化", "什么是层归一化"]
    assert "可学习的缩放和平移" in units[0].answer


def test_answer_marker_lines_attach_to_their_question(tmp_path: Path) -> None:
    text = "标题行\n为什么要用验证集\n答:\n用来选择超参数和提前停止,测试集只在最后评估一次。\n"
    units = _units(text, tmp_path)
    assert _questions(units) == ["为什么要用验证集"]
    assert units[-1].answer.startswith("用来选择超参数")


def test_headings_ending_in_question_marks_and_markdown_headings(tmp_path: Path) -> None:
    text = ("# Notes on training\n\nIntro paragraph about what follows in these notes on model training.\n\n"
            "## Batch size\n\nLarger batches give smoother gradients but may generalise worse.\n\n"
            "Why does Adam converge fast?\n\nIt adapts per-parameter steps from running gradient moments.\n")
    units = _units(text, tmp_path, "notes.md")
    assert _questions(units) == ["Batch size", "Why does Adam converge fast?"]
    assert units[0].question == "" and "Intro paragraph" in units[0].answer


def test_numbered_sub_answers_stay_inside_their_question(tmp_path: Path) -> None:
    text = ("标题行\n\n1. 过拟合有哪些解决办法?\n\n常见做法:\n  1. 增加数据\n  2. 正则化\n  3. 提前停止\n\n"
            "2. 欠拟合有哪些解决办法?\n\n1、增大模型容量\n2、减少正则化\n3、训练更久\n4、改进特征\n")
    units = _units(text, tmp_path)
    assert _questions(units) == ["过拟合有哪些解决办法?", "欠拟合有哪些解决办法?"]
    assert "3. 提前停止" in units[0].answer
    assert "4、改进特征" in units[1].answer


def test_table_of_contents_does_not_become_empty_units(tmp_path: Path) -> None:
    text = ("标题行\n\n目录\n\n1. 什么是梯度消失?\n2. 什么是梯度爆炸?\n细节小节\n3. 如何选择优化器?\n\n"
            "1. 什么是梯度消失?\n\n反向传播时梯度逐层变小,前面的层几乎不更新。\n\n"
            "2. 什么是梯度爆炸?\n\n梯度逐层放大,参数更新过猛导致发散。\n\n细节小节\n\n可以用梯度裁剪限制范数。\n\n"
            "3. 如何选择优化器?\n\n先用 Adam 快速得到基线,再试 SGD 加动量追求最终精度。\n")
    units = _units(text, tmp_path)
    assert _questions(units) == ["什么是梯度消失?", "什么是梯度爆炸?", "如何选择优化器?"]
    assert all(u.answer for u in units)
    assert "梯度裁剪" in units[1].answer  # the unnumbered TOC sub-heading stays in its question


def test_one_line_article_is_split_where_numbered_questions_start(tmp_path: Path) -> None:
    body = ("开篇说明文字。 目录 1.样本不均衡怎么办 2.数据增强有哪些 1.样本不均衡怎么办 可以过采样少数类,"
            "也可以欠采样多数类,或者调整损失中的类别权重。 具体步骤: 1. 统计各类样本数 2. 计算权重 "
            "2.数据增强有哪些 几何变换如翻转和裁剪,颜色变换如亮度和噪声,以及混合样本的方法。" + " 补充说明。" * 30)
    units = [u for u in _units(f"标题行\n{body}\n", tmp_path) if u.question]
    assert _questions(units) == ["样本不均衡怎么办", "数据增强有哪些"]
    assert "2. 计算权重" in units[0].answer
    assert "几何变换" in units[1].answer


# --- chunks, ids, items --------------------------------------------------------------------------
def test_long_units_are_chunked_by_tokens_and_carry_their_question() -> None:
    answer = "\n".join(f"第{i}点:卷积层共享权重,减少参数。" for i in range(200))
    unit = QAUnit(position=0, question="卷积神经网络为什么适合图像?", answer=answer)
    chunks = make_chunks([unit], "/x/a.txt", "f" * 64, "标题")
    assert len(chunks) > 3
    assert all(count_tokens(c.text) <= CHUNK_TOKENS for c in chunks)
    assert all(c.text.startswith("卷积神经网络为什么适合图像?\n") for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    # overlap: each chunk after the first starts with text the previous chunk ended with
    second_body = chunks[1].text.split("\n", 2)[1]
    assert second_body in chunks[0].text


def test_ids_are_deterministic_and_follow_the_schema(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", PAGE)
    first, second = parse_article(path), parse_article(path)
    assert [c.id for c in first.chunks] == [c.id for c in second.chunks]
    assert [i.id for i in first.items] == [i.id for i in second.items]
    assert len({c.id for c in first.chunks}) == len(first.chunks)
    assert all(re.fullmatch(r"^[a-z0-9][a-z0-9_.:-]*$", i.id) for i in first.items)
    changed = parse_article(_write(path, PAGE.replace("收敛变慢", "收敛较慢")))
    assert changed.chunks[0].id != first.chunks[0].id  # new fingerprint, new chunk ids
    assert [i.id for i in changed.items] == [i.id for i in first.items]  # item ids: source + position


def test_qa_items_have_language_topic_source_and_answer(tmp_path: Path) -> None:
    article = parse_article(_write(tmp_path / "a.txt", PAGE))
    assert len(article.items) == 2
    item = article.items[1]
    assert item.origin == "article" and item.source == article.source and item.key_points == []
    assert item.zh is not None and item.en is None
    assert item.zh.question == "Dropout 在推理时如何处理?"
    assert item.zh.reference.startswith("推理时不再随机丢弃神经元")
    assert item.topic == "dropout"
    english = parse_article(_write(tmp_path / "b.md", "# T\n\n## What does ReLU fix?\n\nIt avoids saturating "
                                   "gradients for positive inputs, unlike sigmoid.\n"))
    assert english.items[0].en is not None and english.items[0].topic == "activations"


def test_link_only_answers_and_conclusions_give_no_items(tmp_path: Path) -> None:
    text = ("标题行\n\n1. 什么是ROI Align?\n\nhttps://example.org/post/1\n\n2. 什么是IoU?\n\n"
            "交并比:预测框与真实框交集面积除以并集面积。\n\n3. 总结\n\n以上就是全部内容,祝大家面试顺利,早日拿到满意的结果。\n")
    article = parse_article(_write(tmp_path / "a.txt", text))
    assert [u.question for u in article.units] == ["什么是ROI Align?", "什么是IoU?", "总结"]
    assert [i.zh.question for i in article.items if i.zh] == ["什么是IoU?"]
    assert any("example.org" in c.text for c in article.chunks)  # the link is still stored


def test_topic_keywords_name_real_topics_and_pick_sensible_ones() -> None:
    slugs = {t.slug for t in load_topics()}
    assert set(ingest.TOPIC_KEYWORDS) <= slugs
    assert ingest.FALLBACK_TOPIC in slugs
    assert guess_topic("什么是 ROC 曲线和 AUC?", "") == "metrics"
    assert guess_topic("YOLOv5 的损失函数由哪几部分组成?", "定位损失 置信度损失") == "detection"
    assert guess_topic("How do you pick k in k-means?", "") == "classical-ml"
    assert guess_topic("Tell me about your hobbies", "") == ingest.FALLBACK_TOPIC


def test_html_drops_navigation_and_comments_and_keeps_structure() -> None:
    html = """<html><head><title>CNN 面试题</title><script>var x=1;</script></head><body>
    <nav><a>首页</a><a>登录</a></nav><div class="top-menu">菜单 一 二</div>
    <article><h2>1. 卷积层的作用?</h2><p>提取局部特征,<b>共享权重</b>减少参数。</p>
    <ol><li>局部连接</li><li>权重共享</li></ol></article>
    <div id="comment-list"><p>写得真好</p></div><aside>相关推荐</aside><footer>版权所有</footer></body></html>"""
    text, title = html_to_text(html)
    assert title == "CNN 面试题"
    assert "## 1. 卷积层的作用?" in text
    assert "提取局部特征,共享权重减少参数。" in text
    assert "  1. 局部连接" in text and "  2. 权重共享" in text
    for noise in ("var x", "首页", "菜单", "写得真好", "相关推荐", "版权所有"):
        assert noise not in text


def test_html_file_is_parsed_into_units(tmp_path: Path) -> None:
    html = "<html><body><h1>T</h1><h3>什么是 Dropout?</h3><p>训练时随机丢弃部分神经元,减轻共适应。</p></body></html>"
    article = parse_article(_write(tmp_path / "p.html", html))
    assert [i.zh.question for i in article.items if i.zh] == ["什么是 Dropout?"]


# --- reading and bad input -------------------------------------------------------------------------
ZH = "梯度消失是深层网络训练时靠近输入层的梯度越来越小的现象,可用残差连接缓解。\n"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-be", "utf-8-sig", "utf-8"])
def test_chinese_text_in_common_encodings_is_decoded(encoding: str, tmp_path: Path) -> None:
    text = ZH * 3 + ("𠀀 扩展字符\n" if encoding == "gb18030" else "")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    decoded, _ = decode_article(tmp_path / "a.txt", data)
    assert decoded == text


def _assert_one_line_error(exc: IngestError | str, path: Path, reason: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert str(path) in message
    assert reason in message


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t\r\n   \n", "only whitespace"),
        ("  \n ".encode("utf-16"), "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        ((ZH * 5).encode() + b"\xff\xfe" + (ZH * 5).encode(), "not valid UTF-8 at byte"),
    ],
    ids=["empty", "whitespace", "utf16-whitespace", "binary", "mis-encoded"],
)
def test_bad_content_is_rejected_with_a_one_line_reason(data: bytes, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError) as caught:
        parse_article(path)
    _assert_one_line_error(caught.value, path, reason)


def test_a_50_mb_file_is_rejected_quickly_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        block = (ZH * 100).encode()
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(block)
    started = time.perf_counter()
    with pytest.raises(IngestError) as caught:
        read_article_bytes(path)
    assert time.perf_counter() - started < 0.5
    _assert_one_line_error(caught.value, path, "over the 20 MB limit")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "locked.txt", PAGE)
    path.chmod(0)
    try:
        with pytest.raises(IngestError) as caught:
            read_article_bytes(path)
        _assert_one_line_error(caught.value, path, "permission denied")
    finally:
        path.chmod(0o644)


def test_missing_path_bad_symlink_and_unsupported_type_are_errors(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    good = _write(folder / "good.md", "# T\n\n## 什么是过拟合?\n\n训练集上好、测试集上差,模型记住了噪声。\n")
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    _write(folder / "skip.pdf", "not an article")
    pdf = _write(tmp_path / "given.pdf", "x")
    found = list(iter_article_paths([folder, tmp_path / "missing.txt", pdf]))
    paths = [f for f in found if isinstance(f, Path)]
    errors = [f for f in found if isinstance(f, IngestError)]
    assert paths == [good]
    assert len(errors) == 3
    _assert_one_line_error(errors[0], folder / "dangling.txt", "broken symbolic link")
    _assert_one_line_error(errors[1], tmp_path / "missing.txt", "no such file")
    _assert_one_line_error(errors[2], pdf, "unsupported file type")


def _bad_batch(tmp_path: Path) -> tuple[Path, list[Path]]:
    folder = tmp_path / "batch"
    folder.mkdir()
    good = [_write(folder / "a_good.txt", PAGE),
            _write(folder / "b_gbk.txt", "标题行\n1. 什么是梯度消失?\n答:" + ZH, "gbk"),
            _write(folder / "c_gb18030.txt", "标题行\n1. 什么是梯度爆炸?\n答:梯度越来越大 𠀀" + ZH, "gb18030"),
            _write(folder / "d_utf16.txt", "标题行\n1. 什么是残差连接?\n答:" + ZH, "utf-16")]
    (folder / "e_empty.txt").write_bytes(b"")
    (folder / "f_blank.md").write_bytes(b"   \n\n")
    (folder / "g_binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "h_misencoded.txt").write_bytes((ZH * 4).encode() + b"\xc3\x28" + (ZH * 4).encode())
    (folder / "i_link.txt").symlink_to(folder / "nowhere.txt")
    with (folder / "j_huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    return folder, good


def test_one_bad_file_never_stops_the_batch(tmp_path: Path) -> None:
    folder, good = _bad_batch(tmp_path)
    store = FakeStore()
    seen: list[tuple[int, int]] = []
    report = ingest_paths([folder], store, progress=lambda done, total, _r: seen.append((done, total)))
    assert [r.status for r in report.files if r.status != "error"] == ["added"] * 4
    assert sorted(store.fingerprints) == sorted(os.path.abspath(p) for p in good)
    assert all(store.items[os.path.abspath(p)] for p in good)
    reasons = {Path(r.source).name: r.message for r in report.errors}
    assert set(reasons) == {"e_empty.txt", "f_blank.md", "g_binary.txt", "h_misencoded.txt", "i_link.txt",
                            "j_huge.txt"}
    for name, message in reasons.items():
        assert "\n" not in message and name in message
    assert seen[-1] == (10, 10)
    assert not report.ok


def test_unchanged_file_is_skipped_without_parsing_and_changed_file_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "a.txt", PAGE)
    store = FakeStore()
    assert ingest_paths([path], store).files[0].status == "added"
    old_ids = [c.id for c in store.chunks[str(path)]]

    def must_not_parse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an unchanged file was parsed again")

    with monkeypatch.context() as patch:
        patch.setattr(ingest, "parse_article", must_not_parse)
        again = ingest_paths([path], store)
    assert again.files[0].status == "unchanged" and store.replace_calls == 1
    _write(path, PAGE.replace("收敛变慢", "收敛较慢"))
    replaced = ingest_paths([path], store)
    assert replaced.files[0].status == "replaced" and store.replace_calls == 2
    assert [c.id for c in store.chunks[str(path)]] != old_ids
    assert "收敛较慢" in store.chunks[str(path)][1].text + store.chunks[str(path)][0].text


def test_unchanged_report_only_when_every_file_matches_its_stored_fingerprint(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", PAGE)
    b = _write(tmp_path / "b.txt", PAGE.replace("标准化", "归一化"))
    store = FakeStore()
    slow = ingest_paths([tmp_path], store)
    assert [f.status for f in slow.files] == ["added", "added"]
    fast = unchanged_report([tmp_path], store.fingerprints)
    assert fast is not None
    assert [(f.source, f.status) for f in fast.files] == [(os.path.abspath(p), "unchanged") for p in (a, b)]
    assert fast.model_dump(exclude={"files": {"__all__": {"seconds"}}}) == ingest_paths(
        [tmp_path], store).model_dump(exclude={"files": {"__all__": {"seconds"}}})
    _write(b, PAGE.replace("标准化", "规范化"))
    assert unchanged_report([tmp_path], store.fingerprints) is None  # changed
    assert unchanged_report([a, tmp_path / "new.txt"], store.fingerprints) is None  # missing path
    _write(b, PAGE.replace("标准化", "归一化"))
    assert unchanged_report([tmp_path], store.fingerprints) is not None  # back as stored
    (tmp_path / "c.txt").write_bytes(b"")
    assert unchanged_report([tmp_path], store.fingerprints) is None  # an error to report
    assert unchanged_report([a], store.fingerprints) is not None
    assert unchanged_report([tmp_path], {}) is None  # never ingested


def test_store_failure_is_reported_per_file(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", PAGE)
    b = _write(tmp_path / "b.txt", PAGE.replace("标准化", "归一化"))
    report = ingest_paths([a, b], FakeStore(fail_on="a.txt"))
    assert [r.status for r in report.files] == ["error", "added"]
    assert "read-only" in report.files[0].message


# --- CLI -------------------------------------------------------------------------------------------
def test_cli_ingest_reports_table_json_and_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import interviewer.store
    from interviewer.cli import app

    store = FakeStore()
    monkeypatch.setattr(interviewer.store, "open_store", lambda _settings, **_kw: store)
    good = _write(tmp_path / "good.txt", PAGE)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(good), str(empty)])
    assert result.exit_code == 1
    assert "1 added" in result.output and "1 failed" in result.output
    assert f"{empty}: file is empty" in result.output
    ok = runner.invoke(app, ["ingest", str(good), "--json"])
    assert ok.exit_code == 0
    data = json.loads(ok.stdout)
    assert data["files"][0]["status"] == "unchanged"


# --- the seed articles (real pasted pages) -----------------------------------------------------------
SEED_QUESTIONS = {  # hand-counted questions per seed file (see benchmarks/bench_ingest_quality.py)
    "000": 6, "001": 25, "002": 25, "003": 21, "004": 4,
}
CHROME_MARKERS = re.compile(r"登录|注册|点赞|收藏|已关注|欢迎关注|公众号|浏览|人参与|热榜|相关推荐|相关文章|打赏|"
                            r"版权|侵权|本文链接|本文作者|评论|阅读\s*\d+\s*分钟|ali pay|wechat pay|牛客|\.png")


@pytest.mark.integration
def test_seed_articles_parse_into_their_questions_without_chrome() -> None:
    files = sorted(SEEDS.glob("*.txt"))
    assert len(files) == 5
    for path in files:
        article = parse_article(path)
        questions = [u for u in article.units if u.question]
        expected = SEED_QUESTIONS[path.name[:3]]
        # 002 has three chapter intros and a conclusion besides its 25 sections
        assert expected <= len(questions) <= expected + 4, path.name
        assert article.title and len(article.title) >= 4
        dirty = [c.text[:80] for c in article.chunks if CHROME_MARKERS.search(c.text)]
        assert dirty == [], path.name
        assert all(count_tokens(c.text) <= CHUNK_TOKENS for c in article.chunks)
