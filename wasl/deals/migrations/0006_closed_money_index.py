from django.db import migrations, models

NEW_INDEXES = ("deal_closed_money",)


def analyse_new_indexes(apps, schema_editor):
    # As in 0004: on a database that has planner statistics, an index without them is
    # passed over.
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            for name in NEW_INDEXES:
                cursor.execute(f"ANALYZE {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0005_owner_open_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["closed_at", "stage", "currency", "amount"], name="deal_closed_money"
            ),
        ),
        migrations.RemoveIndex(model_name="deal", name="deal_closed_at"),
        migrations.RunPython(analyse_new_indexes, migrations.RunPython.noop),
    ]
