"""The user's data folder: price rows `costcalc tables update` wrote, and model rows `costcalc probe --write` measured.

Every command reads it over the shipped tables and under `--tables` files (docs/prices.md):

    shipped tables/  →  DATA/prices/*.toml (tables update)  →  DATA/models/*.toml (probe)  →  --tables FILE

DATA is `COSTCALC_DATA_DIR` when set, else platformdirs' user data folder for "costcalc"
(`~/.local/share/costcalc` on Linux, `~/Library/Application Support/costcalc` on macOS,
`%LOCALAPPDATA%\\costcalc` on Windows). Nothing is read or created at import; a folder that does
not exist is an empty layer.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
from functools import cache

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)
if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ENV",
    "data_dir",
    "data_folder",
    "data_names",
    "toml_names",
    "price_dir",
    "model_dir",
    "data_files",
    "UPDATE_NOTE",
    "update_checked",
    "stale_prices",
    "new_model_file",
]

ENV = "COSTCALC_DATA_DIR"
"""The environment variable naming the data folder (overrides platformdirs)."""
UPDATE_NOTE = "update.toml"
"""In DATA/prices/: where the prices came from (URL or file, genai-prices version, when), written by the update."""


def data_dir() -> Path:
    """The user's data folder: $COSTCALC_DATA_DIR, else platformdirs' user data folder for costcalc."""
    from pathlib import Path

    return Path(data_folder())


def data_folder() -> str:
    """`data_dir()` as a string, found without pathlib (a start-up imports none: benchmarks/bench_startup.py)."""
    chosen = os.environ.get(ENV, "").strip()
    return os.path.expanduser(chosen) if chosen else _platform_folder()


@cache
def _platform_folder() -> str:
    plain = _xdg_default()
    if plain is not None:
        return plain
    # platformdirs is a dependency (tiny, pure Python); imported only here, when the folder is first asked for.
    try:
        import platformdirs
    except ImportError:  # a vendored or trimmed install: the XDG default
        return os.path.join(os.path.expanduser("~"), ".local", "share", "costcalc")
    return platformdirs.user_data_dir("costcalc", appauthor=False)


def toml_names(folder: str | os.PathLike[str], sub: str) -> list[str]:
    """FOLDER/SUB/*.toml, sorted, as `Path.glob` finds them, as strings ([] for a folder that is not there): the one
    listing of table files, found without pathlib (the shipped tables and the data folder alike)."""
    where = os.path.join(os.fspath(folder), sub)
    try:
        names = os.listdir(where)
    except OSError:
        return []
    return [os.path.join(where, name) for name in sorted(names) if name.endswith(".toml")]


def data_names(folder: str | os.PathLike[str]) -> list[str]:
    """`data_files` as strings: the common case (none) is seen without pathlib."""
    return [
        path
        for sub in ("prices", "models")
        for path in toml_names(folder, sub)
        if os.path.basename(path) != UPDATE_NOTE and os.path.isfile(path)
    ]


def _xdg_default() -> str | None:
    """$HOME/.local/share/costcalc on Linux when XDG_DATA_HOME is unset or empty and HOME is an absolute path: the
    XDG Base Directory default (specifications.freedesktop.org/basedir-spec), which is what platformdirs gives
    there, found without importing it (its import, with tempfile and shutil, is a tenth of a start-up). None in
    every other case, and platformdirs decides (macOS, Windows, Android, an XDG_DATA_HOME of any kind)."""
    home = os.environ.get("HOME", "")
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel") or os.environ.get("ANDROID_ROOT"):
        return None
    if os.environ.get("XDG_DATA_HOME", "") or not os.path.isabs(home):
        return None
    return os.path.join(os.path.expanduser("~/.local/share"), "costcalc")


def price_dir(folder: Path | None = None) -> Path:
    """DATA/prices: the generated price files `costcalc tables update` writes."""
    return (folder or data_dir()) / "prices"


def model_dir(folder: Path | None = None) -> Path:
    """DATA/models: the model rows `costcalc probe --write` measured."""
    return (folder or data_dir()) / "models"


def data_files(folder: Path | None = None) -> list[Path]:
    """The data folder's table files in load order: prices (sorted), then models (sorted); [] when there are none."""
    from pathlib import Path

    return [Path(path) for path in data_names(folder or data_folder())]


def update_checked(folder: Path | None = None) -> _dt.date | None:
    """The day `costcalc tables update` last checked the data folder's prices (its UPDATE_NOTE), or None."""
    path = price_dir(folder) / UPDATE_NOTE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(r'^checked = "(\d{4}-\d\d-\d\d)"', text, re.M)
    return _dt.date.fromisoformat(found[1]) if found else None


def stale_prices(folder: Path | None, shipped: _dt.date | None) -> bool:
    """True when the data folder's prices were checked before the shipped ones (a newer costcalc is installed):
    then the shipped prices are read and the data folder's are not."""
    checked = update_checked(folder)
    return checked is not None and shipped is not None and checked < shipped


def new_model_file(model: str, folder: Path | None = None) -> Path:
    """A new file name for a measured row of `model` in DATA/models (`probe --write` without FILE): the model's name
    and the time, so a later measurement sorts (and loads) after an earlier one and none is overwritten."""
    safe = re.sub(r"[^a-z0-9._-]+", "_", model.strip().lower()).strip("._") or "model"
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return model_dir(folder) / f"{safe}-{stamp}.toml"
