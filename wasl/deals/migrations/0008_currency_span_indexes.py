from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes


class Migration(migrations.Migration):

    dependencies = [
        ("deals", "0007_outcome_and_span_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='deal',
            name='deal_created_span',
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(condition=models.Q(('amount__isnull', False)), fields=['currency', 'created_at', 'amount', 'owner', 'team', 'pipeline'], name='deal_currency_created'),
        ),
        migrations.AddIndex(
            model_name='deal',
            index=models.Index(condition=models.Q(('amount__isnull', False), ('closed_at__isnull', False)), fields=['currency', 'closed_at', 'amount', 'created_at', 'owner', 'team', 'pipeline'], name='deal_currency_closed'),
        ),
        migrations.RunPython(
            analyse_new_indexes("deal_currency_created", "deal_currency_closed"),
            migrations.RunPython.noop,
        ),
    ]
