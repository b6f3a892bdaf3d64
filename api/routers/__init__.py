"""One router per resource. Every route is guarded by `api.deps.authorize` through its router
and listed in `api.roles.ROLE_MATRIX`."""
