"""The participatieladder over time: rung at a date, and 12-month outcomes.

Pure domain logic on the `ladder_events` table [id, client_id, date, rung] (measurements on
the ladder, at intake and at least yearly). Used to build labels for ladder predictions on
real and generated data alike:

- `rung_at(events, client_ids, dates)`: the rung of each client on each date = the latest
  measurement on or before that date (NA when the client had none yet);
- `ladder_outcomes(events, snapshots, horizon_months=12)`: for each snapshot (client, as_of),
  whether the client **rose** (some measurement in the window (as_of, as_of + horizon] is above
  the rung at as_of) and reached **paid** work (some measurement in that window is rung 5 or 6,
  paid work with or without support).

The window is measured in calendar months (as_of 2024-01-31 + 1 month = 2024-02-29), open at
as_of and closed at the end, so a measurement on the as_of date itself belongs to the past.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PAID_RUNGS = (5, 6)

_EVENT_COLUMNS = ("client_id", "date", "rung")


def _days(values, what: str) -> np.ndarray:
    """Dates (datetime.date objects, strings, pandas or numpy datetimes) as int64 days since
    1970-01-01. Raises ValueError naming `what` for values that are not dates."""
    try:
        ts = pd.to_datetime(pd.Series(list(values) if not isinstance(values, pd.Series) else values), errors="raise")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what}: not a date ({exc})") from None
    if ts.isna().any():
        raise ValueError(f"{what}: {int(ts.isna().sum())} missing date(s)")
    return ts.to_numpy().astype("datetime64[D]").astype(np.int64)


def _events(ladder_events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _EVENT_COLUMNS if c not in ladder_events.columns]
    if missing:
        raise ValueError(f"ladder_events: missing column(s) {missing}")
    ev = pd.DataFrame({
        "client_id": ladder_events["client_id"].astype(str).to_numpy(),
        "day": _days(ladder_events["date"], "ladder_events.date"),
        "rung": pd.to_numeric(ladder_events["rung"], errors="coerce").to_numpy(),
    })
    bad = ~np.isin(ev["rung"].to_numpy(), [1, 2, 3, 4, 5, 6])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        value = ladder_events["rung"].iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f"ladder_events: row {i}: rung {value!r} is not 1-6")
    ev["rung"] = ev["rung"].astype(np.int64)
    return ev


def rung_at(ladder_events: pd.DataFrame, client_ids: Sequence[str], dates) -> pd.Series:
    """The rung of each client on each date: the latest measurement on or before the date.

    `client_ids` and `dates` are aligned sequences (one query per position). Returns an
    ``Int64`` Series (NA where the client had no measurement yet), in query order. When two
    measurements share a date, the one appearing last in `ladder_events` counts.
    """
    client_ids = pd.Series(client_ids, dtype=object).astype(str).to_numpy()
    q_day = _days(dates, "dates")
    if len(client_ids) != len(q_day):
        raise ValueError(f"rung_at: {len(client_ids)} client ids but {len(q_day)} dates")
    ev = _events(ladder_events)
    if len(ev) == 0 or len(q_day) == 0:
        return pd.Series(pd.array([pd.NA] * len(q_day), dtype="Int64"))
    codes, uniques = pd.factorize(ev["client_id"])
    q_codes = pd.Index(uniques).get_indexer(client_ids)
    # one sortable key per (client, day); stable sort keeps file order among equal keys
    span = np.int64(1 << 32)
    offset = np.int64(1 << 31)
    key = codes.astype(np.int64) * span + (ev["day"].to_numpy() + offset)
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    rung_sorted = ev["rung"].to_numpy()[order]
    q_key = q_codes.astype(np.int64) * span + (q_day + offset)
    pos = np.searchsorted(key_sorted, q_key, side="right") - 1
    ok = (q_codes >= 0) & (pos >= 0)
    ok[ok] &= (key_sorted[pos[ok]] // span) == q_codes[ok]
    out = pd.array([pd.NA] * len(q_day), dtype="Int64")
    out[ok] = rung_sorted[pos[ok]]
    return pd.Series(out)


def ladder_outcomes(ladder_events: pd.DataFrame, snapshots: pd.DataFrame, horizon_months: int = 12) -> pd.DataFrame:
    """Labels for ladder predictions: one row per snapshot.

    `snapshots` has columns ``client_id`` and ``as_of``. Returns
    ``[client_id, as_of, rung_at, rose, paid]`` in snapshot order, where ``rung_at`` is the rung
    at as_of (``Int64``, NA if not yet measured), ``rose`` whether a measurement in
    (as_of, as_of + horizon_months] is above it (NA when rung_at is NA) and ``paid`` whether
    a measurement in that window is rung 5 or 6. Snapshots without any measurement in the
    window count as not rose and not paid: the ladder is measured at least yearly, so a
    missing measurement means no recorded change.
    """
    if horizon_months <= 0:
        raise ValueError(f"horizon_months must be positive, got {horizon_months}")
    missing = [c for c in ("client_id", "as_of") if c not in snapshots.columns]
    if missing:
        raise ValueError(f"snapshots: missing column(s) {missing}")
    snap = pd.DataFrame({
        "client_id": snapshots["client_id"].astype(str).to_numpy(),
        "as_of": snapshots["as_of"].to_numpy(),
    })
    as_of_ts = pd.to_datetime(pd.Series(snap["as_of"]), errors="raise")
    start = as_of_ts.to_numpy().astype("datetime64[D]").astype(np.int64)
    end = (as_of_ts + pd.DateOffset(months=horizon_months)).to_numpy().astype("datetime64[D]").astype(np.int64)
    current = rung_at(ladder_events, snap["client_id"], as_of_ts)

    ev = _events(ladder_events)
    q = pd.DataFrame({"q": np.arange(len(snap)), "client_id": snap["client_id"], "start": start, "end": end})
    m = q.merge(ev, on="client_id", how="inner")
    m = m[(m["day"] > m["start"]) & (m["day"] <= m["end"])]
    window_max = m.groupby("q")["rung"].max().reindex(np.arange(len(snap)))
    wmax = window_max.to_numpy()  # float with NaN where no measurement in the window
    has = ~np.isnan(wmax)
    cur = current.to_numpy(dtype="float64", na_value=np.nan)
    rose = pd.array(has & (wmax > np.nan_to_num(cur, nan=np.inf)), dtype="boolean")
    rose[np.isnan(cur)] = pd.NA
    paid = has & (wmax >= PAID_RUNGS[0])
    return pd.DataFrame({
        "client_id": snapshots["client_id"].to_numpy(),
        "as_of": snapshots["as_of"].to_numpy(),
        "rung_at": current.array,
        "rose": rose,
        "paid": paid,
    })
