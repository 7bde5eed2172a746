"""Hints for SQLite's query planner that leave the SQL of other databases unchanged."""

from __future__ import annotations

from typing import Any


class Likely:
    """A lookup with the share of rows it is expected to match, for SQLite's planner:
    `likelihood(condition, share)` there, the bare condition on other databases.

    Mix it into a lookup class and set `share`. The condition keeps its literal form inside
    the hint, so an index whose WHERE clause it matches (`done_at IS NULL`) stays usable on
    every database. SQLite keeps no statistics of how many rows are NULL: without a hint it
    counts `column IS NULL` as one or two rows (the average per value of the column's
    index) and picks that index over any other."""

    share: float

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = self.as_sql(compiler, connection)  # type: ignore[attr-defined]
        return f"likelihood({sql}, {float(self.share)!r})", params
