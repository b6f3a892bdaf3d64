"""Measuring helpers shared by the benchmarks: the one way to report memory."""

from __future__ import annotations

import resource
import threading
import time


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started, in MB (Linux: ru_maxrss is KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class PeakMemory:
    """Peak resident memory (RSS) of this process during a block, sampled every `interval` s.

    `peak_mb` is the absolute peak; `peak_above_start_mb` what the block added."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.base = self.peak = self._proc.memory_info().rss

    def __enter__(self) -> PeakMemory:
        self.base = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(self._interval)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    @property
    def peak_above_start_mb(self) -> float:
        return (self.peak - self.base) / 2**20
