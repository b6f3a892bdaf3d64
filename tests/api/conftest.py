"""Fixtures for the API tests: a tiny hand-made region in a temporary SQLite database, the app
on it, and one API key per role.

The tiny region is small on purpose (the role matrix, audit and CRUD tests need a few known
ids, not realism); tests of matching and the browser flows use the generated `small_region`
when the generator is installed.
"""

from __future__ import annotations

import warnings

import pytest

warnings.filterwarnings("ignore", message=".*httpx2.*")

from api.testing import ApiEnv, tiny_region  # noqa: E402,F401
from plein.region import Region  # noqa: E402


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One empty MLflow store for all API tests (creating its tables takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory, mlflow_uri):
    """A module-wide app for tests that only read (or whose writes do not disturb others)."""
    env = ApiEnv(tmp_path_factory.mktemp("api-shared"), mlflow_uri=mlflow_uri)
    yield env
    env.close()


@pytest.fixture
def api(tmp_path, mlflow_uri):
    """A fresh app and database for one test."""
    env = ApiEnv(tmp_path / "api", mlflow_uri=mlflow_uri)
    yield env
    env.close()


@pytest.fixture
def make_api(tmp_path, mlflow_uri):
    """Factory for apps with other settings: ``make_api(max_body_bytes=1000)``."""
    envs = []

    def make(region: Region | None = None, **overrides) -> ApiEnv:
        env = ApiEnv(tmp_path / f"api-{len(envs)}", region=region, mlflow_uri=mlflow_uri, **overrides)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


class LongWork:
    """Job work standing in for a long optimisation: it reports progress every `step` seconds
    until it is stopped (or `seconds` pass), then stores `result` in `stored`. `started` is set
    once it runs."""

    def __init__(self, result: dict | None = None, seconds: float = 30.0, step: float = 0.02) -> None:
        import threading

        self.started = threading.Event()
        self.stored: list[dict] = []
        self.result, self.seconds, self.step = result or {}, seconds, step

    def __call__(self, progress) -> dict:
        import time

        self.started.set()
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            progress(0.1, 1, "searching")
            time.sleep(self.step)
        self.stored.append(self.result)
        return self.result


@pytest.fixture
def long_work():
    """A fresh `LongWork` (see there)."""
    return LongWork
