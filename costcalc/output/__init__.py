"""Output: tables for people; CSV, JSON and JSON lines with stable fields."""
