from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_drop_covered_fk_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["created_at", "status", "source", "owner", "team"], name="lead_created"
            ),
        ),
        migrations.RunPython(analyse_new_indexes("lead_created"), migrations.RunPython.noop),
    ]
