"""`costcalc estimate` takes what people try (issue 20): standard input, a URL with --fetch, and says what to
do with a folder; `estimate()` takes a Pillow image and several models."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import costcalc
from costcalc.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PHOTO = SAMPLES / "photo.jpg"  # 2560×1669: gpt-4o bills 1,105 (→ 1178×768, 6 tiles: 85 + 6 × 170)


def run(*args, **options):
    return CliRunner().invoke(cli, list(args), **options)


def test_standard_input_is_read_as_an_image():
    result = run("estimate", "-", "-m", "gpt-4o", "--json", input=PHOTO.read_bytes())
    assert result.exit_code == 0, result.output
    assert '"tokens": 1105' in result.output and '"width": 2560' in result.output


def test_a_folder_points_at_audit():
    result = run("estimate", str(SAMPLES), "-m", "gpt-4o")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"costcalc audit {SAMPLES}" in result.output


@pytest.fixture
def server():
    handler = partial(SimpleHTTPRequestHandler, directory=str(SAMPLES))
    handler.log_message = lambda *args: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_a_url_is_fetched_only_when_asked_and_never_from_a_private_address_unless_allowed(server):
    url = f"{server}/photo.jpg"
    refused = run("estimate", url, "-m", "gpt-4o")
    assert refused.exit_code == 1 and "--fetch" in refused.output
    private = run("estimate", url, "-m", "gpt-4o", "--fetch")
    assert private.exit_code == 1 and "loopback" in private.output and "--allow-private" in private.output
    fetched = run("estimate", url, "-m", "gpt-4o", "--fetch", "--allow-private", "--json")
    assert fetched.exit_code == 0, fetched.output
    assert '"tokens": 1105' in fetched.output


def test_estimate_takes_a_pillow_image_and_several_models():
    image = Image.new("RGB", (1024, 1024))
    one = costcalc.estimate(image, model="gpt-4o")
    assert (one.width, one.height, one.tokens) == (1024, 1024, 765)  # → 768 × 768, 4 tiles: 85 + 4 × 170
    both = costcalc.estimate(image, model=["gpt-4o", "claude-opus-4-7"])
    assert [e.model for e in both] == ["gpt-4o", "claude-opus-4-7"]
    assert both[1].tokens == 37 * 37  # Claude: ceil(1024 / 28)² = 37², within 2576 px and 4,784 tokens


def test_an_error_for_some_models_names_them(tmp_path):
    big = tmp_path / "big.png"
    Image.new("RGB", (8001, 10)).save(big)  # Claude rejects a side over 8000 px; gpt-4o resizes it
    result = run("estimate", str(big), "-m", "gpt-4o", "-m", "claude-opus-4-7")
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("Error"))
    assert line.startswith("Error (for claude-opus-4-7): ") and "8,000" in line
