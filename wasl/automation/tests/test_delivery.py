"""E-mail reaches a real SMTP server; webhooks reach a real HTTP receiver, signed, retried
with backoff, parked when they keep failing, and retried by hand."""

from __future__ import annotations

import json

import pytest

from wasl.automation import services
from wasl.automation.models import FailedJob, OutgoingMessage, WebhookDelivery
from wasl.automation.tests.peers import smtp_server, webhook_receiver
from wasl.contacts.services import contact_create
from wasl.integrations.webhooks import verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_smtp(settings):
    with smtp_server() as (port, mailbox):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
            }
        }
        yield mailbox


def test_a_welcome_email_reaches_the_smtp_server_once(personas, pipeline, real_smtp):
    services.rule_create(
        actor=personas.admin,
        name="Welcome",
        trigger={"type": "record_created", "entity": "contact"},
        actions=[
            {
                "type": "send_email",
                "subject": "Welcome {{ contact.first_name }}",
                "body": "Dear {{ contact.first_name }} {{ contact.last_name }}, salaam.",
            }
        ],
    )
    contact_create(
        actor=personas.rep_a, first_name="Hamid", last_name="Karimi", emails=["hamid@example.com"]
    )
    pipeline()
    pipeline()

    assert len(real_smtp.messages) == 1
    message = real_smtp.messages[0]
    assert message["to"] == ["hamid@example.com"]
    assert "Subject: Welcome Hamid" in message["data"]
    assert "Dear Hamid Karimi, salaam." in message["data"]
    sent = OutgoingMessage.objects.get()
    assert sent.status == "sent" and sent.attempts == 1
    assert f"<{sent.public_id}@wasl>" in message["data"]


def webhook_rule(admin, url):
    endpoint = services.webhook_create(actor=admin, name="ERP", url=url)
    services.rule_create(
        actor=admin,
        name="Tell the ERP",
        trigger={"type": "record_created", "entity": "contact"},
        actions=[{"type": "webhook", "webhook_id": str(endpoint.public_id)}],
    )
    return endpoint


def test_a_webhook_is_delivered_with_a_valid_signature(personas, pipeline):
    with webhook_receiver() as (url, receiver):
        endpoint = webhook_rule(personas.admin, url)
        contact = contact_create(actor=personas.rep_a, first_name="Leila")
        pipeline()

    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    headers = call["headers"]
    assert verify(
        endpoint.secret, headers["X-Wasl-Timestamp"], call["body"], headers["X-Wasl-Signature"]
    )
    assert not verify(
        "another secret", headers["X-Wasl-Timestamp"], call["body"], headers["X-Wasl-Signature"]
    )
    delivery = WebhookDelivery.objects.get()
    assert headers["X-Wasl-Delivery"] == str(delivery.public_id)
    body = json.loads(call["body"])
    assert body["record"]["kind"] == "contact"
    assert body["record"]["id"] == str(contact.public_id)
    assert body["record"]["first_name"] == "Leila"
    assert delivery.status == "delivered" and delivery.response_status == 200


def test_a_failing_webhook_is_retried_then_parked_and_retried_by_hand(personas, pipeline, api_as):
    with webhook_receiver() as (url, receiver):
        receiver.status = 503
        webhook_rule(personas.admin, url)
        contact_create(actor=personas.rep_a, first_name="Omid")
        pipeline(rounds=20)

        attempts = len(receiver.calls)
        assert attempts == 8  # jobs.WEBHOOKS.max_attempts
        assert len({c["headers"]["X-Wasl-Delivery"] for c in receiver.calls}) == 1
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed" and delivery.response_status == 503
        job = FailedJob.objects.get()
        assert job.attempts == 8 and "503" in job.error

        admin = api_as(personas.admin)
        listed = admin.get("automation/failed-jobs").json()["items"]
        assert [j["id"] for j in listed] == [str(job.public_id)]
        assert listed[0]["task"] == "deliver_webhook"
        assert api_as(personas.manager_a).get("automation/failed-jobs").status_code == 403

        receiver.status = 200
        response = admin.post(f"automation/failed-jobs/{job.public_id}/retry")
        assert response.status_code == 200, response.json()
        assert admin.post(f"automation/failed-jobs/{job.public_id}/retry").status_code == 409
        pipeline()

    assert len(receiver.calls) == attempts + 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert admin.get("automation/failed-jobs").json()["items"] == []
