"""Where Plein keeps its data. Embedded defaults live under one data folder; production points
`DATABASE_URL` at PostgreSQL and `MLFLOW_TRACKING_URI` at an MLflow server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    mlflow_tracking_uri: str
    #: reference data (ESCO profiles, job offers, GAP instances), optional
    shared_data_dir: Path

    @property
    def mlflow_artifacts_dir(self) -> Path:
        return self.data_dir / "mlartifacts"


def get_settings() -> Settings:
    """Read settings from the environment (call again after changing it; nothing is cached).

    - ``PLEIN_DATA_DIR``: data folder, default ``./data``
    - ``DATABASE_URL``: SQLAlchemy URL, default ``sqlite:///<data>/plein.db``
    - ``MLFLOW_TRACKING_URI``: default ``sqlite:///<data>/mlflow.db``
    - ``PLEIN_SHARED_DATA``: reference data folder, default ``../shared/data`` next to the project
    """
    data_dir = Path(os.environ.get("PLEIN_DATA_DIR", "data")).resolve()
    project_root = Path(__file__).resolve().parent.parent
    shared = Path(os.environ.get("PLEIN_SHARED_DATA", project_root.parent / "shared" / "data"))
    return Settings(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL", f"sqlite:///{data_dir / 'plein.db'}"),
        mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{data_dir / 'mlflow.db'}"),
        shared_data_dir=shared,
    )
