"""Clients (klanten): read, create, update, bulk import. Every read is written to the audit log.

Protected attributes (gender, migration background) are not part of a client here: they live
in `client_protected`, which no API route exposes."""

from api.routers._entities import entity_router

router = entity_router(
    "clients",
    filters=("coach_id", "municipality", "status", "benefit_type"),
    tags=["clients"],
    audit_reads=True,
)
