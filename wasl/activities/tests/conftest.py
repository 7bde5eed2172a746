"""Shared helpers for the activities tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest

from wasl.contacts.services import company_create, contact_create

T0 = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Make `timezone.now()` (and so auto_now fields) answer `at`."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@pytest.fixture
def contact_of():
    def make(owner, **fields):
        fields.setdefault("first_name", "Sara")
        fields.setdefault("last_name", "Ahmadi")
        return contact_create(actor=owner, **fields)

    return make


@pytest.fixture
def company_of():
    def make(owner, name="Parsian Trading", **fields):
        return company_create(actor=owner, name=name, **fields)

    return make
