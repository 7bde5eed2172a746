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
        ("contacts", "0003_name_sort_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="company",
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
                    model_name="company",
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
                    model_name="contact",
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
                    model_name="contact",
                    name="primary_company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
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
                    model_name="contactpoint",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="points",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactpoint",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="points",
                        to="contacts.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "contacts_company_owner_id_1cd86ea6"',
                        'DROP INDEX IF EXISTS "contacts_company_team_id_35b879cf"',
                        'DROP INDEX IF EXISTS "contacts_contact_owner_id_0103c1ee"',
                        'DROP INDEX IF EXISTS "contacts_contact_primary_company_id_2ae39353"',
                        'DROP INDEX IF EXISTS "contacts_contact_team_id_9064ef69"',
                        'DROP INDEX IF EXISTS "contacts_contactpoint_company_id_010a966f"',
                        'DROP INDEX IF EXISTS "contacts_contactpoint_contact_id_51b1ad41"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "contacts_company_owner_id_1cd86ea6" ON "contacts_company" ("owner_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_company_team_id_35b879cf" ON "contacts_company" ("team_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_contact_owner_id_0103c1ee" ON "contacts_contact" ("owner_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_contact_primary_company_id_2ae39353" ON "contacts_contact" ("primary_company_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_contact_team_id_9064ef69" ON "contacts_contact" ("team_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_contactpoint_company_id_010a966f" ON "contacts_contactpoint" ("company_id")',
                        'CREATE INDEX IF NOT EXISTS "contacts_contactpoint_contact_id_51b1ad41" ON "contacts_contactpoint" ("contact_id")',
                    ],
                )
            ],
        )
    ]
