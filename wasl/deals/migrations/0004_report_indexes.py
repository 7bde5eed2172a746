"""Indexes for the reports: deals closed in a period (won and lost deals, the KPI
series), open deals that have sat in their stage longer than its usual time; the
expected-close index widened to cover the forecast's sums, and the moves into stages in
a period widened to cover what the funnel and the stage durations read of them (the
moves, their previous stage, the time spent in it and the deal)."""

from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes

NEW_INDEXES = ("deal_closed_at", "deal_stage_entered", "deal_expected_close", "stage_change_to")


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0003_drop_covered_fk_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="dealstagechange", name="stage_change_to"),
        migrations.RemoveIndex(model_name="deal", name="deal_expected_close"),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=[
                    "expected_close",
                    "stage",
                    "currency",
                    "amount",
                    "probability",
                    "owner",
                    "team",
                ],
                name="deal_expected_close",
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(fields=["closed_at", "stage"], name="deal_closed_at"),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(fields=["stage", "stage_entered_at"], name="deal_stage_entered"),
        ),
        migrations.AddIndex(
            model_name="dealstagechange",
            index=models.Index(
                fields=["to_stage", "changed_at", "from_stage", "seconds_in_previous", "deal"],
                name="stage_change_to",
            ),
        ),
        migrations.RunPython(analyse_new_indexes(*NEW_INDEXES), migrations.RunPython.noop),
    ]
