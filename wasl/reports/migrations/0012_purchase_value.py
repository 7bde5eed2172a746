from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


def convert_at_the_next_read(apps, schema_editor):
    """Forget what the revenue was converted with, so the next report converts every
    purchase (`touches.ensure_converted`) and builds the customers' totals again."""
    state = apps.get_model("reports", "CustomerSummaryState")
    state.objects.using(schema_editor.connection.alias).update(money_basis="")


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0011_open_due'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customerattribution',
            name='customer_purchase_time',
        ),
        migrations.RemoveIndex(
            model_name='customerattribution',
            name='customer_purchases',
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='value_cents',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddIndex(
            model_name='customerattribution',
            index=models.Index(condition=models.Q(('deal__isnull', False), ('touched_at__isnull', False)), fields=['customer_kind', 'customer_id', 'touched_at', 'currency', 'amount', 'value_cents', 'deal', 'owner_id', 'team_id', 'pipeline_id'], name='customer_purchases'),
        ),
        migrations.AddIndex(
            model_name='customerattribution',
            index=models.Index(condition=models.Q(('amount__isnull', False), ('deal__isnull', False), ('touched_at__isnull', False)), fields=['touched_at', 'currency', 'amount', 'value_cents', 'deal'], name='customer_purchase_time'),
        ),
        migrations.RunPython(convert_at_the_next_read, migrations.RunPython.noop),
        migrations.RunPython(
            analyse_new_indexes("customer_purchases", "customer_purchase_time"),
            migrations.RunPython.noop,
        ),
    ]
