from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


def copy_deal_scope(apps, schema_editor):
    """Give every deal's row its deal's owner, team and pipeline, as the summary's fold
    and rebuild now write them."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    rows = quote(apps.get_model("reports", "CustomerAttribution")._meta.db_table)
    deals = quote(apps.get_model("deals", "Deal")._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'UPDATE {rows} SET "owner_id" = d."owner_id", "team_id" = d."team_id", '
                f'"pipeline_id" = d."pipeline_id" FROM {deals} d WHERE d."id" = {rows}."deal_id"'
            )
        else:
            cursor.execute(
                f'UPDATE {rows} SET ("owner_id", "team_id", "pipeline_id") = '
                f'(SELECT d."owner_id", d."team_id", d."pipeline_id" FROM {deals} d '
                f'WHERE d."id" = {rows}."deal_id") WHERE "deal_id" IS NOT NULL'
            )


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0010_currency_created_index_carries_close'),
        ('reports', '0009_episode_buyer'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customerattribution',
            name='customer_purchases',
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='owner_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='pipeline_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name='customerattribution',
            name='team_id',
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(copy_deal_scope, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='customerattribution',
            index=models.Index(condition=models.Q(('deal__isnull', False), ('touched_at__isnull', False)), fields=['customer_kind', 'customer_id', 'touched_at', 'currency', 'amount', 'deal', 'owner_id', 'team_id', 'pipeline_id'], name='customer_purchases'),
        ),
        migrations.RunPython(analyse_new_indexes("customer_purchases"), migrations.RunPython.noop),
    ]
