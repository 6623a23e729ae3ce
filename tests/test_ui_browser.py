"""The web UI in a real browser: Debian's chromium driven by Playwright against `python ui.py` with the
embedded 0.5B model (plumbing, not judgement: the 0.5B grades no better than chance).

Screenshots go to artifacts/screenshots/ (gitignored) for a human to look at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_process import REPO, running_app

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "artifacts" / "screenshots"
TURN_TIMEOUT = 600_000  # ms: one answer graded by the 0.5B took ~35 s at load 12 on 2 cores
BROWSER_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage"]
ARTICLE = """# Batch Normalization 面试题

## 1. BatchNorm 为什么能加快训练？

BatchNorm 在每个小批量上把激活标准化为零均值、单位方差，再用可学习的缩放和平移恢复表达能力。
它让每层输入的分布更稳定，可以用更大的学习率，对初始化也不那么敏感。

## 2. 训练和推理时 BatchNorm 有什么不同？

训练时用当前批量的均值和方差，同时更新滑动平均；推理时使用训练中累积的滑动平均，输出因此与批量无关。
"""


@pytest.fixture
def served_app(tmp_path: Path, isolated_env: Path) -> Iterator[str]:
    """`python ui.py` on a free port with the embedded 0.5B model and a data dir in tmp; stopped by PID."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium fonts-noto-cjk")
    with running_app(tmp_path, isolated_env, INTERVIEWER_LOCAL_MODEL="0.5b") as url:
        yield url


def _settle(page: object, quiet_ms: int = 1500, timeout_ms: int = TURN_TIMEOUT) -> None:
    """Wait until the chat stops changing and no event is running (Gradio marks running outputs)."""
    deadline = time.monotonic() + timeout_ms / 1000
    last, stable_since = None, time.monotonic()
    while time.monotonic() < deadline:
        text = page.inner_text("#chat")  # type: ignore[attr-defined]
        running = page.locator(".generating, .pending").count()  # type: ignore[attr-defined]
        if text != last or running:
            last, stable_since = text, time.monotonic()
        elif time.monotonic() - stable_since > quiet_ms / 1000:
            return
        time.sleep(0.2)
    raise AssertionError("the chat kept changing or an event kept running")


def _answer(page: object, text: str) -> None:
    bots = page.locator("#chat [data-testid=bot]").count()  # type: ignore[attr-defined]
    page.fill("#answer textarea", text)  # type: ignore[attr-defined]
    page.click("#send")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelectorAll('#chat [data-testid=bot]').length > {bots}", timeout=TURN_TIMEOUT)
    _settle(page)


def test_practice_interview_in_chinese_report_and_upload(served_app: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    article = tmp_path / "batchnorm.md"
    article.write_text(ARTICLE, encoding="utf-8")
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else outside.append(r.url))
        page.goto(served_app, wait_until="load")
        expect(page.locator("#status-line")).to_contain_text("embedded", timeout=60_000)
        expect(page.locator("#status-line")).to_contain_text("模型在线")

        # setup: Chinese, practice mode, 2 questions
        page.fill("#questions input[type=number]", "2")
        page.press("#questions input[type=number]", "Enter")
        page.click("#start")
        expect(page.locator("#chat")).to_contain_text("第 1/2 题", timeout=TURN_TIMEOUT)
        _settle(page)
        page.screenshot(path=str(SHOTS / "01-question.png"), full_page=True)

        _answer(page, "它通过在训练时随机丢弃部分神经元来减少神经元之间的共适应，相当于对很多子网络做平均，"
                      "从而降低过拟合；推理时不丢弃，按保留概率缩放输出。")
        card = page.locator("#grade-card")
        expect(card).to_contain_text("第 1 题")
        expect(card).to_contain_text("得分")
        expect(card.locator("table")).to_be_visible()
        assert card.locator("tbody tr").count() >= 3, "one row per key point"
        page.click("#reference")  # the collapsed reference passage
        expect(page.locator("#reference-text")).to_contain_text("来源")
        page.screenshot(path=str(SHOTS / "02-grade-card.png"), full_page=True)

        # follow-ups, if any, are skipped with the button; then question 2 is answered and the interview ended
        for _ in range(3):
            if "第 2/2 题" in page.inner_text("#chat"):
                break
            page.click("#skip")
            _settle(page)
        expect(page.locator("#chat")).to_contain_text("第 2/2 题")
        _answer(page, "我不太确定，但我认为关键是让梯度更稳定，并且可以配合更大的学习率。")
        if "报告已生成" not in page.inner_text("#chat"):
            page.click("#end")
            _settle(page)
        expect(page.locator("#chat")).to_contain_text("报告已生成")
        page.screenshot(path=str(SHOTS / "03-finished.png"), full_page=True)

        page.get_by_role("tab", name="报告").click()
        report = page.locator("#report")
        expect(report).to_contain_text("面试报告", timeout=30_000)
        expect(report).to_contain_text("逐题得分")
        expect(page.locator("#question-table")).to_contain_text("2")
        page.click("#export")
        expect(page.locator("#export-file")).to_contain_text("interview-report-", timeout=30_000)
        page.screenshot(path=str(SHOTS / "04-report.png"), full_page=True)

        # knowledge: upload one article and read the summary row
        page.get_by_role("tab", name="知识库").click()
        page.set_input_files("#uploads input[type=file]", str(article))
        # the file list splits the name into stem and suffix, so look for the uploaded file's link
        page.wait_for_selector("#uploads a[href$='batchnorm.md']", timeout=30_000)
        page.click("#ingest")
        expect(page.locator("#ingest-message")).to_contain_text("新增 1", timeout=600_000)
        table = page.locator("#ingest-table")
        expect(table).to_contain_text("batchnorm.md")
        expect(table).to_contain_text("added")
        page.screenshot(path=str(SHOTS / "05-knowledge.png"), full_page=True)
        browser.close()
    assert outside == [], f"the page reached beyond this machine: {outside}"
