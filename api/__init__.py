"""Plein's HTTP service: the versioned JSON API for the case system, employer services and
data scientists, and the server-rendered dashboard for team managers and employer services.

`api.app.create_app(settings)` builds the FastAPI application; `plein serve` runs it with
uvicorn. Nothing in `plein`, `scheduling`, `matching` or `models` imports this package.
"""
