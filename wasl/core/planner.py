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


def analyse_new_indexes(*names: str) -> Any:
    """A migration step (for `RunPython`) that runs ANALYZE on indexes a migration adds,
    on SQLite databases that keep planner statistics: once a database has them, an index
    without them is costed as half its table and passed over. Nothing elsewhere."""

    def analyse(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone():
                for name in names:
                    cursor.execute(f"ANALYZE {schema_editor.connection.ops.quote_name(name)}")

    return analyse
