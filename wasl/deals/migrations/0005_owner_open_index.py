"""A partial index over open deals by owner that covers the "my day" totals per stage and
currency, so the home page never reads a rep's closed deals."""

from django.db import migrations, models


def analyse_new_index(apps, schema_editor):
    # As in 0004: once a SQLite database has statistics, an index without them is costed
    # by guesswork.
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("ANALYZE deal_owner_open")


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0004_report_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", True)),
                fields=["owner", "pipeline", "stage", "currency", "amount"],
                name="deal_owner_open",
            ),
        ),
        migrations.RunPython(analyse_new_index, migrations.RunPython.noop, elidable=True),
    ]
