"""Engines, sessions, migrations and the operational tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from plein.storage import Proposal, current_revision, get_engine, head_revision, session_scope, upgrade
from plein.storage.engine import normalise_url
from plein.storage.migrate import downgrade, schema_diff
from plein.storage.operational import ApiKey, AuditEntry, Job


def test_default_engine_is_sqlite_under_the_data_folder_with_wal_and_foreign_keys(data_dir):
    engine = get_engine()
    assert engine.url.database == str(data_dir / "plein.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_sqlite_file_in_a_missing_folder_is_created(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'plein.db'}")
    upgrade(engine)
    assert (tmp_path / "a" / "b" / "plein.db").is_file()
    engine.dispose()


def test_postgres_urls_use_psycopg3():
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg"


def test_unsupported_database_is_refused_with_the_supported_ones_named():
    with pytest.raises(ValueError, match="SQLite .* and PostgreSQL"):
        get_engine("mysql://u@h/db")


def test_migrated_schema_matches_the_metadata(engine):
    assert current_revision(engine) == head_revision() == "0002_homes_to_postcode_area"
    assert schema_diff(engine) == []
    upgrade(engine)  # at head: a no-op
    assert current_revision(engine) == head_revision()


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert schema_diff(engine) == []
    engine.dispose()


def test_sqlite_transactions_cover_ddl_so_a_failed_block_leaves_nothing(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
            raise RuntimeError("boom")
    assert "scratch" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_session_scope_commits_and_rolls_back(engine):
    with session_scope(engine) as s:
        s.add(Proposal(created_by="manager-1", mode="full", fingerprint="abc", params={"k": 1}, result={"moves": []}))
    with pytest.raises(RuntimeError):
        with session_scope(engine) as s:
            s.add(Proposal(created_by="manager-2", mode="intake", fingerprint="def"))
            s.flush()
            raise RuntimeError("boom")
    with session_scope(engine) as s:
        rows = s.scalars(sa.select(Proposal)).all()
    assert [(p.created_by, p.status, p.version, p.params) for p in rows] == [("manager-1", "pending", 1, {"k": 1})]
    assert len(rows[0].id) == 32
    assert rows[0].created_at.tzinfo is not None


def test_proposal_version_stops_two_managers_deciding_at_once(engine):
    with session_scope(engine) as s:
        p = Proposal(created_by="m", mode="full", fingerprint="f")
        s.add(p)
    # Two managers open the same pending proposal (each read ends its transaction, as in two
    # web requests), then both decide: the second decision is refused, not silently applied.
    with session_scope(engine) as first, session_scope(engine) as second:
        a = first.get(Proposal, p.id)
        first.commit()
        b = second.get(Proposal, p.id)
        second.commit()
        a.status = "approved"
        first.commit()
        b.status = "rejected"
        with pytest.raises(StaleDataError):
            second.flush()
        second.rollback()
    with session_scope(engine) as s:
        assert s.get(Proposal, p.id).status == "approved"


def test_operational_tables_store_utc_timestamps_and_json(engine):
    amsterdam = timezone(timedelta(hours=2))
    at = datetime(2026, 6, 1, 14, 0, tzinfo=amsterdam)
    with session_scope(engine) as s:
        s.add(Job(kind="optimise", params={"mode": "full"}, created_at=at))
        s.add(ApiKey(name="case-system", role="case_system", key_hash="0" * 64, prefix="plk_abcd"))
        s.add(AuditEntry(actor="case-system", role="case_system", action="read", resource="client", resource_id="k-1", detail={"fields": 3}))
    with session_scope(engine) as s:
        job = s.scalars(sa.select(Job)).one()
        entry = s.scalars(sa.select(AuditEntry)).one()
    assert job.created_at == at and job.created_at.utcoffset() == timedelta(0)
    assert (job.status, job.progress, job.params) == ("queued", 0.0, {"mode": "full"})
    assert entry.id == 1 and entry.detail == {"fields": 3}
    with pytest.raises(sa.exc.IntegrityError):
        with session_scope(engine) as s:
            s.add(ApiKey(name="case-system", role="admin", key_hash="1" * 64, prefix="plk_efgh"))


def test_sqlite_write_transaction_takes_the_write_lock_at_begin(tmp_path):
    from plein.storage import write_transaction

    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(engine)
    impatient = get_engine(f"sqlite:///{tmp_path / 'w.db'}", connect_args={"timeout": 0})
    with write_transaction(engine):
        # nothing written yet, but a second writer is already kept out
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            with impatient.connect() as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout=0")  # do not wait for the lock
                conn.commit()
                with conn.begin():
                    conn.exec_driver_sql("INSERT INTO municipalities (id) VALUES ('GM0301')")
    with write_transaction(engine) as conn:
        conn.exec_driver_sql("INSERT INTO municipalities (id) VALUES ('GM0262')")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM municipalities").scalars().all() == ["GM0262"]
    impatient.dispose()
    engine.dispose()


def test_a_database_of_exact_homes_is_rounded_to_the_postcode_area_by_the_upgrade(engine):
    """Before 2026-12-07 client homes were stored as given; revision 0002 rounds the ones a
    database already holds to 2 decimals (new writes are rounded by the validator)."""
    import pandas as pd

    from plein.storage import import_frame, read_table

    import_frame(engine, "clients", pd.DataFrame({"id": ["k-exact", "k-none"], "skills": [[], []]}), taxonomy=None)
    downgrade(engine, "0001_initial")
    with engine.begin() as conn:  # what an old database holds: the exact point
        conn.execute(sa.text("UPDATE clients SET lat = 52.14132, lon = 6.21626 WHERE id = 'k-exact'"))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    got = read_table(engine, "clients").set_index("id")
    assert (got.loc["k-exact", "lat"], got.loc["k-exact", "lon"]) == (52.14, 6.22)
    assert got.loc["k-none", ["lat", "lon"]].isna().all()
