"""What the wheel ships: the tables, and not the maintainers' price script."""

import re
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_hatch_config_names_each_table_path_and_not_the_script():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert "tables" not in included  # the whole folder would carry update_prices.py
    shipped = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tables").iterdir()
        if not path.name.startswith(("_", "."))
    }
    assert shipped - set(included) == {"tables/update_prices.py"}


def test_built_wheel_has_the_tables_but_not_update_prices(tmp_path):
    wheel = pytest.importorskip("hatchling.builders.wheel")
    (path,) = wheel.WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = zipfile.ZipFile(path).namelist()
    assert "costcalc/tables/lifecycle.toml" in names
    assert "costcalc/tables/prices/overrides.toml" in names
    assert any(name.startswith("costcalc/tables/models/") for name in names)
    assert not any("update_prices" in name for name in names)
    assert "costcalc/catalog/tables.pickle" in names  # the compiled tables (catalog/compiled.py)
    metadata = zipfile.ZipFile(path).read("costcalc-0.1.0.dist-info/METADATA").decode()
    assert "Provides-Extra: update" in metadata
    assert "Requires-Dist: platformdirs" in metadata


def test_weekly_workflow_checks_drift_and_opens_a_pull_request():
    text = (ROOT / ".github" / "workflows" / "prices.yml").read_text()
    cron = re.search(r'cron: "(\S+) (\S+) (\S+) (\S+) (\S+)"', text)
    assert cron and cron[3] == cron[4] == "*" and cron[5].isdigit()  # one weekday: weekly
    assert "python tables/update_prices.py --check" in text
    assert "pip install --upgrade genai-prices" in text
    assert "peter-evans/create-pull-request@" in text
    assert re.search(r"^\s+python tables/update_prices.py$", text, re.M)  # regenerates on drift
