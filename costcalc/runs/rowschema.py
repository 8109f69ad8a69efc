"""The Arrow types of audit rows: what `--parquet` writes and what the columnar and Ray paths build."""

from __future__ import annotations

__all__ = ["AUDIT_SCHEMA_TYPES", "DICTIONARY_FIELDS", "audit_schema", "written_schema"]

AUDIT_SCHEMA_TYPES = {
    "path": "string",
    "model": "string",
    "detail": "string",
    "status": "string",
    "format": "string",
    "width": "int64",
    "height": "int64",
    "frames": "int64",
    "animated": "bool_",
    "orientation": "int64",
    "bytes": "int64",
    "applied_detail": "string",
    "tokens": "int64",
    "usd": "float64",
    "rule": "string",
    "error": "string",
    "warning": "string",
    "tier": "string",
    "basis": "string",
    "model_status": "string",
    "shutdown": "string",
}
"""The Arrow type of each AuditRow field."""

DICTIONARY_FIELDS = tuple(
    name for name, kind in AUDIT_SCHEMA_TYPES.items() if kind == "string" and name not in ("path", "error")
)
"""The string fields that take a few values over a run (a model, a status, a rule...): held in memory as
dictionary arrays while `--parquet` writes them, and dictionary-encoded in the file."""


def audit_schema():
    """The pyarrow schema of audit rows: AUDIT_FIELDS in order, typed by AUDIT_SCHEMA_TYPES (imports pyarrow)."""
    import pyarrow as pa

    from .totals import AUDIT_FIELDS

    return pa.schema([(name, getattr(pa, AUDIT_SCHEMA_TYPES[name])()) for name in AUDIT_FIELDS])


def written_schema():
    """The schema `--parquet` hands its writer: `audit_schema`, with the DICTIONARY_FIELDS as
    dictionary<int32, string>. The in-memory encoding only: the file stores those columns as the same UTF-8
    strings (dictionary-encoded pages), and holds no Arrow schema, so readers see `audit_schema`'s types."""
    import pyarrow as pa

    coded = pa.dictionary(pa.int32(), pa.string())
    schema = audit_schema()
    return pa.schema([pa.field(f.name, coded) if f.name in DICTIONARY_FIELDS else f for f in schema])
