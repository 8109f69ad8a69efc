"""The README's sessions are real: every `$ costcalc ...` block is replayed and compared (stdout and stderr, as a terminal shows them)."""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```\n\$ (costcalc [^\n]+)\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


@pytest.mark.parametrize("command, shown", BLOCKS, ids=[command for command, _ in BLOCKS])
def test_readme_session(command, shown, monkeypatch, tmp_path):
    if " optimize " in command:  # it writes: run it where samples/ is linked, never in the repository
        (tmp_path / "samples").symlink_to(ROOT / "samples")
        monkeypatch.chdir(tmp_path)
    else:
        monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    lines = shown.rstrip("\n").splitlines()
    if lines[-1] == "...":  # an excerpt: the first lines, exactly
        assert result.output.splitlines()[: len(lines) - 1] == lines[:-1]
    else:
        assert result.output.rstrip("\n").splitlines() == lines
    assert len(BLOCKS) >= 6
