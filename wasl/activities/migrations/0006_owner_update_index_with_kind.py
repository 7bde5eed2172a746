from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


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
        migrations.RunPython(
            analyse_new_indexes("activity_owner_upd_kind"), migrations.RunPython.noop
        ),
    ]
