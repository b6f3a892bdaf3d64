"""The in-memory matcher state is built once: a readiness probe arriving while the start-up
build runs must not start a second build that later replaces the warm result cache."""

from __future__ import annotations

import threading
import time

from api.config import ServiceConfig
from api.service import DataState, Service
from plein.settings import get_settings


def _service(data_dir) -> Service:
    return Service(ServiceConfig.from_env(get_settings(), preload=False, migrate=True, recover_jobs=False))


def test_probe_during_build_does_not_start_a_second_build(data_dir, monkeypatch):
    service = _service(data_dir)
    builds = []
    release = threading.Event()

    def slow_build():
        builds.append(time.monotonic())
        release.wait(5)
        return DataState(region=None, matcher=None, built_at=time.monotonic())

    monkeypatch.setattr(service, "_build_data", slow_build)
    first = threading.Thread(target=service.data)
    first.start()
    while not builds:
        time.sleep(0.01)
    service.build_in_background()  # what /v1/ready does while nothing is built yet
    release.set()
    first.join(5)
    time.sleep(0.2)
    assert len(builds) == 1
    state = service.current_data()
    assert state is not None
    time.sleep(0.1)
    assert len(builds) == 1, "a fresh state must not be rebuilt"
    service.close()


def test_old_state_is_rebuilt_in_background(data_dir, monkeypatch):
    service = _service(data_dir)
    builds = []

    def build():
        builds.append(1)
        return DataState(region=None, matcher=None, built_at=time.monotonic())

    monkeypatch.setattr(service, "_build_data", build)
    old = service.data()
    old.built_at -= service.config.matcher_max_age + 1
    assert service.current_data() is old  # keeps serving the old state meanwhile
    for _ in range(100):
        if service.current_data() is not old:
            break
        time.sleep(0.02)
    assert len(builds) == 2 and service.current_data() is not old
    service.close()
