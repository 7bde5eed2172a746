"""SMS gateways behind one small interface: a console backend and a generic HTTP backend.

`WASL_SMS_BACKEND` chooses: `console` (default: writes to the log, keeps nothing) or
`http` (POSTs JSON `{"to", "text", "key"}` to `WASL_SMS_URL` with
`Authorization: Bearer WASL_SMS_TOKEN`). Another provider is a class with `send()`
named by its dotted path.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway refused the message or could not be reached."""


class Gateway(Protocol):
    def send(self, *, to: str, text: str, key: str) -> str:
        """Send one message; return the gateway's id for it. `key` is unique per message,
        for gateways that drop duplicates."""
        ...


class ConsoleGateway:
    """Writes messages to the log: for development and the embedded default."""

    sent: list[dict[str, str]] = []

    def send(self, *, to: str, text: str, key: str) -> str:
        logger.warning("SMS to %s (%s): %s", to, key, text)
        ConsoleGateway.sent.append({"to": to, "text": text, "key": key})
        return key


class HttpGateway:
    """POSTs JSON to a URL with a bearer token; any 2xx answer counts as accepted."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, to: str, text: str, key: str) -> str:
        if not self.url.startswith(("http://", "https://")):
            raise SmsError("WASL_SMS_URL must be an http(s) URL")
        body = json.dumps({"to": to, "text": text, "key": key}).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(4096)
        except urllib.error.HTTPError as error:
            raise SmsError(f"gateway answered {error.code}") from error
        except OSError as error:
            raise SmsError(f"gateway unreachable: {error}") from error
        try:
            return str(json.loads(answer or b"{}").get("id") or key)
        except (ValueError, AttributeError):
            return key


def get_gateway() -> Gateway:
    """The gateway the settings choose."""
    name = getattr(settings, "WASL_SMS_BACKEND", "console") or "console"
    if name == "console":
        return ConsoleGateway()
    if name == "http":
        return HttpGateway(settings.WASL_SMS_URL, settings.WASL_SMS_TOKEN)
    gateway: Gateway = import_string(name)()
    return gateway
