from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_owner_update_index_with_kind"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["owner", "done_at", "due_at", "id", "kind", "team"],
                name="activity_owner_done_kind",
            ),
        ),
        migrations.RemoveIndex(model_name="activity", name="activity_owner_due"),
        migrations.RunPython(
            analyse_new_indexes("activity_owner_done_kind"), migrations.RunPython.noop
        ),
    ]
