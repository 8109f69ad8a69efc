"""What reaches a terminal (issue 15): names from outside are shown with visible escapes, never raw control
characters (ESC starting CSI/OSC sequences, newlines, tabs, C1 controls, DEL, bidirectional marks)."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli
from costcalc.words import escape

ROOT = Path(__file__).resolve().parents[2]
EVIL = "evil\x1b]0;pwned\x07\x1b[2J\n\tname\x7f\u202e"
RAW = ("\x1b", "\x07", "\x7f", "\u202e", "\t")


@pytest.mark.parametrize(
    "text, shown",
    [
        ("plain name.png", "plain name.png"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
        ("\x9b2J", "\\x9b2J"),
        ("x\x7f\x00", "x\\x7f\\x00"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("caf\udce9.png", "caf\\xe9.png"),
        ("café ✓.png", "café ✓.png"),
    ],
)
def test_escape(text, shown):
    assert escape(text) == shown


def _clean(text: str) -> None:
    for char in RAW:
        assert char not in text, repr(text)


def test_file_names_in_tables_and_error_lines(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copyfile(ROOT / "samples" / "photo.jpg", folder / f"{EVIL}.jpg")
    (folder / f"{EVIL}-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    runner = CliRunner()
    audit = runner.invoke(cli, ["audit", str(folder), "-m", "gpt-4o", "-j", "1"])
    _clean(audit.output)
    assert len([line for line in audit.stdout.splitlines() if "evil" in line]) == 2  # one line each, no break
    optimize = runner.invoke(cli, ["optimize", str(folder), "-o", str(tmp_path / "out"), "-m", "gpt-4o", "-j", "1"])
    _clean(optimize.output)
    assert len([line for line in optimize.stdout.splitlines() if "evil" in line]) == 2
    estimate = runner.invoke(cli, ["estimate", str(folder / f"{EVIL}-broken.png"), "-m", "gpt-4o"])
    _clean(estimate.output)
    assert "Error: " in estimate.stderr and "\\x1b]0;pwned" in estimate.stderr
