"""Employers (werkgevers) served by employer services: read, create, update, bulk import."""

from api.routers._entities import entity_router

router = entity_router("employers", filters=("sector", "municipality"), tags=["employers"])
