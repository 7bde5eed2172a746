"""Sending what rules queued: e-mails and SMS, webhook calls, and the daily digest.

Each runs in a job outside any transaction (no network inside one). The keyed row says
whether it already went out; a rerun after a crash sends only what is not marked sent.
Between the peer accepting and the row being marked lies the one window where a crash
sends twice; e-mails then carry the same Message-ID and webhooks the same X-Wasl-Delivery,
so receivers can drop the copy.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from wasl.accounts.models import User
from wasl.automation.jobs import _test_pause, enqueue
from wasl.automation.models import OutgoingMessage, WebhookDelivery
from wasl.integrations import sms, smtp, webhooks
from wasl.notifications.selectors import digest_for


def message_send(*, message_id: int) -> dict[str, Any]:
    """Send one queued e-mail or SMS unless it was sent; raises when the peer refuses."""
    message = OutgoingMessage.objects.filter(pk=message_id).first()
    if message is None or message.status == OutgoingMessage.Status.SENT:
        return {"sent": False}
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=OutgoingMessage.Status.SENDING, attempts=F("attempts") + 1
    )
    _test_pause("before_send")
    try:
        if message.channel == OutgoingMessage.Channel.EMAIL:
            smtp.send_email(
                to=[message.to],
                subject=message.subject,
                body=message.body,
                message_id=f"{message.public_id}@wasl",
            )
        else:
            sms.get_gateway().send(to=message.to, text=message.body, key=message.key)
    except Exception as error:
        OutgoingMessage.objects.filter(pk=message.pk).update(
            status=OutgoingMessage.Status.FAILED, last_error=repr(error)[:2000]
        )
        raise
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=OutgoingMessage.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return {"sent": True}


def webhook_deliver(*, delivery_id: int) -> dict[str, Any]:
    """Call one webhook unless it was delivered; raises on an error answer."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == WebhookDelivery.Status.DELIVERED:
        return {"delivered": False}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        status = webhooks.post(
            url=delivery.endpoint.url,
            secret=delivery.endpoint.secret,
            payload=delivery.payload,
            delivery_id=str(delivery.public_id),
        )
    except webhooks.WebhookError as error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED,
            response_status=error.status,
            last_error=str(error)[:2000],
        )
        raise
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.DELIVERED,
        response_status=status,
        delivered_at=timezone.now(),
        last_error="",
    )
    return {"delivered": True, "status": status}


def digest_queue(*, user_id: int, day: str) -> dict[str, Any]:
    """Queue the digest e-mail of one user for one day (once, whatever reruns)."""
    from wasl.automation import tasks

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return {"queued": False}
    digest = digest_for(user=user, now=timezone.now())
    if digest is None:
        return {"queued": False}
    message, created = OutgoingMessage.objects.get_or_create(
        key=f"digest:{user.pk}:{day}",
        defaults={
            "channel": OutgoingMessage.Channel.EMAIL,
            "to": user.email,
            "subject": digest.subject,
            "body": digest.body,
        },
    )
    if created:
        enqueue(tasks.send_message, message_id=message.pk)
    return {"queued": created}
