"""Shared test settings: hypothesis profiles (CI runs more examples, never on a deadline)."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, max_examples=200)
settings.register_profile("ci", deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True, scope="session")
def _empty_data_folder(tmp_path_factory):
    """The suite reads no user's data folder (tables update prices, probe rows): an empty one of its own."""
    folder = tmp_path_factory.mktemp("costcalc-data")
    before = os.environ.get("COSTCALC_DATA_DIR")
    os.environ["COSTCALC_DATA_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("COSTCALC_DATA_DIR", None)
    else:
        os.environ["COSTCALC_DATA_DIR"] = before
