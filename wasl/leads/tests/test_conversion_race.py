"""Two simultaneous conversions of one lead make one set of records (needs PostgreSQL,
where row locks are real and connections run in parallel)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from wasl.contacts.models import Company, Contact
from wasl.core.testing import build_personas
from wasl.leads.models import Lead
from wasl.leads.services import lead_convert
from wasl.leads.tests.factories import lead_audits, make_lead

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="parallel row locks need PostgreSQL"
    ),
]


def test_simultaneous_conversions_create_the_customer_once():
    personas = build_personas()
    lead = make_lead(personas.rep_a, company_name="Parsian", email="sara@example.com")
    start = threading.Barrier(2)
    results, failures = [], []

    def convert() -> None:
        try:
            start.wait(timeout=10)
            results.append(lead_convert(actor=personas.rep_a, lead=Lead.objects.get(pk=lead.pk)))
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert (Contact.objects.count(), Company.objects.count()) == (1, 1)
    assert {r.contact.pk for r in results} == {Contact.objects.get().pk}
    assert sorted(r.created_contact for r in results) == [False, True]
    assert lead_audits(lead.pk, "convert").count() == 1
