"""Deterministic demo data: `wasl demo --size S|M|L` fills an empty database in bulk."""
