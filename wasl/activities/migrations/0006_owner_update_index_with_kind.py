from django.db import migrations, models

NEW_INDEXES = ("activity_owner_upd_kind",)


def analyse_new_indexes(apps, schema_editor):
    # As in 0005: on a database that has planner statistics, an index without them is
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
        ("activities", "0005_open_activity_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["owner", "-updated_at", "-id", "kind"], name="activity_owner_upd_kind"
            ),
        ),
        migrations.RemoveIndex(model_name="activity", name="activity_owner_upd"),
        migrations.RunPython(analyse_new_indexes, migrations.RunPython.noop),
    ]
