from __future__ import annotations

import pytest

from wasl.activities.selectors import timeline_for
from wasl.activities.services import activity_create
from wasl.leads.services import lead_convert, lead_create

pytestmark = pytest.mark.django_db


def test_contact_timeline_shows_the_converted_leads_activities(personas):
    lead = lead_create(
        actor=personas.rep_a, first_name="Nima", last_name="Farahani", email="nima@example.ir"
    )
    activity_create(
        actor=personas.rep_a,
        kind="call",
        subject="First call",
        lead=lead,
        direction="outbound",
        outcome="connected",
        duration_seconds=60,
    )
    result = lead_convert(actor=personas.rep_a, lead=lead)
    items, _cursor = timeline_for(actor=personas.rep_a, record=result.contact)
    assert "First call" in [item.subject for item in items if item.type == "activity"]
