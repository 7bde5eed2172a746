"""Sending e-mail through Django's default mailer (SMTP configured by WASL_EMAIL_*)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, mailers


def send_email(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    from_email: str | None = None,
) -> None:
    """Hand one plain-text message to the configured mail server; raises on refusal.

    `message_id` (derived from the delivery key) lets receivers drop a copy that a retry
    after a crash may send again."""
    message = EmailMessage(
        subject=subject.replace("\n", " ").strip(),
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers={"Message-ID": f"<{message_id}>"},
    )
    mailers.default.send_messages([message])
