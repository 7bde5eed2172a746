from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["pipeline", "stage", "currency", "amount", "probability", "owner", "team"],
                name="deal_board_totals",
            ),
        ),
    ]
