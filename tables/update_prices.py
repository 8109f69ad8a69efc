"""Regenerate tables/prices/<vendor>.toml from the genai-prices database (docs/prices.md).

    pip install genai-prices==<the pin in pyproject.toml's test extra>
    python tables/update_prices.py [--as-of YYYY-MM-DD]
    python tables/update_prices.py --check     # exit 1 and print the drift, write nothing

For every model name in the model tables (tables/models/*.toml) it asks genai-prices
(pydantic/genai-prices, PyPI) for that model's dated prices and writes them, one row per
validity window, into the file of the model's vendor (the generator itself is
costcalc/catalog/genai.py, shared with `costcalc tables update`). costcalc never imports
genai-prices at start-up; the CLI reads only the TOML written here (through its compiled
form, costcalc/catalog/tables.pickle, which this script rebuilds after writing).

Hand-kept prices (ones genai-prices lacks, or that a vendor page sources better) live in
tables/prices/overrides.toml, which this script reads and never writes: a name priced
there is left out of the generated files. tests/test_prices_drift.py holds every
generated row to the pinned genai-prices, so a bumped pin shows its drift as a failing test.
`--check` compares with the newest genai-prices installed (the weekly workflow
.github/workflows/prices.yml installs the latest release and opens a pull request).
This script is a maintainers' tool: it is not part of the wheel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import re
import sys
import tomllib
from pathlib import Path

TABLES = Path(__file__).resolve().parent
PRICES = TABLES / "prices"
OVERRIDES = PRICES / "overrides.toml"
PYPROJECT = TABLES.parent / "pyproject.toml"


def pinned_version() -> str:
    """The genai-prices version pinned in pyproject.toml's test extra."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    for requirement in project["optional-dependencies"]["test"]:
        found = re.fullmatch(r"genai-prices==([\w.]+)", requirement.replace(" ", ""))
        if found:
            return found[1]
    raise SystemExit(f"{PYPROJECT}: no genai-prices==X.Y.Z in the test extra")


def overridden() -> set[str]:
    """Every name tables/prices/overrides.toml prices (the generator leaves those out)."""
    if not OVERRIDES.is_file():
        return set()
    names = set()
    for row in tomllib.loads(OVERRIDES.read_text()).get("price", []):
        row_names = row.get("names", row.get("name"))
        names.update(n.strip().lower() for n in ([row_names] if isinstance(row_names, str) else row_names))
    return names


def _costcalc():
    """costcalc's generator and model tables, from this checkout."""
    sys.path.insert(0, str(TABLES.parent))
    from costcalc.catalog import genai
    from costcalc.catalog.tables import Tables, model_files

    return genai, Tables({}, {}).with_files(*model_files(TABLES))


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, compare) tables/prices/<vendor>.toml for every vendor in the model tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="the day the rows are checked on (default: today, UTC)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print the drift when the rows differ from the shipped ones",
    )
    args = parser.parse_args(argv)
    import genai_prices
    from genai_prices.data_snapshot import get_snapshot

    version = genai_prices.__version__
    if not args.check and version != pinned_version():
        raise SystemExit(
            f"genai-prices {version} is installed but pyproject.toml pins {pinned_version()}: "
            f"pip install genai-prices=={pinned_version()} (or bump the pin first)"
        )
    genai, tables = _costcalc()
    texts = genai.generate(get_snapshot(), tables, overridden(), version, args.as_of)
    if args.check:
        return _check(texts)
    PRICES.mkdir(exist_ok=True)
    for vendor, text in texts.items():
        path = PRICES / f"{vendor}.toml"
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(TABLES.parent)}: {text.count('[[price]]')} price rows")
    from costcalc.catalog import compiler  # the compiled tables follow the TOML (catalog/compiled.py)

    return compiler.main()


_STAMP = re.compile(r"^(# GENERATED .* on |checked = )\S.*$", re.M)


def _check(texts: dict[str, str]) -> int:
    """0 when every generated file equals the shipped one (dates of the check aside); else print the drift, 1."""
    drift = []
    for vendor, text in texts.items():
        path = PRICES / f"{vendor}.toml"
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        ours, theirs = (_STAMP.sub(r"\1…", t).replace(_version(t), "…") for t in (old, text))
        if ours != theirs:
            drift += difflib.unified_diff(
                old.splitlines(),
                text.splitlines(),
                f"shipped/{vendor}.toml",
                f"genai-prices/{vendor}.toml",
                lineterm="",
                n=1,
            )
    if drift:
        print("\n".join(drift))
        print("price drift: run `python tables/update_prices.py` (after bumping the genai-prices pin)")
        return 1
    print("no drift: the shipped price rows equal genai-prices")
    return 0


def _version(text: str) -> str:
    found = re.search(r"genai-prices (\d[\w.]*)", text)
    return found[0] if found else "genai-prices"


if __name__ == "__main__":
    sys.exit(main())
