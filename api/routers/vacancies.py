"""Vacancies: read, create, update, bulk import. `open=true` lists the vacancies still open
today (no close date, or one in the future)."""

import datetime as dt

import sqlalchemy as sa
from pydantic import Field

from api.routers._entities import entity_router


def _open_condition(query, tbl):
    if query.open is None:
        return []
    today = dt.date.today()
    is_open = sa.or_(tbl.c.close_date.is_(None), tbl.c.close_date >= today)
    return [is_open if query.open else sa.not_(is_open)]


router = entity_router(
    "vacancies",
    filters=("employer_id", "sector", "municipality"),
    tags=["vacancies"],
    extra_conditions=_open_condition,
    extra_filter_fields={"open": (bool | None, Field(None, description="true: only open vacancies; false: only closed ones."))},
)
