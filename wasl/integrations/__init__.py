"""Transports to outside systems (SMTP, SMS gateways, webhooks), one sub-package each.

They hold no models and no state: callers (automation) keep the delivery rows, keys and
retries, and call these only outside a database transaction.
"""
