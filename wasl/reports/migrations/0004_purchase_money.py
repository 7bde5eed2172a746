from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


def rebuild_on_next_report(apps, schema_editor):
    """The new columns are filled by a rebuild: the next report (or
    `wasl rebuild_customer_summary`) does it."""
    state = apps.get_model("reports", "CustomerSummaryState")
    state.objects.update(rebuild_needed=True)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_customer_summary"),
    ]

    operations = [
        migrations.AddField(
            model_name="customerattribution",
            name="currency",
            field=models.CharField(blank=True, db_default="", max_length=3),
        ),
        migrations.AddField(
            model_name="customerattribution",
            name="amount",
            field=models.DecimalField(decimal_places=2, max_digits=20, null=True),
        ),
        migrations.RemoveIndex(model_name="customerattribution", name="customer_purchases"),
        migrations.AddIndex(
            model_name="customerattribution",
            index=models.Index(
                condition=models.Q(deal__isnull=False, touched_at__isnull=False),
                fields=["customer_kind", "customer_id", "touched_at", "currency", "amount", "deal"],
                name="customer_purchases",
            ),
        ),
        migrations.RunPython(rebuild_on_next_report, migrations.RunPython.noop),
        migrations.RunPython(analyse_new_indexes("customer_purchases"), migrations.RunPython.noop),
    ]
