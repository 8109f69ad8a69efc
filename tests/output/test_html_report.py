"""`costcalc audit --html`: one self-contained page whose figures are the audit's own (issue 20).

The browser test opens the page in headless Chromium (Debian's package; .ci/run installs it) and reads the totals
back from the DOM it rendered: they must equal `audit --json`'s totals, with no console error.
"""

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc.output.html as html_module
from costcalc.cli import cli
from costcalc.output.html import TOP, HtmlReport
from costcalc.runs.audit import audit
from costcalc.runs.totals import Totals

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
MODELS = ["gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Rows(HTMLParser):
    """The data attributes of the totals rows, and every external reference."""

    def __init__(self):
        super().__init__()
        self.models: list[dict] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "model":
            self.models.append(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith(("data:", "#")):
                self.external.append(attrs[name])


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def json_totals(*paths, models=MODELS):
    result = run("audit", *paths, *sum((["-m", m] for m in models), []), "--json", "-j", "1")
    return json.loads(result.stdout)["totals"]


def test_the_page_ranks_models_cheapest_first_and_matches_the_json_totals(tmp_path):
    page = tmp_path / "report.html"
    result = run("audit", SAMPLES, *sum((["-m", m] for m in MODELS), []), "--summary", "--html", page, "-j", "1")
    assert result.exit_code == 1, result.output  # samples/ holds files the APIs reject (exit 1, as without --html)
    parser = Rows()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.external == [] and parser.scripts == 0  # no network, no script
    totals = json_totals(SAMPLES)
    shown = {row["data-model"]: row for row in parser.models}
    assert set(shown) == set(MODELS)
    for name, row in shown.items():
        assert int(row["data-tokens"]) == totals[name]["tokens"]
        assert Decimal(row["data-usd"]) == Decimal(repr(totals[name]["usd"]))
    usd = [Decimal(row["data-usd"]) for row in parser.models]
    assert usd == sorted(usd)  # cheapest first
    text = page.read_text(encoding="utf-8")
    for section in (
        "Totals per model and tier",
        "Cost by folder",
        "Tokens per image",
        "most expensive images",
        "What optimize would save",
    ):
        assert section in text
    assert "<svg" in text and "data:image/jpeg;base64," in text


def test_file_names_are_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "icon.webp", folder / "a<b>&\"c'<script>x.webp")
    page = tmp_path / "report.html"
    result = run("audit", folder, "-m", "gpt-4o", "--summary", "--html", page)
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert "<script>" not in text and "a&lt;b&gt;&amp;&quot;c&#x27;&lt;script&gt;" in text


def test_an_existing_file_that_is_not_a_report_is_never_replaced(tmp_path):
    page = tmp_path / "report.html"
    page.write_text("my notes", encoding="utf-8")
    result = run("audit", SAMPLES / "icon.webp", "-m", "gpt-4o", "--html", page)
    assert result.exit_code == 2 and "--html" in result.output and "not a costcalc report" in result.output
    assert page.read_text(encoding="utf-8") == "my notes"
    page.unlink()
    assert run("audit", SAMPLES / "icon.webp", "-m", "gpt-4o", "--html", page).exit_code == 0
    assert run("audit", SAMPLES / "photo.jpg", "-m", "gpt-4o", "--html", page).exit_code == 0  # its own report
    assert "photo.jpg" in page.read_text(encoding="utf-8")


def test_at_most_50_images_are_listed_and_decoded(tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(TOP + 12):
        Image.new("RGB", (64 + 8 * index, 64), (index, 90, 160)).save(folder / f"img{index:03}.png")
    decoded = []
    real = html_module._thumbnail
    monkeypatch.setattr(html_module, "_thumbnail", lambda path: decoded.append(path) or real(path))
    report, totals = HtmlReport(["gpt-5.4"], roots=[folder]), Totals(["gpt-5.4"])
    for row in audit([folder], models=["gpt-5.4"]):
        report.add(row)
        totals.add(row)
    text = report.render(totals)
    assert len(decoded) == TOP and text.count("data:image/") == TOP
    # the dearest: the widest images (more 32-px patches), listed dearest first
    listed = re.findall(r'<td class="path">[^<]*?(img\d{3})\.png</td>', text)
    assert listed[0] == f"img{TOP + 11:03}" and f"img{TOP + 11 - TOP:03}" not in listed and len(listed) == TOP


def test_the_savings_come_from_the_planner_without_writing(tmp_path):
    before = sorted(p.name for p in SAMPLES.iterdir())
    report, totals = HtmlReport(["gpt-4o"], roots=[SAMPLES]), Totals(["gpt-4o"])
    for row in audit([SAMPLES / "photo.jpg"], models=["gpt-4o"]):
        report.add(row)
        totals.add(row)
    saving = report.savings["gpt-4o"]
    # gpt-4o works from 1178 × 768 of photo.jpg's 2560 × 1669 (fit 2048, short side 768): the same 1,105 tokens
    assert (saving.resized, saving.tokens_before, saving.tokens_after) == (1, 1105, 1105)
    assert saving.bytes_after == pytest.approx(saving.bytes_before * 1178 * 768 / (2560 * 1669))
    assert sorted(p.name for p in SAMPLES.iterdir()) == before


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (.ci/run installs Debian's package)")
def test_the_page_in_a_real_browser(tmp_path):
    page = tmp_path / "report.html"
    result = run("audit", SAMPLES, *sum((["-m", m] for m in MODELS), []), "--summary", "--html", page, "-j", "1")
    assert result.exit_code == 1, result.output
    profile = tmp_path / "profile"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Uncaught" not in done.stderr and "ERROR:CONSOLE" not in done.stderr, done.stderr[-2000:]
    dom = Rows()
    dom.feed(done.stdout)  # the DOM as the browser built it
    totals = json_totals(SAMPLES)
    shown = {row["data-model"]: row for row in dom.models}
    assert set(shown) == set(MODELS)
    for name, row in shown.items():
        assert int(row["data-tokens"]) == totals[name]["tokens"]
        assert Decimal(row["data-usd"]) == Decimal(repr(totals[name]["usd"]))
    # and the text a reader sees is the same figure
    for name in MODELS:
        cell = re.search(rf'data-model="{re.escape(name)}".*?<td class="num total">([^<]+)</td>', done.stdout, re.S)
        assert Decimal(cell[1].lstrip("$").replace(",", "")) == Decimal(repr(totals[name]["usd"]))
