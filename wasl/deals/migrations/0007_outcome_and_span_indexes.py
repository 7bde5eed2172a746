from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0006_closed_money_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=[
                    "closed_at",
                    "stage",
                    "currency",
                    "amount",
                    "created_at",
                    "owner",
                    "team",
                    "pipeline",
                ],
                name="deal_closed_outcome",
            ),
        ),
        migrations.RemoveIndex(model_name="deal", name="deal_closed_money"),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["created_at", "closed_at", "currency", "amount", "owner", "team", "pipeline"],
                name="deal_created_span",
            ),
        ),
        migrations.RunPython(
            analyse_new_indexes("deal_closed_outcome", "deal_created_span"),
            migrations.RunPython.noop,
        ),
    ]
