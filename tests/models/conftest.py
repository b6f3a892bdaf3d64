"""Fixtures of the models' tests: a small fully-known region (`toy.py`) and one MLflow store
per test module (creating a SQLite MLflow store costs seconds; tests share one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # make toy.py importable under importlib mode

from toy import make_toy_region  # noqa: E402

TOY_CLIENTS = 1500


@pytest.fixture(scope="session")
def toy_region():
    """Do not mutate: copy the frames you change."""
    return make_toy_region(TOY_CLIENTS, seed=1)


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory):
    """A data folder with its own MLflow store for one test module; environment restored after."""
    mp = pytest.MonkeyPatch()
    d = tmp_path_factory.mktemp("models-data")
    mp.setenv("PLEIN_DATA_DIR", str(d))
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    mp.delenv("DATABASE_URL", raising=False)
    yield d
    mp.undo()
