from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


def copy_open_due(apps, schema_editor):
    """Give every open deal's row its deal's expected close, as the summary's fold and
    rebuild now write it."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    rows = quote(apps.get_model("reports", "CustomerAttribution")._meta.db_table)
    deals = quote(apps.get_model("deals", "Deal")._meta.db_table)
    stages = quote(apps.get_model("deals", "Stage")._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'UPDATE {rows} SET "open_due" = d."expected_close" FROM {deals} d '
                f'JOIN {stages} s ON s."id" = d."stage_id" '
                f"WHERE d.\"id\" = {rows}.\"deal_id\" AND s.\"kind\" = 'open' "
                'AND d."expected_close" IS NOT NULL'
            )
        else:
            cursor.execute(
                f'UPDATE {rows} SET "open_due" = (SELECT d."expected_close" FROM {deals} d '
                f'JOIN {stages} s ON s."id" = d."stage_id" '
                f"WHERE d.\"id\" = {rows}.\"deal_id\" AND s.\"kind\" = 'open') "
                'WHERE "deal_id" IS NOT NULL'
            )


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0010_currency_created_index_carries_close'),
        ('reports', '0010_purchase_scope'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerattribution',
            name='open_due',
            field=models.DateField(null=True),
        ),
        migrations.RunPython(copy_open_due, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='customerattribution',
            index=models.Index(condition=models.Q(('open_due__isnull', False)), fields=['open_due', 'customer_kind', 'customer_id', 'deal', 'owner_id', 'team_id', 'pipeline_id'], name='customer_open_due'),
        ),
        migrations.RunPython(analyse_new_indexes("customer_open_due"), migrations.RunPython.noop),
    ]
