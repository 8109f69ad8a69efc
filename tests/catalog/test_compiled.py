"""The compiled tables (costcalc/catalog/tables.pickle): the same rows as the TOML in tables/, read only when built
from exactly those files, and what keeps `import costcalc` and `costcalc estimate` from parsing TOML at start-up."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.catalog import compiled, compiler, tables
from costcalc.catalog.limits import read_limits
from costcalc.errors import TableError

ROOT = Path(__file__).resolve().parents[2]
STALE = f"costcalc/catalog/tables.pickle is out of date with tables/: run `{compiled.COMMAND}` and commit it"


def _decoded(data: bytes) -> dict:
    """Every part of a compiled file, unpickled whole (the model groups too)."""
    return _decoded_outer(pickle.loads(pickle.loads(data)["body"]))


def _decoded_outer(outer: dict) -> dict:
    """Every part of a compiled file's contents (`compiled._outer()`), unpickled whole."""
    state = pickle.loads(outer["parts"]["tables"])
    for table in ("models", "prices"):
        index, groups = state[table]
        rows = [pickle.loads(group) for group in groups]
        state[table] = {name: rows[at][name] for name, at in index.items()}
    return {
        "fingerprint": outer["fingerprint"],
        "classes": outer["classes"],
        "tables": state,
        "limits": pickle.loads(outer["parts"]["limits"]),
    }


def test_the_compiled_file_holds_what_the_toml_gives():
    """A TOML edit (or a loader change) without `python -m costcalc.catalog.compiler` fails here."""
    current = _decoded(Path(compiled.FILE).read_bytes())
    fresh = _decoded(compiler.build())
    assert current["fingerprint"] == fresh["fingerprint"], STALE
    assert current["classes"] == fresh["classes"], STALE
    for part in compiled.PARTS:
        assert current[part] == fresh[part], f"{STALE} ({part} differ)"
        assert repr(current[part]) == repr(fresh[part]), f"{STALE} ({part} differ in how they print)"


def test_the_shipped_tables_are_the_toml_tables():
    folder = tables.tables_dir()
    fast, slow = tables.shipped_tables(), tables.read_shipped(folder)
    assert fast.files == slow.files and fast.files[0].is_absolute()
    assert list(fast._models) == list(slow._models)
    assert fast._state() == slow._state()
    assert fast.price("gpt-4o") == slow.price("gpt-4o") and fast.checked == slow.checked
    assert compiled.part("limits", folder, tables.compiled_files(folder)) == read_limits(folder / tables.LIMITS)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "tables"
    shutil.copytree(tables.tables_dir(), folder, ignore=shutil.ignore_patterns("*.py", "measured"))
    return folder


def test_a_copy_of_the_shipped_files_reads_the_compiled_form(tmp_path, monkeypatch):
    folder = _copy(tmp_path)
    assert compiled.part("tables", folder, tables.compiled_files(folder)) is not None

    def no_toml(folder):
        raise AssertionError("the TOML was read")

    monkeypatch.setattr(tables, "read_shipped", no_toml)
    assert tables._shipped(folder).price("gpt-4o").usd_per_1m_input == Decimal("2.5")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edited_price_of_the_same_size_is_read_from_the_toml(tmp_path):
    folder = _copy(tmp_path)
    _edit(
        folder / "prices" / "openai.toml",
        'names = ["gpt-4o"]\nusd_per_1m_input = 2.5\n',
        'names = ["gpt-4o"]\nusd_per_1m_input = 2.6\n',
    )
    assert compiled.part("tables", folder, tables.compiled_files(folder)) is None
    assert compiled.part("limits", folder, tables.compiled_files(folder)) is None
    assert tables._shipped(folder).price("gpt-4o").usd_per_1m_input == Decimal("2.6")


def test_an_added_or_removed_file_is_noticed(tmp_path):
    folder = _copy(tmp_path)
    shutil.copy(folder / "models" / "xai.toml", folder / "models" / "zz.toml")
    assert compiled.part("tables", folder, tables.compiled_files(folder)) is None
    (folder / "models" / "zz.toml").unlink()
    (folder / "lifecycle.toml").unlink()
    assert compiled.part("tables", folder, tables.compiled_files(folder)) is None


def test_a_broken_edit_is_still_an_error_naming_the_file(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "models" / "openai.toml", "\n[[model]]\n", "\n[[model]]\nbogus = 1\n")
    with pytest.raises(TableError, match=r"models/openai\.toml: model row 1: unknown key\(s\) bogus"):
        tables._shipped(folder)


def test_a_row_class_changed_since_the_build_is_not_read(monkeypatch):
    assert compiled.same_classes(compiled.classes("tables"))
    model = "costcalc.catalog.rows:Model"
    fields = compiled.classes("tables")[model]
    assert not compiled.same_classes({model: fields[:-1]})
    assert not compiled.same_classes({"costcalc.catalog.rows:Gone": ()})
    index, groups = {"a": 0, "b": 0}, [pickle.dumps({"a": 1, "b": 2})]
    assert dict(compiled.Rows((index, groups), {}, lambda name: name * 2)) == {"a": 1, "b": 2}
    moved = compiled.Rows((index, groups), {model: fields[:-1]}, lambda name: name * 2)
    assert moved["b"] == "bb" and moved["a"] == "aa"
    gone = compiled.Rows((index, [b"not a pickle"]), {}, lambda name: name.upper())
    assert gone["a"] == "A" and "b" in gone and "c" not in gone and len(gone) == 2
    with pytest.raises(KeyError):
        gone["c"]


def test_a_missing_or_damaged_file_means_the_toml(tmp_path, monkeypatch):
    folder = tables.tables_dir()
    files = tables.compiled_files(folder)
    try:
        for data in (None, b"\x80\x05damaged", pickle.dumps({"format": compiled.FORMAT + 1})):
            path = tmp_path / "tables.pickle"
            if data is not None:
                path.write_bytes(data)
            monkeypatch.setattr(compiled, "FILE", path)
            compiled._outer.cache_clear()
            compiled._matches.cache_clear()
            assert compiled.part("tables", folder, files) is None
    finally:
        compiled._outer.cache_clear()
        compiled._matches.cache_clear()


def test_a_flipped_bit_anywhere_in_the_file_means_the_toml_or_the_same_tables(tmp_path, monkeypatch):
    """Damage inside the file (a bit flipped in a price, a model's name, a part's bytes) is never read as tables:
    either the file is refused (the TOML is read) or what it gives is exactly what the undamaged file gives."""
    data = Path(compiled.FILE).read_bytes()
    intact = _decoded(data)
    path = tmp_path / "tables.pickle"
    monkeypatch.setattr(compiled, "FILE", path)
    try:
        for at in range(7, len(data), max(len(data) // 400, 1)):
            damaged = bytearray(data)
            damaged[at] ^= 0x01
            path.write_bytes(bytes(damaged))
            compiled._outer.cache_clear()
            outer = compiled._outer()
            if outer is not None:
                assert _decoded_outer(outer) == intact, f"a bit flipped at byte {at} was read"
    finally:
        compiled._outer.cache_clear()
        compiled._matches.cache_clear()


def test_the_compiler_writes_the_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "tables.pickle"
    monkeypatch.setattr(compiler, "FILE", path)
    assert compiler.main() == 0 and path.read_bytes() == Path(compiled.FILE).read_bytes()
    assert "tables.pickle: written" in capsys.readouterr().out
    assert compiler.main() == 0
    assert "tables.pickle: up to date" in capsys.readouterr().out


def test_a_row_naming_its_own_file_cannot_be_compiled(tmp_path):
    folder = _copy(tmp_path)
    _edit(
        folder / "prices" / "openai.toml", 'source = "genai-prices 0.2.5 (pydantic/genai-prices), openai/gpt-4o"\n', ""
    )
    with pytest.raises(ValueError, match="give every row a source"):
        compiler.build(folder)


def _imported(*argv: str, tmp_path: Path) -> set[str]:
    """The modules a fresh `python argv...` imports (python -X importtime), with an empty home (no data folder)."""
    env = {key: value for key, value in os.environ.items() if key not in ("COSTCALC_DATA_DIR", "XDG_DATA_HOME")}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize(
    "argv",
    [
        ("-c", "import costcalc; assert costcalc.image_tokens(1024, 1024, model='gpt-4o') == 765"),
        ("-m", "costcalc", "estimate", "--size", "1024x1024", "-m", "gpt-4o"),
    ],
    ids=["api", "estimate"],
)
def test_start_up_parses_no_toml_and_loads_only_the_schemes_it_uses(argv, tmp_path):
    found = _imported(*argv, tmp_path=tmp_path)
    assert "costcalc.catalog.compiled" in found
    assert not found & {"tomllib", "costcalc.catalog.loading", "costcalc.schemes.claude", "costcalc.schemes.patch"}
    assert not found & {"numpy", "PIL", "pickle"}
    if sys.platform == "linux":
        assert "platformdirs" not in found


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG default is found without platformdirs on Linux only")
@pytest.mark.parametrize(
    "env",
    [{"HOME": "/home/ada"}, {"HOME": "/home/ada/", "XDG_DATA_HOME": ""}, {"HOME": "/root"}],
    ids=["home", "empty-xdg", "slash"],
)
def test_the_data_folder_without_platformdirs_is_the_one_platformdirs_gives(env, monkeypatch):
    import platformdirs

    from costcalc.catalog import userdata

    for key in ("HOME", "XDG_DATA_HOME", "ANDROID_ROOT", "ANDROID_DATA"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert userdata._xdg_default() == platformdirs.user_data_dir("costcalc", appauthor=False)


@pytest.mark.parametrize(
    "env", [{"HOME": "/home/ada", "XDG_DATA_HOME": "/data"}, {"HOME": "relative"}, {"HOME": "/h", "ANDROID_ROOT": "/"}]
)
def test_every_other_data_folder_is_platformdirs_choice(env, monkeypatch):
    from costcalc.catalog import userdata

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert userdata._xdg_default() is None
