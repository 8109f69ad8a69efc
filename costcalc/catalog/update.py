"""`costcalc tables update`: today's prices from genai-prices' published data file, without a new costcalc release.

1. Read the data file: genai-prices' own auto-update URL by default (DEFAULT_URL, the
   `DEFAULT_UPDATE_URL` of genai_prices.update_prices), or a URL or file given; over the network
   only here, within a deadline and a byte cap (inspection/fetch.py's safe fetching).
2. Parse it with genai-prices' own loader (`genai_prices.types._providers_from_raw`, the function
   its auto-update calls), so costcalc reads what genai-prices reads, schema and all.
3. Regenerate the price rows with catalog/genai.py (the generator of the shipped rows), leaving
   out the names the shipped overrides.toml prices by hand.
4. Write them to a staging folder inside the data folder, load them with costcalc's own table
   loader over the shipped tables (a negative, zero or non-finite price is refused there), and
   only then swap the staging folder in for DATA/prices (catalog/userdata.py).

Any error leaves the data folder as it was. genai-prices is needed only here:
`pip install 'costcalc[update]'`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import CostcalcError, ImageReadError, UpdateError
from ..files import atomic_write
from .dates import window_text
from .loading import read_toml
from .tables import OVERRIDES, Price, Tables, forget_data, shipped_tables, tables_dir
from .userdata import UPDATE_NOTE, data_dir, data_files, model_dir, price_dir

__all__ = [
    "DEFAULT_URL",
    "MAX_BYTES",
    "TIMEOUT",
    "INSTALL_HINT",
    "Update",
    "read_source",
    "load_snapshot",
    "prepare",
    "apply",
    "changes",
]

DEFAULT_URL = "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main/prices/new_data/v2/data.json"
"""genai-prices' own auto-update URL (genai_prices.update_prices.DEFAULT_UPDATE_URL in 0.2.5)."""
MAX_BYTES = 32 << 20
"""The data file is read up to this many bytes (it is about 1 MB in 2026)."""
TIMEOUT = 30.0
"""Seconds for the whole download, name lookup to last byte."""
INSTALL_HINT = "updating prices needs genai-prices' loader: pip install 'costcalc[update]'"


@dataclass(frozen=True)
class Update:
    """A regenerated set of price files, validated, not yet written."""

    source: str
    texts: dict[str, str]
    """{vendor: TOML text}, as DATA/prices/<vendor>.toml."""
    tables: Tables
    """The shipped tables with these files (and the data folder's model rows) over them: what commands will read."""
    as_of: _dt.date


def read_source(source: str | None, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    """(where, bytes) of the data file: DEFAULT_URL when `source` is None, an http(s) URL, else a file path."""
    where = source or DEFAULT_URL
    if where.lower().startswith(("http://", "https://")):
        from ..inspection.fetch import fetch_document

        try:
            return where, fetch_document(where, timeout=timeout, max_bytes=max_bytes)
        except ImageReadError as error:
            raise UpdateError(where, str(error).removeprefix(f"{where}: ")) from None
    return where, _read_file(Path(where), max_bytes)


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UpdateError(str(path), "not a regular file")
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise UpdateError(str(path), f"cannot read: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise UpdateError(str(path), f"larger than {max_bytes:,} bytes: not read")
    return data


def load_snapshot(where: str, data: bytes):
    """A genai-prices DataSnapshot of the data file, built by genai-prices' own loader; UpdateError otherwise."""
    try:
        from genai_prices.data_snapshot import DataSnapshot
        from genai_prices.types import _providers_from_raw
    except ImportError:
        raise UpdateError(where, INSTALL_HINT) from None
    try:
        raw = json.loads(data, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise UpdateError(where, f"not valid JSON: {error}") from None
    if not isinstance(raw, list):  # genai-prices' own check (UpdatePrices.fetch)
        raise UpdateError(where, f"not genai-prices' data: expected a list of providers, found {type(raw).__name__}")
    try:
        providers = _providers_from_raw(raw)
    except Exception as error:  # noqa: BLE001 - pydantic's ValidationError, or whatever the loader raises
        raise UpdateError(where, f"genai-prices cannot read it: {_first_error(error)}") from None
    return DataSnapshot(providers, from_auto_update=True)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a price")


def _first_error(error: Exception) -> str:
    """One line of a loader error: pydantic's first error (location and message), else the error's first line."""
    errors = getattr(error, "errors", None)
    try:
        first = errors()[0] if callable(errors) else None
    except Exception:  # noqa: BLE001
        first = None
    if first:
        location = ".".join(str(part) for part in first.get("loc", ()))
        return f"{location}: {first.get('msg', '')}" if location else str(first.get("msg", ""))
    return (str(error).splitlines() or [type(error).__name__])[0]


def _manual_names() -> set[str]:
    """Every name the shipped overrides.toml prices (hand-kept: never replaced by generated rows)."""
    path = tables_dir() / "prices" / OVERRIDES
    names: set[str] = set()
    for row in read_toml(path).get("price", []) if path.is_file() else ():
        found = row.get("names", row.get("name"))
        names.update(n.strip().lower() for n in ([found] if isinstance(found, str) else found or []))
    return names


def prepare(snapshot, where: str, as_of: _dt.date, folder: Path | None = None) -> Update:
    """The regenerated price files for the data folder, validated by costcalc's own loader; TableError if not."""
    from . import genai

    folder = folder or data_dir()
    models = [path for path in data_files(folder) if path.parent == model_dir(folder)]
    base = shipped_tables().with_files(*models) if models else shipped_tables()
    label = f"the data file read on {as_of}"
    texts = genai.generate(snapshot, base, _manual_names(), label, as_of, by="costcalc tables update")
    with tempfile.TemporaryDirectory(prefix="costcalc-update-") as staging:
        paths = []
        for vendor, text in texts.items():
            path = Path(staging) / f"{vendor}.toml"
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        try:
            tables = shipped_tables().with_files(*paths, *models)
        except CostcalcError as error:
            raise UpdateError(where, f"the regenerated rows do not load: {error}") from None
    return Update(where, texts, tables, as_of)


def apply(update: Update, folder: Path | None = None) -> Path:
    """Write the update into DATA/prices all at once (staged, then swapped in); the folder written."""
    folder = folder or data_dir()
    target = price_dir(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=folder, prefix=".prices-new-"))
    except OSError as error:
        raise UpdateError(str(folder), f"cannot write: {error.strerror or error}") from None
    try:
        for vendor, text in update.texts.items():
            atomic_write(staged / f"{vendor}.toml", text.encode("utf-8"))
        note = f'source = {json.dumps(update.source)}\nchecked = "{update.as_of}"\nwritten = "{_now()}"\n'
        atomic_write(staged / UPDATE_NOTE, note.encode("utf-8"))
        _swap(staged, target)
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise UpdateError(str(target), f"cannot write: {error.strerror or error}") from None
    forget_data()
    return target


def _swap(staged: Path, target: Path) -> None:
    """`staged` becomes `target`; the old `target` is removed only once the new one is in place."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=".prices-old-")) / "prices"
        os.replace(target, old)
    try:
        os.replace(staged, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old.parent, ignore_errors=True)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def changes(old: Tables, new: Tables) -> list[str]:
    """One line per price row that differs: `model: old → new (window)`, in name order."""
    lines = []
    for name in sorted(set(old.price_names()) | set(new.price_names())):
        before, after = old.price_rows(name), new.price_rows(name)
        if [_key(row) for row in before] == [_key(row) for row in after]:
            continue
        kept = {_key(row) for row in before}
        for row in after:
            if _key(row) not in kept:
                was = _covering(before, row.valid_from or new.as_of)
                window = window_text(row.valid_from, row.valid_until)
                lines.append(f"{name}: {_rates(was)} → {_rates(row)}" + (f" ({window})" if window else ""))
        gone = {_key(row) for row in after}
        lines += [
            f"{name}: {_rates(row)} → no row"
            for row in before
            if _key(row) not in gone and _covering(after, row.valid_from or new.as_of) is None
        ]
    return lines


def _key(row: Price) -> tuple:
    return row.usd_per_1m_input, row.cached_input, row.long_context, row.tiers, row.valid_from, row.valid_until


def _covering(rows: tuple[Price, ...], day: _dt.date) -> Price | None:
    from .dates import in_window

    return next((row for row in rows if in_window(row.valid_from, row.valid_until, day)), None)


def _rates(row: Price | None) -> str:
    """`4.0 per 1M input (cached 0.2; batch 2.0)`, or `unpriced`."""
    if row is None:
        return "unpriced"
    extra = [f"cached {row.cached_input}"] if row.cached_input is not None else []
    extra += [f"above {row.long_context.above:,}: {row.long_context.usd_per_1m_input}"] if row.long_context else []
    extra += [
        f"{tier} {rates.usd_per_1m_input if rates.usd_per_1m_input is not None else 'unknown'}"
        for tier, rates in row.tiers
    ]
    return f"{row.usd_per_1m_input}" + (f" ({'; '.join(extra)})" if extra else "")
