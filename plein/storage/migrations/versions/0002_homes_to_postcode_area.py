"""Client homes to postcode-area precision: lat/lon rounded to `plein.schema.HOME_DECIMALS`.

Since 2026-12-07 every import and API write keeps a client's home to 2 decimals (about 1 km),
so that a stored point says no more than the postcode area (docs/privacy-and-fairness.md). A
database filled before then still held exact points; this revision rounds them. The finer
digits are gone for good: the downgrade leaves the rounded points.

Revision ID: 0002_homes_to_postcode_area
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_homes_to_postcode_area"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

#: the value of plein.schema.HOME_DECIMALS when this revision was written (a revision stays
#: what it was; a later change of precision gets its own)
DECIMALS = 2


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # ROUND(double precision, int) is numeric's only
        op.execute(sa.text(f"UPDATE clients SET lat = ROUND(lat::numeric, {DECIMALS})::double precision, "
                           f"lon = ROUND(lon::numeric, {DECIMALS})::double precision "
                           "WHERE lat IS NOT NULL OR lon IS NOT NULL"))
    else:
        op.execute(sa.text(f"UPDATE clients SET lat = ROUND(lat, {DECIMALS}), lon = ROUND(lon, {DECIMALS}) "
                           "WHERE lat IS NOT NULL OR lon IS NOT NULL"))


def downgrade() -> None:
    """Nothing to undo: the exact points are not kept anywhere."""
