"""Calling webhooks: a JSON body signed with HMAC-SHA256 and the endpoint's own secret.

Headers sent: `X-Wasl-Delivery` (unique per delivery, the same on every retry, so the
receiver can drop duplicates), `X-Wasl-Timestamp` (Unix seconds) and
`X-Wasl-Signature: sha256=<hex>` over `"<timestamp>.<body>"`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any


class WebhookError(Exception):
    """The receiver answered with an error status or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Wasl-Signature for this body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does: compare signatures in constant time."""
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def post(*, url: str, secret: str, payload: Any, delivery_id: str, timeout: float = 10.0) -> int:
    """POST the payload; return the HTTP status of a 2xx answer, raise WebhookError else."""
    if not url.startswith(("http://", "https://")):
        raise WebhookError("the webhook URL must be http(s)")
    body = encode(payload)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Wasl-Webhooks/1",
            "X-Wasl-Delivery": delivery_id,
            "X-Wasl-Timestamp": timestamp,
            "X-Wasl-Signature": signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        raise WebhookError(f"receiver answered {error.code}", status=error.code) from error
    except OSError as error:
        raise WebhookError(f"receiver unreachable: {error}") from error
