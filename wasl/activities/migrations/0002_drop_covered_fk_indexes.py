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
        ("activities", "0001_initial"),
        ("contacts", "0003_name_sort_indexes"),
        ("deals", "0002_deal_board_totals"),
        ("leads", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="contacts.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="deal",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="deals.deal",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="lead",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="leads.lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
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
                    model_name="activity",
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
                        'DROP INDEX IF EXISTS "activities_activity_company_id_e750f1f1"',
                        'DROP INDEX IF EXISTS "activities_activity_contact_id_313d1e34"',
                        'DROP INDEX IF EXISTS "activities_activity_deal_id_0d699e06"',
                        'DROP INDEX IF EXISTS "activities_activity_lead_id_96fd89ac"',
                        'DROP INDEX IF EXISTS "activities_activity_owner_id_44d8a0b4"',
                        'DROP INDEX IF EXISTS "activities_activity_team_id_03b73f2c"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "activities_activity_company_id_e750f1f1" ON "activities_activity" ("company_id")',
                        'CREATE INDEX IF NOT EXISTS "activities_activity_contact_id_313d1e34" ON "activities_activity" ("contact_id")',
                        'CREATE INDEX IF NOT EXISTS "activities_activity_deal_id_0d699e06" ON "activities_activity" ("deal_id")',
                        'CREATE INDEX IF NOT EXISTS "activities_activity_lead_id_96fd89ac" ON "activities_activity" ("lead_id")',
                        'CREATE INDEX IF NOT EXISTS "activities_activity_owner_id_44d8a0b4" ON "activities_activity" ("owner_id")',
                        'CREATE INDEX IF NOT EXISTS "activities_activity_team_id_03b73f2c" ON "activities_activity" ("team_id")',
                    ],
                )
            ],
        )
    ]
