"""Serving: the champion models, reloadable without a restart, robust to a registry outage.

`ModelServer` loads ``models:/plein-ranker@champion`` and ``models:/plein-ladder@champion``.
``reload()`` asks the registry which version holds the alias and loads it only if it changed;
if the registry is unreachable, the alias is missing or a load fails, the server **keeps the
model it has** (the last good one) and records the error in ``status()``. With no model
registered at all, ``.ranker`` / ``.ladder`` are None: callers fall back to rule-based
behaviour, serving never crashes on a missing model.

The served objects (`ServedModel`) are the re-ranker contract `matching` relies on:
``predict_proba(features_df) -> 1-D array``, ``contributions(features_df, top=3) ->
[[(feature, change), ...], ...]`` and ``version``.

Only a version that passed the fairness gate is served. ``plein promote`` is the one way to
make a champion, and it runs the gate; but an alias can also be moved by hand (the MLflow UI or
client), so the server checks again (`gate_refusal`): a version whose promotion, or failing
that whose training run, says the gate failed, or that was never through the gate, is refused
with the reason logged and shown in ``status()``, and nothing is served for that model (callers
answer as when no model is registered). It does not fall back to the previous champion: that
version no longer holds the alias, and serving it would hide that someone moved it.

Timeouts: against an MLflow server a dead registry must not hang a request, so unless the
environment says otherwise the server sets ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` to 0 and
``MLFLOW_HTTP_REQUEST_TIMEOUT`` to 5 seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from models.names import LADDER_NAME, RANKER_NAME
from plein.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class ServedModel:
    """A loaded model version. For the ladder model `target` selects rise (default) or paid."""

    kind: str
    name: str
    version: str
    run_id: str | None
    model: object
    loaded_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def feature_names(self) -> list[str]:
        return list(self.model.feature_names_)

    def predict_proba(self, features_df: pd.DataFrame, target: str | None = None) -> np.ndarray:
        if self.kind == "ladder":
            return self.model.predict_proba(features_df, target=target or "rise")
        return self.model.predict_proba(features_df)

    def predict_frame(self, features_df: pd.DataFrame) -> pd.DataFrame:
        """Ladder model: p_rise and p_paid per row."""
        if self.kind != "ladder":
            return pd.DataFrame({"p_hire": self.model.predict_proba(features_df)})
        return self.model.predict_frame(features_df)

    def contributions(self, features_df: pd.DataFrame, top: int = 3, target: str | None = None) -> list[list[tuple[str, float]]]:
        if self.kind == "ladder":
            return self.model.contributions(features_df, top=top, target=target or "rise")
        return self.model.contributions(features_df, top=top)

    @property
    def training_rungs(self) -> list[int] | None:
        """Ladder model: the rungs it learned from (None for a model saved without them)."""
        rungs = getattr(self.model, "training_rungs_", None)
        return None if rungs is None else list(rungs)

    def outside_training(self, rung) -> bool:
        """Ladder model: whether `rung` (None: not measured) is outside what it learned from."""
        check = getattr(self.model, "outside_training", None)
        return bool(check(rung)) if check is not None else False

    def describe(self) -> dict:
        return {"name": self.name, "version": self.version, "run_id": self.run_id, "loaded_at": self.loaded_at}


def gate_refusal(mv) -> str | None:
    """Why registry version `mv` must not be served, or None when it passed the fairness gate.

    The promotion's verdict (tag ``promotion_fairness_gate``, written by `models.registry.promote`
    from the audit on the data it re-scored) counts first; without one, the training run's
    (tag ``fairness_gate``). A version with neither was never gated."""
    tags = dict(getattr(mv, "tags", None) or {})
    version = getattr(mv, "version", "?")
    for tag, when in (("promotion_fairness_gate", "when promoted"), ("fairness_gate", "of its training run")):
        verdict = tags.get(tag)
        if verdict == "passed":
            return None
        if verdict is not None:
            never = " and was never promoted" if tag == "fairness_gate" else ""
            return (f"version {version} failed the fairness gate {when} (tag {tag}={verdict}){never}; "
                    "only a version `plein promote` accepts is served")
    return (f"version {version} was never through the fairness gate (no fairness_gate tag); "
            "only a version `plein promote` accepts is served")


def _default_resolver(client, name: str, alias: str):
    from models.registry import alias_version

    return alias_version(client, name, alias)


def _default_loader(name: str, version: str):
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{name}/{version}")


class ModelServer:
    """Holds the champion of each model; thread-safe `reload`; never raises on registry trouble."""

    KINDS = {"ranker": RANKER_NAME, "ladder": LADDER_NAME}

    def __init__(self, settings: Settings | None = None, alias: str = "champion", load: bool = True, resolver=None, loader=None):
        self.settings = settings or get_settings()
        self.alias = alias
        self._resolver = resolver or _default_resolver
        self._loader = loader or _default_loader
        self._lock = threading.Lock()
        self._models: dict[str, ServedModel | None] = {k: None for k in self.KINDS}
        self._errors: dict[str, str | None] = {k: None for k in self.KINDS}
        self._checked_at: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not is_local(self.settings.mlflow_tracking_uri):
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
        if load:
            self.reload()

    @property
    def ranker(self) -> ServedModel | None:
        return self._models["ranker"]

    @property
    def ladder(self) -> ServedModel | None:
        return self._models["ladder"]

    def reload(self) -> dict:
        """Load the version now holding the alias, for each model, if it changed. On any
        failure keep the current model and record the error. Returns `status()`."""
        with self._lock:
            try:
                from models.registry import configure

                client = configure(self.settings)
            except Exception as exc:  # the store itself is unusable
                for kind in self.KINDS:
                    self._errors[kind] = f"registry unreachable: {exc}"
                log.warning("model registry unreachable (%s); keeping the models in memory", exc)
                client = None
            if client is not None:
                for kind, name in self.KINDS.items():
                    self._reload_one(client, kind, name)
            self._checked_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self.status()

    def _reload_one(self, client, kind: str, name: str) -> None:
        current = self._models[kind]
        try:
            mv = self._resolver(client, name, self.alias)
        except Exception as exc:
            self._errors[kind] = f"registry unreachable: {type(exc).__name__}: {exc}"
            log.warning("could not resolve %s@%s (%s); keeping version %s", name, self.alias, exc, current.version if current else None)
            return
        if mv is None:
            self._errors[kind] = None if current is None else f"alias {self.alias} no longer set; keeping version {current.version}"
            return
        version = str(mv.version)
        # checked at every reload, also for the version being served: its tags may have changed
        refusal = gate_refusal(mv)
        if refusal is not None:
            message = f"not serving {name}: {refusal}"
            if self._errors[kind] != message:  # say it once, not at every reload
                log.warning("%s", message)
            self._models[kind] = None
            self._errors[kind] = message
            return
        if current is not None and current.version == version:
            self._errors[kind] = None
            return
        try:
            model = self._loader(name, version)
            if not hasattr(model, "predict_proba") or not hasattr(model, "feature_names_"):
                raise TypeError(f"{name} version {version} is not a Plein {kind} model")
        except Exception as exc:
            self._errors[kind] = f"loading {name} version {version} failed: {type(exc).__name__}: {exc}"
            log.warning("%s; keeping version %s", self._errors[kind], current.version if current else None)
            return
        self._models[kind] = ServedModel(kind=kind, name=name, version=version, run_id=getattr(mv, "run_id", None), model=model)
        self._errors[kind] = None
        log.info("serving %s version %s", name, version)

    def versions(self) -> dict[str, str | None]:
        """The version served per model kind (None: nothing served)."""
        return {kind: (m.version if m else None) for kind, m in self._models.items()}

    def unavailable_reason(self, kind: str) -> str | None:
        """Why nothing is served for `kind` (None when a version is): the last error, or that no
        version holds the alias (a challenger may exist; only ``plein promote`` makes a champion)."""
        if self._models[kind] is not None:
            return None
        return self._errors[kind] or (
            f"no {self.alias} {kind}: no version of {self.KINDS[kind]} holds the alias '{self.alias}' "
            f"(`plein promote {kind}` gives it to a challenger that passes the gate)"
        )

    def status(self) -> dict:
        return {
            "alias": self.alias,
            "checked_at": self._checked_at,
            "models": {
                kind: {**(m.describe() if m else {"name": self.KINDS[kind], "version": None}), "error": self._errors[kind]}
                for kind, m in self._models.items()
            },
        }

    def start_auto_reload(self, interval_seconds: float = 60.0) -> None:
        """Reload in a background thread every `interval_seconds` (until `stop`)."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop():
            while not self._stop.wait(interval_seconds):
                try:
                    self.reload()
                except Exception:  # reload never raises by design; belt and braces for the thread
                    log.exception("model reload failed")

        self._thread = threading.Thread(target=loop, name="plein-model-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def is_local(uri: str) -> bool:
    return uri.startswith("sqlite:") or uri.startswith("file:") or "://" not in uri

