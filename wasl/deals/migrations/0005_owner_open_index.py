"""A partial index over open deals by owner that covers the "my day" totals per stage and
currency, so the home page never reads a rep's closed deals."""

from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


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
        migrations.RunPython(
            analyse_new_indexes("deal_owner_open"), migrations.RunPython.noop, elidable=True
        ),
    ]
