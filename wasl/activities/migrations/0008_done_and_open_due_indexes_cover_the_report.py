from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0007_owner_done_index_with_kind"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="activity", name="activity_done"),
        migrations.RemoveIndex(model_name="activity", name="activity_open_due"),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["done_at", "id", "kind", "owner", "team"], name="activity_done"
            ),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                fields=["due_at", "id", "kind", "owner", "team"],
                condition=models.Q(done_at__isnull=True),
                name="activity_open_due",
            ),
        ),
        migrations.RunPython(
            analyse_new_indexes("activity_done", "activity_open_due"), migrations.RunPython.noop
        ),
    ]
