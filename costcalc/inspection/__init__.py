"""Inspection: what a file, payload or clip holds, read from headers, never decoded."""
