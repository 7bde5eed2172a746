"""Drop single-column foreign-key indexes that a composite index already leads with
(owner and team: the (owner|team, -updated_at, -id) indexes; the links: their own
composite indexes). Fewer indexes to keep up on every write and to build after a bulk
load. Only the indexes are dropped: on SQLite an AlterField would copy the whole table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_organisation_churn_after_days"),
        ("leads", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.team",
                        verbose_name="team",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "leads_lead_owner_id_1f4568d0"',
                        'DROP INDEX IF EXISTS "leads_lead_team_id_93d3ec8e"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "leads_lead_owner_id_1f4568d0" ON "leads_lead" ("owner_id")',
                        'CREATE INDEX IF NOT EXISTS "leads_lead_team_id_93d3ec8e" ON "leads_lead" ("team_id")',
                    ],
                )
            ],
        )
    ]
