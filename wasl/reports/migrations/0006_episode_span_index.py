from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0005_summary_holes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customerepisode",
            index=models.Index(
                fields=["customer_kind", "customer_id", "starts_at", "ends_at"],
                name="customer_episode_span",
            ),
        ),
        migrations.RemoveIndex(model_name="customerepisode", name="customer_episode_of"),
        migrations.RunPython(
            analyse_new_indexes("customer_episode_span"), migrations.RunPython.noop
        ),
    ]
