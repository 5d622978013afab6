"""Small helpers the apps' admins share: money shown the same way everywhere, JSON records shown as
readable tables, a one-item-per-line form field for JSON lists, and read-only record admins."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Every money field in the project has two decimal places (catalog.Variant.price, pricing's _money()).
MONEY_PLACES = 2
_EMPTY = "-"


def money(value: object, places: int = MONEY_PLACES) -> str:
    """``Decimal`` quantized to the currency's places: ``13.07``, ``45.00``; empty for ``None``.

    SQLite hands back annotated decimals as floats turned into 15-digit decimals (``13.0700000000000``)
    and whole prices without places (``45``); this makes both read as money.
    """
    if value is None or value == "":
        return _EMPTY
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def _scalar(value: Any) -> str:
    if value is None:
        return _EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # points and scores: two places, small ones to four significant digits
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def readable(value: Any, *, depth: int = 0) -> SafeString | str:
    """A JSON record as a person reads it: a dict becomes a two-column table (nested ones too), a list of
    scalars a comma-separated line, anything else its text. Every value is escaped."""
    if isinstance(value, dict):
        if not value:
            return _EMPTY
        rows = ((str(k).replace("_", " "), readable(v, depth=depth + 1)) for k, v in value.items())
        return format_html(
            '<table class="readable-json"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )
    if isinstance(value, list):
        if not value:
            return _EMPTY
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(_scalar(v) for v in value)
        if depth > 2:  # deep structures: compact JSON rather than tables in tables in tables
            return json.dumps(value, ensure_ascii=False)
        return format_html_join("", "<div>{}</div>", ((readable(v, depth=depth + 1),) for v in value))
    return _scalar(value)


class LinesField(forms.Field):
    """A JSON list edited as text, one item per line (blank lines ignored, order kept).

    A JSON array pasted as is (``["a", "b"]``) is read as that list, so what the old raw JSON box took
    still works. ``item`` cleans one line or raises ``ValidationError``.
    """

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "class": "vLargeTextField lines-field"})

    def __init__(self, *, item: Callable[[str], Any] | None = None, **kwargs: Any) -> None:
        self.item = item
        kwargs.setdefault("help_text", "one per line")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            try:
                value = json.loads(value)  # an unchanged initial value from a JSONField
            except ValueError:
                return value
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return "" if value is None else str(value)

    def to_python(self, value: Any) -> list[Any]:
        if value in (None, ""):
            return []
        if isinstance(value, list):
            lines = [str(v) for v in value]
        else:
            text = str(value).strip()
            lines = None
            if text.startswith("["):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = None
                if isinstance(parsed, list):
                    lines = [str(v) for v in parsed]
            if lines is None:
                lines = text.splitlines()
        items = [line.strip() for line in lines if line.strip()]
        if self.item is None:
            return items
        cleaned, errors = [], []
        for line in items:
            try:
                cleaned.append(self.item(line))
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(self.prepare_value(initial)) != self.to_python(data)
        except forms.ValidationError:
            return True


class RecordAdminMixin:
    """Mix into a ModelAdmin whose rows are records of what happened (events, runs, writebacks, price
    history): viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PlatformAdminMedia:
    """Mix into a ModelAdmin or inline to load the project's admin stylesheet (readable records, layout)."""

    class Media:
        css = {"all": ["platform/admin.css"]}
