"""Files whose headers read alike share one judged, priced and rendered Shape: what the audit writes from Shapes is
what writing each file's own rows gives, byte for byte, in every format; the totals too."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from PIL import Image

from costcalc.catalog.tables import default_tables
from costcalc.errors import CostcalcError
from costcalc.inspection.headers import inspect_path
from costcalc.inspection.walk import walk
from costcalc.output.audit import format_for
from costcalc.runs import audit as runs
from costcalc.runs.totals import Totals

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from odd_images import odd_images  # noqa: E402

MODELS = ["gpt-4o", "claude-sonnet-4-6", "gemini-3-flash-preview", "gpt-4.1-mini", "llama-4-scout", "gpt-6-sol"]
NAMES = [
    "=sum.png",
    "+x.png",
    "-y.png",
    "@z.png",
    'q"uote.png',
    "co,mma.png",
    "back\\slash.png",
    "new\nline.png",
    "ünï cödé.png",
    "{brace}.png",
    "tab\tx.png",
    "drop max_tokens.png",  # a library phrase the command line says in flags (not in a file's name)
    "<costcalc: the path>.png",  # the table's stand-in for a path
]


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("alike")
    for copy in range(3):  # the same headers again and again, under other names, some with other sizes
        for name, data in odd_images().items():
            path = root / f"copy{copy}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data + b"\0" * copy if name.endswith(".png") else data)
    names = root / "names"
    names.mkdir()
    for index, name in enumerate(NAMES):
        (names / name).write_bytes(_png(300, 200) + b"\0" * index)
    os.makedirs(os.fsencode(names / "bytes"))
    for raw in (b"bad\xff\xfe.png", b"=\xe9.txt"):
        with open(os.path.join(os.fsencode(names / "bytes"), raw), "wb") as handle:
            handle.write(_png(300, 200) if raw.endswith(b".png") else b"not an image")
    with open(root / "over-the-byte-limit.png", "wb") as handle:  # sparse: priced or not by its size alone
        handle.write(_png(64, 64))
        handle.truncate(60 * 1024 * 1024)
    (root / "link.png").symlink_to(names / "=sum.png")
    return root


def _reference(config, found) -> list:
    """The file's own rows, judged alone (no Shape)."""
    run = runs._setup(config)
    path, shown, problem, skipped = found
    if problem is not None:
        return runs._found_rows(path, shown, problem, skipped, run.pricers, config.detail)
    try:
        info = inspect_path(path, name=shown, regular=True)
    except CostcalcError as error:
        return runs.header_rows(path, shown, None, error, run.pricers, run.limits, config.detail, config.strict)
    return runs.header_rows(path, shown, info, None, run.pricers, run.limits, config.detail, config.strict)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("output", ["json", "nl", "csv", None])
@pytest.mark.parametrize("flags", [False, True])
def test_shapes_write_what_each_files_rows_write(tree, output, strict, flags):
    from costcalc.cli.words import flag_words

    render = format_for(output, MODELS, words=flag_words if flags else None)
    config = runs._config(MODELS, "auto", default_tables(), None, strict, render, "standard", None)
    found = list(walk([tree]))
    files = runs._chunk_files(config, found)
    shared = [file for file in files if file.__class__ is not list]
    assert len({id(file[0]) for file in shared}) < len(shared) / 2  # most files took a Shape already made
    expected = [row for each in found for row in _reference(config, each)]
    assert [row for file in files for row in (file if file.__class__ is list else file[0].rows_for(*file[1:]))] == (
        expected
    )
    assert render.render_files(files) == render.render(expected)
    text, totals, count = runs._chunk_rendered(config, found)
    assert text == render.render(expected) and count == len(found)
    alone = Totals(config.models)
    for row in expected:
        alone.add(row)
    for name in config.models:
        assert vars(totals.by_model[name]) == vars(alone.by_model[name])


class RowsOnly:
    """An output format of the caller's own, with render(rows) alone."""

    def render(self, rows):
        return "".join(f"{row.path}|{row.model}|{row.bytes}|{row.tokens}|{row.error}\n" for row in rows)


def test_a_format_without_render_files_gets_the_rows(tree):
    chunks = runs.audit_rendered([tree], models=MODELS[:2], render=RowsOnly(), jobs=1)
    text = "".join(chunk for chunk, _, _ in chunks)
    rows = list(runs.audit([tree], models=MODELS[:2]))
    assert len(rows) == 2 * len(list(walk([tree]))) and text == RowsOnly().render(rows)
