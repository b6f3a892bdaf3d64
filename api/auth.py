"""API keys: a random secret shown once, stored only as its sha256 hash, with a role.

Why sha256 and not a slow password hash: keys are 256-bit random secrets, not passwords a
person chose, so a dictionary attack on the hash is hopeless and a fast hash keeps every
request's authentication cheap (the candidate-list endpoint serves hundreds per second).
The first 8 characters (`prefix`) are stored in the clear to find the row and to show which
key is which; the comparison of the full hash is constant-time.

Keys are managed with `plein keys create NAME --role ROLE`, `plein keys list` and
`plein keys revoke NAME`, or with the functions below.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.roles import Role
from plein.storage.operational import api_keys, new_id, utcnow

PREFIX_LENGTH = 8
#: revocations made by another process take effect within this many seconds
CACHE_SECONDS = 10.0


class KeyManagementError(ValueError):
    """A key operation that cannot be done (duplicate name, unknown role, unknown key)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (the actor in the audit log) and its role."""

    name: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """A fresh key: 43 URL-safe characters (256 bits of randomness)."""
    return secrets.token_urlsafe(32)


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise KeyManagementError(f"unknown role {role!r}; choose one of: {', '.join(r.value for r in Role)}") from None


def create_key(engine: Engine, name: str, role: str | Role, secret: str | None = None) -> str:
    """Create a key and return its secret (the only time it is ever available).

    `secret` may be given (tests, provisioning from a secrets manager); it must be at least 32
    characters."""
    name = (name or "").strip()
    if not name:
        raise KeyManagementError("a key needs a name (who or what uses it, e.g. 'suite-zaaksysteem' or 'manager-jansen')")
    role = _role(role)
    secret = secret or new_secret()
    if len(secret) < 32:
        raise KeyManagementError("a provided secret must be at least 32 characters long")
    with engine.begin() as conn:
        exists = conn.execute(sa.select(api_keys.c.id).where(api_keys.c.name == name)).first()
        if exists:
            raise KeyManagementError(f"a key named {name!r} already exists; revoke it first or choose another name")
        conn.execute(
            api_keys.insert().values(
                id=new_id(), name=name, role=role.value, key_hash=hash_key(secret), prefix=secret[:PREFIX_LENGTH], created_at=utcnow(), revoked_at=None
            )
        )
    return secret


def list_keys(engine: Engine, include_revoked: bool = True) -> list[KeyInfo]:
    q = sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.prefix, api_keys.c.created_at, api_keys.c.revoked_at).order_by(
        api_keys.c.name
    )
    if not include_revoked:
        q = q.where(api_keys.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [KeyInfo(*row) for row in conn.execute(q)]


def revoke_key(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        row = conn.execute(sa.select(api_keys.c.id, api_keys.c.revoked_at).where(api_keys.c.name == name)).first()
        if row is None:
            raise KeyManagementError(f"there is no key named {name!r} (see `plein keys list`)")
        if row.revoked_at is not None:
            raise KeyManagementError(f"the key {name!r} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
        conn.execute(api_keys.update().where(api_keys.c.id == row.id).values(revoked_at=utcnow()))
    KeyStore.invalidate_all()


class KeyStore:
    """Looks up the principal for a presented secret, with a short in-process cache so a busy
    endpoint does not query the key table on every request."""

    _instances: weakref.WeakSet[KeyStore] = weakref.WeakSet()
    _instances_lock = threading.Lock()

    def __init__(self, engine: Engine, cache_seconds: float = CACHE_SECONDS) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()
        with KeyStore._instances_lock:
            KeyStore._instances.add(self)

    @classmethod
    def invalidate_all(cls) -> None:
        """Forget every cached lookup in this process (after a revocation)."""
        with cls._instances_lock:
            for store in list(cls._instances):
                with store._lock:
                    store._cache.clear()

    def cached(self, secret: str) -> tuple[bool, Principal | None]:
        """(found, principal) from the cache only: no database, safe on the event loop."""
        if not secret or len(secret) < PREFIX_LENGTH or len(secret) > 512:
            return True, None
        digest = hash_key(secret)
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def authenticate(self, secret: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None otherwise."""
        if not secret or len(secret) < PREFIX_LENGTH or len(secret) > 512:
            return None
        digest = hash_key(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        principal = self._lookup(secret[:PREFIX_LENGTH], digest)
        with self._lock:
            if len(self._cache) > 10_000:  # unknown keys must not grow the cache without bound
                self._cache.clear()
            self._cache[digest] = (now + self.cache_seconds, principal)
        return principal

    def _lookup(self, prefix: str, digest: str) -> Principal | None:
        q = sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.key_hash).where(
            api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        for row in rows:
            if hmac.compare_digest(row.key_hash, digest):
                try:
                    return Principal(name=row.name, role=Role(row.role), key_id=row.id)
                except ValueError:  # a role this version does not know: no access
                    return None
        return None
