"""Drop the audit trail's single-column foreign-key indexes on the actor and the content
type: core_audit_actor (actor, -created_at) and core_audit_object (content type, object,
-created_at) lead with those columns and serve the same lookups (the audit pages, and the
SET NULL / PROTECT checks when a user or a content type is deleted). Every audited write,
an import's tens of thousands of rows above all, kept two indexes up for nothing. Only the
indexes are dropped: on SQLite an AlterField would copy the whole table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0002_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="content_type",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "core_auditentry_actor_id_d8248cee"',
                        'DROP INDEX IF EXISTS "core_auditentry_content_type_id_797ef574"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "core_auditentry_actor_id_d8248cee" '
                        'ON "core_auditentry" ("actor_id")',
                        'CREATE INDEX IF NOT EXISTS "core_auditentry_content_type_id_797ef574" '
                        'ON "core_auditentry" ("content_type_id")',
                    ],
                )
            ],
        )
    ]
