import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                ("rate_date", models.DateField(verbose_name="date")),
                (
                    "rate",
                    models.DecimalField(decimal_places=8, max_digits=24, verbose_name="rate"),
                ),
            ],
            options={
                "verbose_name": "exchange rate",
                "verbose_name_plural": "exchange rates",
                "ordering": ["currency", "-rate_date"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("currency", "rate_date"), name="exchange_rate_currency_date"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(rate__gt=0), name="exchange_rate_positive"
                    ),
                ],
            },
        ),
    ]
