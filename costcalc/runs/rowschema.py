"""The Arrow types of audit rows: what `--parquet` writes and what the columnar and Ray paths build."""

from __future__ import annotations

__all__ = ["AUDIT_SCHEMA_TYPES", "audit_schema"]

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


def audit_schema():
    """The pyarrow schema of audit rows: AUDIT_FIELDS in order, typed by AUDIT_SCHEMA_TYPES (imports pyarrow)."""
    import pyarrow as pa

    from .totals import AUDIT_FIELDS

    return pa.schema([(name, getattr(pa, AUDIT_SCHEMA_TYPES[name])()) for name in AUDIT_FIELDS])
