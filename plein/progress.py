"""Progress reporting for long work (generation, import, training, solving): the one way.

Library code takes an optional `progress` callback ``(done, total, message) -> None``; the
CLI passes one that draws a rich progress bar, the API one that updates a job record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

ProgressCallback = Callable[[float, float, str], None]
T = TypeVar("T")


def no_progress(done: float, total: float, message: str = "") -> None:
    """The default callback: report nothing."""


def track(items: Iterable[T], total: int, message: str, progress: ProgressCallback | None) -> Iterator[T]:
    """Yield `items`, reporting each step to `progress` (if given)."""
    cb = progress or no_progress
    for i, item in enumerate(items):
        cb(i, total, message)
        yield item
    cb(total, total, message)


@contextmanager
def console_progress(description: str = "working"):
    """A rich progress bar for the CLI; yields a ProgressCallback."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=1.0)

        def callback(done: float, total: float, message: str = "") -> None:
            bar.update(task, completed=done, total=max(total, 1e-9), description=message or description)

        yield callback


def part(progress: ProgressCallback | None, start: float, end: float) -> ProgressCallback:
    """A callback for one stage of longer work: its fractions map onto [start, end] of
    `progress`'s whole (so that a bar does not restart at each stage)."""
    cb = progress or no_progress

    def callback(done: float, total: float, message: str = "") -> None:
        frac = min(1.0, max(0.0, done / total)) if total > 0 else 1.0
        cb(start + (end - start) * frac, 1.0, message)

    return callback
