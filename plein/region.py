"""A Region: one Werkplein's data in memory, as pandas DataFrames with the columns of
`plein.schema`. This is what the generator produces, storage loads and saves, and the
optimiser, matcher and models consume.

List columns hold Python lists; date columns hold `datetime.date` objects (object dtype) or
pandas datetimes; ids are strings. `protected` is kept apart from `clients` on purpose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

import pandas as pd

from plein import schema


def empty_frame(table_name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in schema.table(table_name).names})


@dataclass
class Region:
    municipalities: pd.DataFrame = field(default_factory=lambda: empty_frame("municipalities"))
    teams: pd.DataFrame = field(default_factory=lambda: empty_frame("teams"))
    coaches: pd.DataFrame = field(default_factory=lambda: empty_frame("coaches"))
    coach_absences: pd.DataFrame = field(default_factory=lambda: empty_frame("coach_absences"))
    clients: pd.DataFrame = field(default_factory=lambda: empty_frame("clients"))
    #: protected attributes (gender, migration background): fairness audits only
    client_protected: pd.DataFrame = field(default_factory=lambda: empty_frame("client_protected"))
    employers: pd.DataFrame = field(default_factory=lambda: empty_frame("employers"))
    vacancies: pd.DataFrame = field(default_factory=lambda: empty_frame("vacancies"))
    ladder_events: pd.DataFrame = field(default_factory=lambda: empty_frame("ladder_events"))
    assignments: pd.DataFrame = field(default_factory=lambda: empty_frame("assignments"))
    outcomes: pd.DataFrame = field(default_factory=lambda: empty_frame("outcomes"))
    truth_ladder: pd.DataFrame = field(default_factory=lambda: empty_frame("truth_ladder"))
    truth_match: pd.DataFrame = field(default_factory=lambda: empty_frame("truth_match"))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Table name -> frame, in schema (dependency) order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> dict[str, int]:
        return {name: len(df) for name, df in self.tables().items()}

    def as_of(self) -> dt.date | None:
        """The region's own 'today' as its data tell: the day after the latest intake (None
        without intake dates). A generated region never reads the clock, so planning it on this
        day (not the wall-clock date) gives the same proposal whenever it is run."""
        dates = [d.date() if isinstance(d, dt.datetime) else d for d in self.clients["intake_date"]
                 if isinstance(d, dt.date) and not pd.isna(d)]  # pandas' NaT is a datetime too
        return max(dates) + dt.timedelta(days=1) if dates else None


assert [f.name for f in fields(Region)] == list(schema.TABLES), "Region fields must follow plein.schema.TABLES"
