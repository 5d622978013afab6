"""Strict serializer fields shared by every surface: JSON types are checked, not coerced (a number
is no name, "true" is no boolean), and bodies with keys nobody declared are refused."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# What every CharField refuses (DRF adds both to each): a NUL (PostgreSQL text cannot hold one) and a lone
# surrogate (no valid Unicode: neither the database driver nor a UTF-8 answer can encode it).
_TEXT_VALIDATORS = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())


def validate_text(value: str) -> str:
    """``value`` if a CharField would take its characters, for text that arrives through no CharField
    (a JSONField, a validate_<field> method); else the CharField's own ValidationError."""
    for validator in _TEXT_VALIDATORS:
        try:
            validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None
    return value


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know (except ``ignored_fields``), reporting them with the field errors."""

    ignored_fields: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields) - self.ignored_fields)
        errors: dict = {}
        try:
            value = super().to_internal_value({k: v for k, v in data.items() if k in self.fields})
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
            value = None
        for key in unknown:
            errors[str(key)[:100]] = ["Unknown field."]
        if errors:
            raise serializers.ValidationError(errors)
        return value
