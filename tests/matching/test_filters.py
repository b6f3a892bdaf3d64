"""Each hard filter excludes what it should, and says why; unknown values pass with a note."""

import datetime as dt

import pytest

from matching.config import MatchConfig
from matching.engine import Matcher

SKILLS = ["prepare meals", "food safety"]


def _matcher(helpers, clients, vacancy_kw, config=None):
    vacancies = helpers.frame([helpers.vacancy("v", SKILLS, **vacancy_kw)])
    return Matcher(helpers.frame(clients), vacancies, config=config, as_of=helpers.AS_OF)


def _listed(m):
    return set(m.candidates_for_vacancy("v", top=50).ids())


def _why(m, client_id):
    ex = m.explain("v", client_id)
    assert not ex.on_list
    return [e["filter"] for e in ex.excluded_by], ex.summary


def test_hours_filter(helpers):
    m = _matcher(helpers, [helpers.client("ok", SKILLS, hours_available=32), helpers.client("short", SKILLS, hours_available=16),
                           helpers.client("near", SKILLS, hours_available=24)], {"hours": 32})
    assert _listed(m) == {"ok", "near"}  # 24 >= 0.75 * 32
    filters, summary = _why(m, "short")
    assert filters == ["hours"] and "16 h/week" in summary
    flexible = _matcher(helpers, [helpers.client("short", SKILLS, hours_available=16)], {"hours": None})
    assert _listed(flexible) == {"short"}


def test_driving_licence_filter(helpers):
    m = _matcher(helpers, [helpers.client("has", SKILLS, driving_licence=True), helpers.client("none", SKILLS, driving_licence=False)],
                 {"requires_licence": True})
    assert _listed(m) == {"has"}
    assert _why(m, "none")[0] == ["driving_licence"]


def test_certificates_filter(helpers):
    m = _matcher(helpers, [helpers.client("both", SKILLS, certificates=["vca", "BHV"]), helpers.client("one", SKILLS, certificates=["VCA"])],
                 {"certificates": ["VCA", "BHV"]})
    assert _listed(m) == {"both"}  # compared case-insensitively
    filters, summary = _why(m, "one")
    assert filters == ["certificates"] and "bhv" in summary


def test_dutch_level_filter_and_unknown_level(helpers):
    clients = [helpers.client("b2", SKILLS, dutch_level="B2"), helpers.client("a2", SKILLS, dutch_level="A2"),
               helpers.client("unknown", SKILLS, dutch_level="unknown")]
    m = _matcher(helpers, clients, {"min_dutch_level": "B1"})
    assert _listed(m) == {"b2", "unknown"}
    filters, summary = _why(m, "a2")
    assert filters == ["dutch_level"] and "A2 is below the required B1" in summary
    unknown = next(r for r in m.candidates_for_vacancy("v").results if r.client_id == "unknown")
    assert any("Dutch level unknown" in n for n in unknown.reasons["notes"])
    strict = _matcher(helpers, clients, {"min_dutch_level": "B1"}, MatchConfig().with_overrides(**{"filters.unknown_dutch_passes": False}))
    assert _listed(strict) == {"b2"}


def test_distance_filter_and_unknown_location(helpers):
    clients = [helpers.client("zutphen", SKILLS), helpers.client("lochem", SKILLS, lat=helpers.LOCHEM[0], lon=helpers.LOCHEM[1]),
               helpers.client("amsterdam", SKILLS, lat=helpers.AMSTERDAM[0], lon=helpers.AMSTERDAM[1]),
               helpers.client("nowhere", SKILLS, lat=None, lon=None)]
    m = _matcher(helpers, clients, {})
    assert _listed(m) == {"zutphen", "lochem", "nowhere"}
    filters, summary = _why(m, "amsterdam")
    assert filters == ["distance"] and "more than 30 km" in summary
    wide = _matcher(helpers, clients, {}, MatchConfig().with_overrides(**{"filters.max_distance_km": 120.0}))
    assert "amsterdam" in _listed(wide)
    strict = _matcher(helpers, clients, {}, MatchConfig().with_overrides(**{"filters.unknown_distance_passes": False}))
    assert "nowhere" not in _listed(strict)


def test_readiness_filter_regular_and_supported_work(helpers):
    clients = [helpers.client(f"rung{r}", SKILLS, ladder_rung=r) for r in range(1, 7)] + [helpers.client("unmeasured", SKILLS, ladder_rung=None)]
    regular = _matcher(helpers, clients, {"supported_work": False})
    assert _listed(regular) == {"rung4", "rung5", "rung6", "unmeasured"}
    filters, summary = _why(regular, "rung3")
    assert filters == ["readiness"] and "regular jobs need rung 4" in summary
    supported = _matcher(helpers, clients, {"supported_work": True})
    assert _listed(supported) == {"rung3", "rung4", "rung5", "rung6", "unmeasured"}
    note = next(r for r in regular.candidates_for_vacancy("v").results if r.client_id == "unmeasured").reasons["notes"]
    assert any("rung not measured" in n for n in note)
    strict = _matcher(helpers, clients, {}, MatchConfig().with_overrides(**{"filters.unknown_rung_passes": False}))
    assert "unmeasured" not in _listed(strict)


def test_already_placed_filter(helpers):
    m = _matcher(helpers, [helpers.client("active", SKILLS), helpers.client("placed", SKILLS, status="placed"),
                           helpers.client("exited", SKILLS, status="exited")], {})
    assert _listed(m) == {"active"}
    filters, summary = _why(m, "placed")
    assert filters == ["status"] and "placed" in summary


def test_closed_vacancy_filter(helpers):
    m = _matcher(helpers, [helpers.client("a", SKILLS)], {"close_date": helpers.AS_OF - dt.timedelta(days=1)})
    lst = m.candidates_for_vacancy("v")
    assert lst.results == [] and "closed" in lst.note
    assert _why(m, "a")[0] == ["vacancy_closed"]
    still_open = _matcher(helpers, [helpers.client("a", SKILLS)], {"close_date": helpers.AS_OF + dt.timedelta(days=1)})
    assert _listed(still_open) == {"a"}


def test_every_failed_filter_is_reported(helpers):
    m = _matcher(helpers, [helpers.client("x", SKILLS, driving_licence=False, hours_available=8, ladder_rung=2)],
                 {"requires_licence": True, "hours": 36})
    assert _why(m, "x")[0] == ["hours", "driving_licence", "readiness"]


def test_disabled_filters(helpers):
    cfg = MatchConfig().with_overrides(**{"filters.min_hours_ratio": None, "filters.driving_licence": False,
                                          "filters.min_rung_regular": None, "filters.min_rung_supported": None})
    m = _matcher(helpers, [helpers.client("x", SKILLS, driving_licence=False, hours_available=8, ladder_rung=2)],
                 {"requires_licence": True, "hours": 36}, cfg)
    assert _listed(m) == {"x"}


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unknown matching setting"):
        MatchConfig().with_overrides(**{"filters.max_km": 3})
