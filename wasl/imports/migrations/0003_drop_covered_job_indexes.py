"""Drop the single-column job indexes of the undo records (created id runs, before-images
of updated records): the (job, kind) indexes lead with the job and serve undo and the
cascade when a job is deleted. Only the indexes are dropped (no table copy on SQLite).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0002_duplicate_dismissal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importcreated",
                    name="job",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="created_ranges",
                        to="imports.importjob",
                    ),
                ),
                migrations.AlterField(
                    model_name="importupdated",
                    name="job",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="updated_records",
                        to="imports.importjob",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "imports_importcreated_job_id_ae650c68"',
                        'DROP INDEX IF EXISTS "imports_importupdated_job_id_bcbe97ee"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "imports_importcreated_job_id_ae650c68" '
                        'ON "imports_importcreated" ("job_id")',
                        'CREATE INDEX IF NOT EXISTS "imports_importupdated_job_id_bcbe97ee" '
                        'ON "imports_importupdated" ("job_id")',
                    ],
                )
            ],
        )
    ]
