"""The optimiser's commands end to end on a small database: optimise, show, approve, reject."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

storage = pytest.importorskip("plein.storage")


def test_optimise_show_approve(data_dir, tiny):
    from plein.cli import app

    engine = storage.get_engine()
    storage.upgrade(engine)
    region = tiny.make_region([tiny.coach("A", cap=2), tiny.coach("B", cap=10)],
                              [tiny.client("c1", "A"), tiny.client("c2", "A"), tiny.client("c3", "A"), tiny.client("n1")])
    storage.save_region(engine, region)
    runner = CliRunner()
    res = runner.invoke(app, ["optimise", "--mode", "what-if", "--coach-leaves", "A", "--time-limit", "3", "--date", "2026-03-02"])
    assert res.exit_code == 0, res.output
    pid = re.search(r"pending proposal ([0-9a-f]{32})", res.output).group(1)
    assert "forced" in res.output
    res = runner.invoke(app, ["proposal", "show", pid, "--plot", str(data_dir / "b.png")])
    assert res.exit_code == 0, res.output and (data_dir / "b.png").stat().st_size > 1000
    res = runner.invoke(app, ["proposal", "approve", pid, "--by", "m.jansen"])
    assert res.exit_code == 0, res.output
    assert "4 moves applied" in res.output
    res = runner.invoke(app, ["proposal", "reject", pid, "--by", "x", "--note", "late"])
    assert res.exit_code == 1 and "already approved" in res.output
    res = runner.invoke(app, ["optimise", "--mode", "sideways"])
    assert res.exit_code == 2 and "unknown mode" in res.output
