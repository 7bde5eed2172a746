"""Custom field definitions: validating values in services and filtering lists by them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils.translation import gettext as _

from wasl.contacts.models import CustomFieldDefinition
from wasl.core.errors import FieldErrors, Invalid
from wasl.core.phones import PhoneError, parse_phone
from wasl.core.validation import clean_email

Kind = CustomFieldDefinition.Kind
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def definitions_for(entity: str) -> dict[str, CustomFieldDefinition]:
    return {
        d.key: d
        for d in CustomFieldDefinition.objects.filter(entity=entity, is_active=True).order_by(
            "position", "id"
        )
    }


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _choice_values(definition: CustomFieldDefinition) -> list[str]:
    return [str(c.get("value")) for c in definition.choices if isinstance(c, dict)]


def clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """The stored JSON form of one value. Raises ValueError with a translated message."""
    rules = definition.validation or {}
    kind = definition.kind
    if kind in (Kind.TEXT, Kind.LONG_TEXT):
        if not isinstance(value, str | int | float):
            raise ValueError(_("Enter text."))
        text = str(value).strip()
        limit = int(rules.get("max_length") or (255 if kind == Kind.TEXT else 10000))
        if len(text) > limit:
            raise ValueError(_("At most %(limit)d characters.") % {"limit": limit})
        pattern = rules.get("pattern")
        if pattern and not re.fullmatch(pattern, text):
            raise ValueError(_("This value does not have the expected form."))
        return text
    if kind in (Kind.NUMBER, Kind.MONEY):
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as error:
            raise ValueError(_("Enter a number.")) from error
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        if "min" in rules and number < Decimal(str(rules["min"])):
            raise ValueError(_("At least %(min)s.") % {"min": rules["min"]})
        if "max" in rules and number > Decimal(str(rules["max"])):
            raise ValueError(_("At most %(max)s.") % {"max": rules["max"]})
        if kind == Kind.MONEY:
            return str(number.quantize(Decimal("0.01")))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == Kind.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError as error:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from error
    if kind == Kind.CHOICE:
        if str(value) not in _choice_values(definition):
            raise ValueError(_("Choose one of the listed values."))
        return str(value)
    if kind == Kind.MULTI_CHOICE:
        items = value if isinstance(value, list) else [value]
        allowed = _choice_values(definition)
        chosen = [str(v) for v in items]
        if any(v not in allowed for v in chosen):
            raise ValueError(_("Choose among the listed values."))
        return sorted(set(chosen), key=chosen.index)
    if kind == Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == Kind.URL:
        text = str(value).strip()
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError as error:
            raise ValueError(_("Enter a web address starting with http:// or https://.")) from error
        return text
    if kind == Kind.EMAIL:
        return clean_email(str(value))
    if kind == Kind.PHONE:
        try:
            return parse_phone(str(value))
        except PhoneError as error:
            raise ValueError(str(error)) from error
    raise ValueError(_("Unknown field kind."))


def clean_custom_values(
    *,
    entity: str,
    values: dict[str, Any] | None,
    existing: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
) -> dict[str, Any]:
    """Validate `values` against the entity's definitions and merge them into `existing`.

    On create pass `existing=None`: required fields must be present. Errors are added to
    `errors` as `custom.<key>` (or raised as Invalid when no collector is given).
    """
    collector = errors if errors is not None else FieldErrors()
    definitions = definitions_for(entity)
    creating = existing is None
    merged = dict(existing or {})
    for key, value in (values or {}).items():
        definition = definitions.get(key)
        if definition is None:
            collector.add(f"custom.{key}", _("Unknown field."))
            continue
        if _is_empty(value):
            if definition.required:
                collector.add(f"custom.{key}", _("This field is required."))
            merged.pop(key, None)
            continue
        try:
            merged[key] = clean_value(definition, value)
        except ValueError as error:
            collector.add(f"custom.{key}", str(error))
    if creating:
        for key, definition in definitions.items():
            if (
                definition.required
                and _is_empty(merged.get(key))
                and f"custom.{key}" not in (collector.fields)
            ):
                collector.add(f"custom.{key}", _("This field is required."))
    if errors is None:
        collector.raise_if_any()
    return merged


def custom_filter_q(entity: str, filters: dict[str, str]) -> Q:
    """A filter for `custom.<key>=<value>` query parameters, typed by the definitions."""
    definitions = definitions_for(entity) if filters else {}
    clause = Q()
    problems = FieldErrors()
    for key, raw in filters.items():
        definition = definitions.get(key)
        if definition is None:
            problems.add(f"custom.{key}", _("Unknown field."))
            continue
        if definition.kind == Kind.MULTI_CHOICE:
            # The JSON text of the list contains the quoted value on both engines.
            clause &= Q(**{f"custom__{key}__icontains": f'"{raw}"'})
            continue
        try:
            value = clean_value(definition, raw)
        except ValueError as error:
            problems.add(f"custom.{key}", str(error))
            continue
        clause &= Q(**{f"custom__{key}": value})
    problems.raise_if_any()
    return clause


def validate_definition(
    *, entity: str, key: str, kind: str, choices: list[Any], validation: dict[str, Any]
) -> None:
    """Refuse a definition that could not validate anything sensibly."""
    errors = FieldErrors()
    if entity not in CustomFieldDefinition.Entity.values:
        errors.add("entity", _("Choose contact, company, lead or deal."))
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", key or ""):
        errors.add(
            "key", _("Use lowercase letters, digits and underscores, starting with a letter.")
        )
    if kind not in Kind.values:
        errors.add("kind", _("Unknown field kind."))
    choices_ok = bool(choices) and all(isinstance(c, dict) and c.get("value") for c in choices)
    if kind in (Kind.CHOICE, Kind.MULTI_CHOICE) and not choices_ok:
        errors.add("choices", _("List the choices, each with a value."))
    pattern = (validation or {}).get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error:
            errors.add("validation", _("The pattern is not a valid regular expression."))
    if errors:
        raise Invalid(errors.fields)
