"""`plein demo` (what `make demo` runs) end to end, without starting the server: region,
models, proposal and keys, and a second run that reuses all of them."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_demo_builds_everything_once_and_reuses_it(data_dir):
    from api.demo import ROLES, run_demo
    from plein.storage import get_engine, load_region
    from scheduling.approval import load_proposal

    first = run_demo(clients=300, seed=3, host="127.0.0.1", port=0, serve=False, time_limit=3)
    keys = json.loads((data_dir / "demo-keys.json").read_text())
    assert set(keys) == set(ROLES) and all(len(k["secret"]) >= 32 for k in keys.values())
    assert first["proposal_id"]
    assert set(first["models"]) == {"ladder", "ranker"}
    region = load_region(get_engine())
    assert len(region.clients) == 300
    # planned on the region's own date (the day after its latest intake), not on the clock's
    proposal, _ = load_proposal(get_engine(), first["proposal_id"])
    assert region.as_of() is not None and proposal.plan_date == region.as_of().isoformat()

    again = run_demo(clients=300, seed=3, host="127.0.0.1", port=0, serve=False, time_limit=3)
    assert again["proposal_id"] == first["proposal_id"]
    assert json.loads((data_dir / "demo-keys.json").read_text()) == keys
    assert len(load_region(get_engine()).clients) == 300
