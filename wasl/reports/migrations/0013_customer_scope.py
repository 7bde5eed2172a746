from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


def copy_customer_scope(apps, schema_editor):
    """Give every deal's row its customer's owner and team, as the summary's fold and
    rebuild now write them."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    rows = quote(apps.get_model("reports", "CustomerAttribution")._meta.db_table)
    with connection.cursor() as cursor:
        for kind, model in (("company", "Company"), ("contact", "Contact")):
            table = quote(apps.get_model("contacts", model)._meta.db_table)
            cursor.execute(
                f'UPDATE {rows} SET ("customer_owner_id", "customer_team_id") = '
                f'(SELECT c."owner_id", c."team_id" FROM {table} c '
                f'WHERE c."id" = {rows}."customer_id") '
                'WHERE "deal_id" IS NOT NULL AND "customer_kind" = %s',
                [kind],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0005_partial_link_indexes'),
        ('reports', '0012_purchase_value'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customerattribution',
            name='customer_purchases',
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='customer_owner_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='customer_team_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(copy_customer_scope, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='customerattribution',
            index=models.Index(condition=models.Q(('deal__isnull', False), ('touched_at__isnull', False)), fields=['customer_kind', 'customer_id', 'touched_at', 'currency', 'amount', 'value_cents', 'deal', 'owner_id', 'team_id', 'pipeline_id', 'customer_owner_id', 'customer_team_id'], name='customer_purchases'),
        ),
        migrations.RunPython(analyse_new_indexes("customer_purchases"), migrations.RunPython.noop),
    ]
