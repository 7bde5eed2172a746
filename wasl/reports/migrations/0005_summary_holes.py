from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_purchase_money"),
    ]

    operations = [
        migrations.AddField(
            model_name="customersummarystate",
            name="holes",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
