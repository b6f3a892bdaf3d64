"""Results on the participatieladder: management information for team managers.

Rising on the ladder is the measure of success ("stijging van onze klanten op de
participatieladder gericht naar uitstroom", Helmond's plan). `ladder_results` answers, for a
period (start, end]: of the clients in the caseload on the first day, per team, municipality
or benefit type,

- how many **rose** at least one rung (a measurement in the period above their rung on the
  first day; of those who could rise: measured, below rung 6);
- how many **reached paid work** (a measurement at rung 5 or 6 in the period; of those below
  rung 5 on the first day);
- how many **fell** (their latest rung at the end below their rung on the first day);
- the mean rung on the first and on the last day, and how many were hired through a
  vacancy's list (a `hired` outcome in the period).

Who was in the caseload, and with which coach (so which team), on the first day comes from the
assignment history; without one (a region imported without it), from the current coach of the
clients who had their intake by then, which the result says (`attribution`). Shares of groups
smaller than `min_group` are not given: a share of a handful of clients says nothing about a
team. Pure pandas on a `Region`: no SQL, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from plein.domain import Rung
from plein.ladder import PAID_RUNGS, rung_at

#: how results can be grouped
GROUPINGS = ("team", "municipality", "benefit_type")
#: the fewest clients behind a share that is given
MIN_GROUP = 20
#: the group of clients without a team (no coach, or a coach without a team) or municipality
NONE_GROUP = "(none)"
#: the top rung (paid work without support): nobody there can rise
TOP_RUNG = int(max(Rung))


@dataclass
class LadderResults:
    start: dt.date
    end: dt.date
    by: str
    #: "assignment history" or "current coach (no assignment history)"
    attribution: str
    groups: list[dict[str, Any]]
    total: dict[str, Any]
    #: clients in the caseload on the first day per rung (1-6) on the first and the last day
    rungs: dict[str, dict[int, int]]
    min_group: int = MIN_GROUP
    latest_measurement: dt.date | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "by": self.by, "attribution": self.attribution,
                "min_group": self.min_group,
                "latest_measurement": self.latest_measurement.isoformat() if self.latest_measurement else None,
                "notes": list(self.notes), "total": self.total, "groups": self.groups,
                "rungs": {k: {str(r): n for r, n in v.items()} for k, v in self.rungs.items()}}


def _day(value, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name}: not a date as YYYY-MM-DD (got {value!r})") from None


def _dates(series: pd.Series) -> np.ndarray:
    """Dates as numpy days (NaT where missing or not a date)."""
    return pd.to_datetime(series, errors="coerce").to_numpy().astype("datetime64[D]")


def caseload_on(region, day: dt.date) -> tuple[pd.DataFrame, str]:
    """The clients in the caseload on `day` with their coach then: (frame [client_id, coach_id],
    attribution). From the assignment history where there is one; else the current coach of
    clients whose intake was on or before `day` and who have not exited."""
    a = region.assignments
    d = np.datetime64(day, "D")
    if len(a):
        start = _dates(a["start_date"])
        end = _dates(a["end_date"])
        on = (start <= d) & (np.isnat(end) | (end >= d))
        cur = pd.DataFrame({"client_id": a["client_id"].astype(str).to_numpy()[on],
                            "coach_id": a["coach_id"].astype(object).to_numpy()[on], "start": start[on]})
        # one coach per client: the assignment that began last (overlaps are not expected)
        cur = cur.sort_values(["client_id", "start"], kind="stable").drop_duplicates("client_id", keep="last")
        return cur[["client_id", "coach_id"]].reset_index(drop=True), "assignment history"
    cl = region.clients
    intake = _dates(cl["intake_date"])
    keep = (~np.isnat(intake)) & (intake <= d) & (cl["status"].fillna("active").astype(str) != "exited").to_numpy()
    frame = pd.DataFrame({"client_id": cl["id"].astype(str).to_numpy()[keep], "coach_id": cl["coach_id"].astype(object).to_numpy()[keep]})
    return frame, "current coach (no assignment history)"


def _share(part: int, whole: int, min_group: int) -> float | None:
    return round(part / whole, 4) if whole >= min_group and whole > 0 else None


def _summarise(rows: pd.DataFrame, min_group: int) -> dict[str, Any]:
    measured = rows["rung_start"].notna()
    can_rise = measured & (rows["rung_start"] < TOP_RUNG)
    below_paid = measured & (rows["rung_start"] < PAID_RUNGS[0])
    rose = int((can_rise & rows["rose"]).sum())
    paid = int((below_paid & rows["paid"]).sum())
    both = measured & rows["rung_end"].notna()
    fell = int((both & (rows["rung_end"] < rows["rung_start"])).sum())
    n_measured, n_can, n_below = int(measured.sum()), int(can_rise.sum()), int(below_paid.sum())

    def mean(col: str) -> float | None:
        v = rows.loc[rows[col].notna(), col]
        return round(float(v.astype(float).mean()), 2) if len(v) else None

    return {"clients": int(len(rows)), "measured": n_measured, "could_rise": n_can, "rose": rose,
            "rose_share": _share(rose, n_can, min_group), "below_paid_work": n_below, "reached_paid_work": paid,
            "paid_work_share": _share(paid, n_below, min_group), "fell": fell, "fell_share": _share(fell, int(both.sum()), min_group),
            "mean_rung_start": mean("rung_start"), "mean_rung_end": mean("rung_end"), "hired": int(rows["hired"].sum())}


def ladder_results(region, start, end, by: str = "team", min_group: int = MIN_GROUP) -> LadderResults:
    """Ladder results for the period (start, end] grouped `by` team, municipality or benefit
    type (see the module doc). ValueError naming the field for a date that is not one, a
    period that does not run forward, or an unknown grouping."""
    start, end = _day(start, "start"), _day(end, "end")
    if end <= start:
        raise ValueError(f"end: the period must end after it starts (start {start}, end {end})")
    if by not in GROUPINGS:
        raise ValueError(f"by: group by one of {', '.join(GROUPINGS)} (got {by!r})")
    if min_group < 1:
        raise ValueError(f"min_group: at least 1 (got {min_group})")

    pop, attribution = caseload_on(region, start)
    ids = pop["client_id"].to_numpy()
    ev = region.ladder_events
    rows = pop.assign(
        rung_start=rung_at(ev, ids, [start] * len(ids)).to_numpy(dtype="float64", na_value=np.nan),
        rung_end=rung_at(ev, ids, [end] * len(ids)).to_numpy(dtype="float64", na_value=np.nan),
    )
    # the highest measurement in (start, end]
    ev_day = _dates(ev["date"]) if len(ev) else np.array([], dtype="datetime64[D]")
    in_window = (ev_day > np.datetime64(start, "D")) & (ev_day <= np.datetime64(end, "D"))
    window = pd.DataFrame({"client_id": ev["client_id"].astype(str).to_numpy()[in_window],
                           "rung": pd.to_numeric(ev["rung"], errors="coerce").to_numpy()[in_window]})
    wmax = window.groupby("client_id")["rung"].max()
    top = pd.Series(ids).map(wmax).to_numpy(dtype="float64")
    rows["rose"] = ~np.isnan(top) & (top > np.nan_to_num(rows["rung_start"].to_numpy(), nan=np.inf))
    rows["paid"] = ~np.isnan(top) & (top >= PAID_RUNGS[0])
    out = region.outcomes
    if len(out):
        od = _dates(out["date"])
        hired_ids = set(out["client_id"].astype(str).to_numpy()[(out["stage"].astype(str) == "hired").to_numpy()
                                                               & (od > np.datetime64(start, "D")) & (od <= np.datetime64(end, "D"))])
    else:
        hired_ids = set()
    rows["hired"] = pd.Series(ids).isin(hired_ids).to_numpy()

    # the group of each client, with a name people know
    if by == "team":
        team_of = dict(zip(region.coaches["id"].astype(str), region.coaches["team_id"]))
        key = pd.Series([team_of.get(str(c)) if c is not None and c == c else None for c in rows["coach_id"]], dtype=object)
        names = dict(zip(region.teams["id"].astype(str), region.teams["name"]))
    else:
        col = "municipality" if by == "municipality" else "benefit_type"
        attr = dict(zip(region.clients["id"].astype(str), region.clients[col]))
        key = pd.Series([attr.get(c) for c in ids], dtype=object)
        names = dict(zip(region.municipalities["id"].astype(str), region.municipalities["name"])) if by == "municipality" else {}
    rows["group"] = key.where(key.notna() & (key.astype(str) != ""), NONE_GROUP).astype(str).to_numpy()

    groups = []
    for g, part in rows.groupby("group", sort=True):
        groups.append({"group": g, "name": str(names.get(g) or g), **_summarise(part, min_group)})
    groups.sort(key=lambda r: (r["group"] == NONE_GROUP, r["name"]))
    total = _summarise(rows, min_group)

    def histogram(col: str) -> dict[int, int]:
        counts = rows[col].dropna().astype(int).value_counts()
        return {r: int(counts.get(r, 0)) for r in range(1, TOP_RUNG + 1)}

    latest = pd.to_datetime(ev["date"], errors="coerce").max() if len(ev) else None
    latest = None if latest is None or pd.isna(latest) else latest.date()
    notes = []
    if latest is None or latest < end:
        notes.append(f"the latest ladder measurement is on {latest or 'no date'}: a rise after it is not recorded yet")
    if (end - start).days < 365:
        notes.append("the ladder is measured at intake and at least once a year: over a period shorter than a year "
                     "a rise may not have been measured yet")
    if attribution != "assignment history":
        notes.append("there is no assignment history: clients count with the coach they have now, and clients who "
                     "have left the caseload since are not counted")
    small = [r["name"] for r in groups if r["could_rise"] < min_group]
    if small:
        notes.append(f"no shares for groups with fewer than {min_group} clients who could rise: {', '.join(small)}")
    return LadderResults(start=start, end=end, by=by, attribution=attribution, groups=groups, total=total,
                         rungs={"start": histogram("rung_start"), "end": histogram("rung_end")}, min_group=min_group,
                         latest_measurement=latest, notes=notes)
