"""Make the indexes on a point's contact and company, and on a contact's primary company,
partial (NOT NULL rows only). A point belongs to a contact or to a company, and most
contacts have no company: half of each index held NULL keys that no query reads (a
lookup by `x = ?` or `x IN (...)` implies NOT NULL, and both databases use the partial
index for it) but every insert kept up, an import's hundreds of thousands of points most.
"""

from django.db import migrations, models

from wasl.core.planner import analyse_new_indexes

NEW_INDEXES = ["contact_company", "point_contact", "point_company"]


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_drop_covered_fk_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="contact", name="contact_company"),
        migrations.RemoveIndex(model_name="contactpoint", name="point_contact"),
        migrations.RemoveIndex(model_name="contactpoint", name="point_company"),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(primary_company__isnull=False),
                fields=["primary_company"],
                name="contact_company",
            ),
        ),
        migrations.AddIndex(
            model_name="contactpoint",
            index=models.Index(
                condition=models.Q(contact__isnull=False),
                fields=["contact", "position"],
                name="point_contact",
            ),
        ),
        migrations.AddIndex(
            model_name="contactpoint",
            index=models.Index(
                condition=models.Q(company__isnull=False),
                fields=["company", "position"],
                name="point_company",
            ),
        ),
        migrations.RunPython(analyse_new_indexes(*NEW_INDEXES), migrations.RunPython.noop),
    ]
