"""Preflight: plan the size a model works from, resize, write atomically."""
