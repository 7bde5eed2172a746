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
        ("contacts", "0004_drop_covered_fk_indexes"),
        ("deals", "0002_deal_board_totals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deal",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deals",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="deal",
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
                    model_name="deal",
                    name="pipeline",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deals",
                        to="deals.pipeline",
                    ),
                ),
                migrations.AlterField(
                    model_name="deal",
                    name="stage",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deals",
                        to="deals.stage",
                    ),
                ),
                migrations.AlterField(
                    model_name="deal",
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
                migrations.AlterField(
                    model_name="dealstagechange",
                    name="deal",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_changes",
                        to="deals.deal",
                    ),
                ),
                migrations.AlterField(
                    model_name="dealstagechange",
                    name="to_stage",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="deals.stage",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "deals_deal_company_id_f235c9bd"',
                        'DROP INDEX IF EXISTS "deals_deal_owner_id_2f09ac61"',
                        'DROP INDEX IF EXISTS "deals_deal_team_id_94533c8a"',
                        'DROP INDEX IF EXISTS "deals_deal_pipeline_id_0cf5d68d"',
                        'DROP INDEX IF EXISTS "deals_deal_stage_id_0342b533"',
                        'DROP INDEX IF EXISTS "deals_dealstagechange_deal_id_bf807ff8"',
                        'DROP INDEX IF EXISTS "deals_dealstagechange_to_stage_id_0c70d7b7"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "deals_deal_company_id_f235c9bd" ON "deals_deal" ("company_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_deal_owner_id_2f09ac61" ON "deals_deal" ("owner_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_deal_team_id_94533c8a" ON "deals_deal" ("team_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_deal_pipeline_id_0cf5d68d" ON "deals_deal" ("pipeline_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_deal_stage_id_0342b533" ON "deals_deal" ("stage_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_dealstagechange_deal_id_bf807ff8" ON "deals_dealstagechange" ("deal_id")',
                        'CREATE INDEX IF NOT EXISTS "deals_dealstagechange_to_stage_id_0c70d7b7" ON "deals_dealstagechange" ("to_stage_id")',
                    ],
                )
            ],
        )
    ]
