from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


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
        migrations.RunPython(analyse_new_indexes("deal_closed_money"), migrations.RunPython.noop),
    ]
