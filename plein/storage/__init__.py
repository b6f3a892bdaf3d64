"""Storage: the database (SQLite by default, PostgreSQL by URL), migrations, and the validated
import and export of every entity of `plein.schema` as CSV or Parquet.

Public API (other packages use only these names):

- `get_engine(url=None)`, `session_scope(engine)`: engines and ORM sessions
- `upgrade(engine)`: Alembic migrations to head
- `validate_frame(table_name, df, taxonomy=None, source=...) -> (clean_df, errors)`: the one
  row validator, used by imports and by the API for single creates and updates
- `import_frame` / `import_file` -> `ImportReport`; raise `ImportValidationError`
- `export_file(engine, table_name, path)`
- `load_region(engine) -> Region`, `save_region(engine, region)`
- operational ORM classes `Proposal`, `Job`, `ApiKey`, `AuditEntry` (`plein.storage.operational`)
"""

from plein.storage.codec import read_file, write_file
from plein.storage.engine import get_engine, session_scope, write_transaction
from plein.storage.importer import (
    ImportReport,
    ImportValidationError,
    case_variants,
    export_file,
    import_file,
    import_frame,
    load_region,
    read_table,
    save_region,
)
from plein.storage.migrate import current_revision, head_revision, upgrade
from plein.storage.operational import ApiKey, AuditEntry, Job, Proposal
from plein.storage.tables import metadata, sql_table
from plein.storage.validation import ValidationIssue, validate_frame

__all__ = [
    "ApiKey",
    "ImportReport",
    "ImportValidationError",
    "ValidationIssue",
    "case_variants",
    "export_file",
    "import_file",
    "import_frame",
    "load_region",
    "read_file",
    "read_table",
    "save_region",
    "validate_frame",
    "write_file",
    "write_transaction",
    "AuditEntry",
    "Job",
    "Proposal",
    "current_revision",
    "get_engine",
    "head_revision",
    "metadata",
    "session_scope",
    "sql_table",
    "upgrade",
]
