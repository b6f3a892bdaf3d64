"""Fixtures shared by every test package.

- `shared_data`: the reference data folder (../shared/data); tests that need it skip with a
  clear message when it is absent (a fresh machine has none).
- `postgres_url`: a PostgreSQL URL when the server at 127.0.0.1:5432 is reachable, else skip.
- `small_region`: a deterministic generated demo region (session-wide; do not mutate it, copy).
- `data_dir`: an empty PLEIN_DATA_DIR for one test (SQLite and MLflow stores go there).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from plein.settings import get_settings

SMALL_REGION_CLIENTS = 1500
SMALL_REGION_SEED = 7


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = get_settings().shared_data_dir
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set PLEIN_SHARED_DATA or put ../shared/data beside the project)")
    return path


def _postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("PLEIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432; PostgreSQL storage tests skipped")
    return url


@pytest.fixture(scope="session")
def small_region():
    from plein.generator import generate_region

    return generate_region(n_clients=SMALL_REGION_CLIENTS, seed=SMALL_REGION_SEED)


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("PLEIN_DATA_DIR", str(d))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return d
