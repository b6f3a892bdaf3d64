"""Teams (sector teams, teams naar branche, and integrated teams): read, create, update, bulk import."""

from api.routers._entities import entity_router

router = entity_router("teams", filters=("kind",), tags=["teams"])
