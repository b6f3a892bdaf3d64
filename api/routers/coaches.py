"""Work coaches (werkcoaches): read, create, update, bulk import."""

from api.routers._entities import entity_router

router = entity_router("coaches", filters=("team_id", "active"), tags=["coaches"])
