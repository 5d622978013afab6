"""Input serializers compiled once: the declared fields are both the OpenAPI schema and the fast acceptor.

DRF's per-field machinery (``run_validation``, validator lists, error wiring, nested and list serializers)
costs over 1 ms per Shopify product with 3 variants, as much as all the sync's writes together. So
``accept_function(cls)`` walks a serializer class's declared fields once and generates one plain function
per (nested) serializer, ``accept(item, cache) -> validated data``, as the same steps as
``Serializer.to_internal_value``: per field, its value or its default (or Unsure when it is required), the
field's checker, then the serializer's ``validate_<field>``; at the end ``Meta.validators`` and ``validate()``.

A checker (one per field type the compiler knows: the DRF fields in use, the strict ones of apikeys.fields)
takes the common, unambiguous shape of its field's value (an int within the bounds, a trimmed string within
its length, "49.90" for a decimal with two places, an ISO timestamp), mostly as an expression inlined in the
generated code, and returns exactly what the DRF field would return; any other value goes to the DRF field
itself (``field.run_validation``), which decides. A field whose type, validators or value access the compiler
does not know is always validated by DRF (``drf_fields`` lists them), and so is a serializer that overrides
how it walks its fields: nothing is accepted that the serializer would refuse.

An item the serializer would refuse raises ``Unsure``: the caller then runs the serializer on it, which words
the error, so error bodies stay DRF's. The accepted data are DRF's, value for value and type for type
(tests/catalog/test_sync_validation.py compares the two on generated cases), so adding a field to a serializer
needs no other code. A field class with its own parsing can teach the compiler its plain shape with
``register`` (catalog registers its ``ExternalIdField``). The fields are those of one instance per class,
made with no arguments at first use, and ``validate_<field>`` and ``validate()`` run on it, with no data or
context (as validate_each passes none); a serializer whose validation methods read ``initial_data`` is left
to DRF.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    URLValidator,
)
from rest_framework import fields, serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from apikeys.fields import StrictBooleanField, StrictCharField, StrictURLField


class Unsure(Exception):
    """The compiled acceptor does not take this item: the DRF serializer decides and words the error."""


class Cache:
    """Per-call memo of the checkers (a sync payload repeats the same few timestamps many times)."""

    __slots__ = ("datetimes", "memos")

    def __init__(self) -> None:
        self.datetimes: dict[str, Any] = {}  # ISO strings parsed by DateTimeFields of the default setup
        self.memos: dict[object, dict] = {}

    def memo(self, owner: object) -> dict:
        memo = self.memos.get(owner)
        if memo is None:
            memo = self.memos[owner] = {}
        return memo


# A checker: a present value (never ``empty``) -> the value DRF's field would return, or Unsure.
Check = Callable[[Any, Cache], Any]


class Checker:
    """A compiled field: ``check`` takes any present value; ``inline`` optionally spells its common case as an
    expression the generated code inlines (a call less per field). ``inline`` is a format string of the value
    ``{v}``, which gives ``{otherwise}`` (the call of ``check``) for anything it does not take; its other
    ``{name}`` fields are ``constants[name]``."""

    __slots__ = ("check", "constants", "inline")

    def __init__(self, check: Check, inline: str | None = None, **constants: Any) -> None:
        self.check, self.inline, self.constants = check, inline, constants


# A builder: (bound field, its DRF fallback) -> a Checker, or None when it cannot vouch for this field's setup.
Builder = Callable[[serializers.Field, Check], "Checker | None"]

_DRF_ERRORS = (serializers.ValidationError, DjangoValidationError)
_BAD_CHARS = re.compile("[\\x00\\ud800-\\udfff]")  # CharField's null-character and surrogate validators
# The usual http(s) URL (lower-case ASCII host names, a path of URL-safe characters): a strict subset of what
# URLValidator accepts (tests/catalog/test_sync_validation.py), matched in one regex. URLValidator (urlsplit,
# an IDN-aware regex, an IPv6 check) cost 65 us per product; anything else still goes through it.
PLAIN_URL = re.compile(
    r"https?://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?#]*)?",
    re.ASCII,
)
_MAX_JSON_DEPTH = 64

_builders: dict[type, Builder] = {}


def register(*field_classes: type) -> Callable[[Builder], Builder]:
    """Use ``builder`` for fields of exactly these classes (a subclass may parse differently: DRF decides it)."""

    def decorate(builder: Builder) -> Builder:
        for cls in field_classes:
            _builders[cls] = builder
        return builder

    return decorate


def drf_fallback(field: serializers.Field) -> Check:
    """The DRF field itself as a checker: its validated value, or Unsure when it refuses the value."""
    run_validation = field.run_validation

    def run(value: Any, cache: Cache) -> Any:
        try:
            return run_validation(value)
        except _DRF_ERRORS:
            raise Unsure from None

    return run


def validators_are(field: serializers.Field, expected: list[tuple[type, Any]]) -> bool:
    """Whether the field's validators are exactly ``expected`` ((class, limit_value) pairs, any order): the
    ones its own arguments create. Any other validator means the compiler cannot vouch for the field."""
    return Counter((type(v), getattr(v, "limit_value", None)) for v in field.validators) == Counter(expected)


def _number(limit: Any) -> bool:
    return isinstance(limit, int | float | Decimal) and not isinstance(limit, bool)


def value_bounds(field: serializers.Field) -> tuple[Any, Any] | None:
    """(min_value, max_value) of a numeric field (None when unset) if these are its only validators."""
    low, high = field.min_value, field.max_value
    expected = [(MinValueValidator, low)] if low is not None else []
    expected += [(MaxValueValidator, high)] if high is not None else []
    if not validators_are(field, expected) or not all(_number(limit) for _, limit in expected):
        return None
    return low, high


def integer_checker(field: serializers.Field, run: Check, low: Any, high: Any) -> Checker:
    """An int (no bool) within [low, high] (None: unbounded) as it is; None if the field allows it; else DRF."""
    allow_null = field.allow_null

    def check(value: Any, cache: Cache) -> Any:
        if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
            return value
        if value is None and allow_null:
            return None
        return run(value, cache)

    condition = ["type({v}) is int"]
    if low is not None and high is not None:
        condition.append("{low} <= {v} <= {high}")
    else:
        condition += ["{low} <= {v}"] if low is not None else []
        condition += ["{v} <= {high}"] if high is not None else []
    return Checker(check, f"{{v}} if {' and '.join(condition)} else {{otherwise}}", low=low, high=high)


def _text_validators(field: serializers.CharField) -> list[tuple[type, Any]]:
    expected: list[tuple[type, Any]] = [
        (ProhibitNullCharactersValidator, None),
        (ProhibitSurrogateCharactersValidator, None),
    ]
    if field.max_length is not None:
        expected.append((MaxLengthValidator, field.max_length))
    if field.min_length is not None:
        expected.append((MinLengthValidator, field.min_length))
    return expected


def _text_checker(field: serializers.CharField, run: Check, also: Callable[[str], bool] | None = None) -> Checker:
    """CharField.run_validation for a str: trimmed (by default), blank or within its lengths, no NUL or lone
    surrogate (and ``also(text)``); None when the field allows it; anything else DRF's."""
    trim, allow_blank, allow_null = field.trim_whitespace, field.allow_blank, field.allow_null
    low = field.min_length or 0
    high = math.inf if field.max_length is None else field.max_length
    bad_chars = _BAD_CHARS.search

    def check(value: Any, cache: Cache) -> Any:
        if type(value) is str:
            text = value.strip() if trim else value
            if not text:
                if allow_blank:
                    return ""
            elif (
                low <= len(text) <= high
                and ((text.isascii() and "\x00" not in text) or bad_chars(text) is None)
                and (also is None or also(text))
            ):
                return text
        elif value is None and allow_null:
            return None
        return run(value, cache)

    if also is not None:
        return Checker(check)
    # the common case inline: plain ASCII, not blank (a blank goes to check, which knows allow_blank)
    text = "t" if trim else "{v}"
    condition = ["(t := {v}.strip())" if trim else "{v}"]
    condition += [f"{{low}} <= len({text})"] if field.min_length else []
    condition += [f"len({text}) <= {{high}}"] if field.max_length is not None else []
    condition += [f"{text}.isascii()", f"'\\x00' not in {text}"]
    inline = f"({text} if {' and '.join(condition)} else {{otherwise}}) if type({{v}}) is str else {{otherwise}}"
    return Checker(check, inline, low=field.min_length, high=field.max_length)


@register(serializers.CharField, StrictCharField)
def _char(field: serializers.CharField, run: Check) -> Checker | None:
    # StrictCharField differs only in refusing what is not a str, which goes to DRF here anyway
    if not validators_are(field, _text_validators(field)):
        return None
    return _text_checker(field, run)


@register(serializers.URLField, StrictURLField)
def _url(field: serializers.URLField, run: Check) -> Checker | None:
    url_validators = [v for v in field.validators if type(v) is URLValidator]
    if len(url_validators) != 1 or not validators_are(field, [*_text_validators(field), (URLValidator, None)]):
        return None
    validator = url_validators[0]
    plain = {"http", "https"} <= set(validator.schemes)

    def url_ok(text: str) -> bool:
        if plain and len(text) <= validator.max_length:
            match = PLAIN_URL.fullmatch(text)
            if match is not None and len(match[1]) <= 253:
                return True
        try:
            validator(text)
        except DjangoValidationError:
            return False
        return True

    return _text_checker(field, run, url_ok)


@register(serializers.IntegerField)
def _integer(field: serializers.IntegerField, run: Check) -> Checker | None:
    # int(str(value)) is value for an int; "5", 5.0, a bool or out of bounds: DRF decides
    bounds = value_bounds(field)
    return None if bounds is None else integer_checker(field, run, *bounds)


@register(serializers.DecimalField)
def _decimal(field: serializers.DecimalField, run: Check) -> Checker | None:
    bounds = value_bounds(field)
    max_digits, places = field.max_digits, field.decimal_places
    if bounds is None or field.localize or not isinstance(max_digits, int) or not isinstance(places, int):
        return None
    whole = max_digits - places
    if whole < 1 or places < 0:
        return None
    # At most `whole` digits before the point and `places` after, no sign or exponent: within the precision,
    # so DRF's quantize to `places` is exact, the same as the number written with `places` decimals, which
    # Decimal() reads exactly in any context. (quantize with DRF's context costs 4 times as much.)
    digits = f"[0-9]{{1,{whole}}}"
    plain = re.compile(digits + (f"(?:\\.[0-9]{{1,{places}}})?" if places else "")).fullmatch
    exact = re.compile(digits + (f"\\.[0-9]{{{places}}}" if places else "")).fullmatch
    low, high = (None if limit is None else Decimal(limit) for limit in bounds)
    if low is not None and low <= 0:
        low = None  # the pattern has no sign
    allow_null = field.allow_null

    def check(value: Any, cache: Cache) -> Any:
        kind = type(value)
        if kind is str:
            text = value.strip()
        elif kind is int or kind is float:
            text = str(value)  # DRF: smart_str(value)
        elif value is None and allow_null:
            return None
        else:
            return run(value, cache)
        if plain(text) is not None:
            point = text.find(".")
            if places:
                text += "0" * (places - len(text) + point + 1) if point >= 0 else "." + "0" * places
            number = Decimal(text)
            if (low is None or number >= low) and (high is None or number <= high):
                return number
        return run(value, cache)  # blank, "-1", "1e3", "49.901", out of bounds: DRF decides

    if low is not None or high is not None:
        return Checker(check)
    inline = "{number}(t) if type({v}) is str and {exact}(t := {v}.strip()) else {otherwise}"
    return Checker(check, inline, number=Decimal, exact=exact)


@register(serializers.BooleanField, StrictBooleanField)
def _boolean(field: serializers.BooleanField, run: Check) -> Checker | None:
    if field.validators:
        return None
    allow_null = field.allow_null

    def check(value: Any, cache: Cache) -> Any:
        if value is True or value is False:
            return value
        if value is None and allow_null:
            return None
        return run(value, cache)  # "true", 1 ...: DRF decides (StrictBooleanField refuses them)

    return Checker(check, "{v} if {v} is True or {v} is False else {otherwise}")


@register(serializers.ChoiceField)
def _choice(field: serializers.ChoiceField, run: Check) -> Checker | None:
    if field.validators:
        return None
    table = dict(field.choice_strings_to_values)
    if field.allow_blank:
        table[""] = ""
    allow_null = field.allow_null

    def check(value: Any, cache: Cache) -> Any:
        if type(value) is str and value in table:
            return table[value]
        if value is None and allow_null:
            return None
        return run(value, cache)

    return Checker(check, "{table}[{v}] if type({v}) is str and {v} in {table} else {otherwise}", table=table)


@register(serializers.DateTimeField)
def _datetime(field: serializers.DateTimeField, run: Check) -> Checker | None:
    if field.validators:
        return None
    allow_null = field.allow_null
    # Parsed once per distinct string and call (datetimes are immutable): in one memo for all the fields of
    # DRF's default setup, which parse alike; in the field's own otherwise.
    shared = not {"input_formats", "timezone"} & field.__dict__.keys()

    def check(value: Any, cache: Cache) -> Any:
        if type(value) is str:
            memo = cache.datetimes if shared else cache.memo(check)
            parsed = memo.get(value)
            if parsed is None:
                parsed = memo[value] = run(value, cache)
            return parsed
        if value is None and allow_null:
            return None
        return run(value, cache)

    if not shared:
        return Checker(check)
    return Checker(check, "(cache.datetimes.get({v}) or {otherwise}) if type({v}) is str else {otherwise}")


def _plain_json(value: Any, depth: int = 0) -> bool:
    """Whether DRF's json.dumps takes ``value`` for sure: JSON's own types (finite numbers: DRF refuses NaN and
    infinities), nested not too deep."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if depth >= _MAX_JSON_DEPTH:
        return False
    if kind is list:
        return all(_plain_json(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    return False


@register(serializers.JSONField)
def _json(field: serializers.JSONField, run: Check) -> Checker | None:
    if field.validators or field.binary or field.encoder is not None:
        return None
    allow_null = field.allow_null

    def check(value: Any, cache: Cache) -> Any:
        if value is None:
            if allow_null:
                return None
        elif _plain_json(value):
            return value  # DRF only checks that it encodes, and returns it as given
        return run(value, cache)

    return Checker(check, "{v} if type({v}) is str else {otherwise}")


def _sized_list(field: serializers.ListField | serializers.ListSerializer) -> tuple[bool, int, float]:
    """(allow_empty, min, max) of a list field."""
    return field.allow_empty, field.min_length or 0, math.inf if field.max_length is None else field.max_length


def _wrap_finish(owner: serializers.BaseSerializer) -> Callable[[Any], Any] | None:
    """A serializer's validators and validate(), as its run_validation calls them; None when there are none."""
    base = serializers.ListSerializer if isinstance(owner, serializers.ListSerializer) else serializers.Serializer
    custom = type(owner).run_validators is not base.run_validators
    run_validators = owner.run_validators if owner.validators or custom else None
    validate = owner.validate if type(owner).validate is not base.validate else None
    if run_validators is None and validate is None:
        return None

    def finish(value: Any) -> Any:
        try:
            if run_validators is not None:
                run_validators(value)
            if validate is not None:
                value = validate(value)
        except _DRF_ERRORS:
            raise Unsure from None
        if value is None:  # DRF asserts: let the serializer say so
            raise Unsure
        return value

    return finish


# What a field does with a dict body when none of these is overridden: dictionary.get(field_name, empty).
_PLAIN_GET_VALUE = {
    fields.Field.get_value,
    fields.ListField.get_value,
    fields.JSONField.get_value,
    serializers.Serializer.get_value,
    serializers.ListSerializer.get_value,
}
_PLAIN_EMPTY_VALUES = {fields.Field.validate_empty_values, fields.DecimalField.validate_empty_values}
# The methods a nested serializer must not override for the compiler to walk its fields as DRF does.
_SERIALIZER_METHODS = ("run_validation", "to_internal_value", "validate_empty_values", "get_value", "_writable_fields")


def _validation_methods(serializer: serializers.Serializer) -> list:
    names = ["validate", "run_validators", *(f"validate_{name}" for name in serializer.fields)]
    methods = [getattr(type(serializer), name, None) for name in names]
    return [m for m in methods if m is not None and hasattr(m, "__code__")]


class _Compiler:
    """Compiles one serializer class; remembers which fields (by path) it leaves to DRF."""

    def __init__(self) -> None:
        self.drf_fields: list[str] = []

    def field_check(self, field: serializers.Field, path: str) -> Check:
        """A checker for a present value of ``field``: a compiled one, or the DRF field itself."""
        return self.field_checker(field, path).check

    def field_checker(self, field: serializers.Field, path: str) -> Checker:
        run = drf_fallback(field)
        if type(field) is serializers.ListSerializer:
            checker = self._list_serializer(field, run, path)
        elif isinstance(field, serializers.Serializer):
            checker = self._serializer(field, run, path)
        elif type(field) is serializers.ListField:
            checker = self._list_field(field, run, path)
        else:
            builder = _builders.get(type(field))
            checker = None if builder is None else builder(field, run)
        if checker is None:
            self.drf_fields.append(path)
            return Checker(run)
        return checker

    def _serializer(self, field: serializers.Serializer, run: Check, path: str) -> Checker | None:
        accept = self.body(field, path)
        if accept is None:
            return None
        allow_null = field.allow_null

        def check(value: Any, cache: Cache) -> Any:
            if type(value) is dict:
                return accept(value, cache)
            if value is None and allow_null:
                return None
            return run(value, cache)  # a Mapping of another type, or no object: DRF decides

        return Checker(check, "{accept}({v}, cache) if type({v}) is dict else {otherwise}", accept=accept)

    def _list_field(self, field: serializers.ListField, run: Check, path: str) -> Checker | None:
        expected = [(MaxLengthValidator, field.max_length)] if field.max_length is not None else []
        expected += [(MinLengthValidator, field.min_length)] if field.min_length is not None else []
        if not validators_are(field, expected):
            return None
        allow_empty, low, high = _sized_list(field)
        child = self.field_check(field.child, f"{path}[]")
        allow_null = field.allow_null

        def check(value: Any, cache: Cache) -> Any:
            if type(value) is list and (value or allow_empty) and low <= len(value) <= high:
                return [child(v, cache) for v in value]
            if value is None and allow_null:
                return None
            return run(value, cache)

        return Checker(check)

    def _list_serializer(self, field: serializers.ListSerializer, run: Check, path: str) -> Checker | None:
        allow_empty, low, high = _sized_list(field)
        child_run = drf_fallback(field.child)
        accept = self.body(field.child, f"{path}[]") if isinstance(field.child, serializers.Serializer) else None
        if accept is None:
            accept = self.field_check(field.child, f"{path}[]")
        finish = _wrap_finish(field)
        allow_null = field.allow_null

        def check(value: Any, cache: Cache) -> Any:
            if type(value) is list and (value or allow_empty) and low <= len(value) <= high:
                items = [accept(v, cache) if type(v) is dict else child_run(v, cache) for v in value]
                return items if finish is None else finish(items)
            if value is None and allow_null:
                return None
            return run(value, cache)

        return Checker(check)

    def body(self, serializer: serializers.Serializer, path: str, root: bool = False) -> Callable | None:
        """The generated function ``(dict, cache) -> validated data`` of a plain Serializer, else None."""
        if not all(getattr(type(serializer), m) is getattr(serializers.Serializer, m) for m in _SERIALIZER_METHODS):
            return None
        if any("initial_data" in method.__code__.co_names for method in _validation_methods(serializer)):
            return None  # it reads the body it is given, which the compiled acceptor does not give it
        namespace: dict[str, Any] = {"EMPTY": fields.empty, "Unsure": Unsure, "SkipField": fields.SkipField}
        namespace["ERRORS"] = _DRF_ERRORS
        lines = ["def accept(item, cache):"]
        if root:
            lines += ["    if type(item) is not dict:", "        raise Unsure"]
        lines.append("    out = {}")
        for index, field in enumerate(serializer._writable_fields):
            field_path = f"{path}.{field.field_name}" if path else field.field_name
            lines += self._field_lines(serializer, field, index, field_path, namespace)
        finish = _wrap_finish(serializer)
        if finish is not None:
            namespace["finish"] = finish
            lines.append("    out = finish(out)")
        lines.append("    return out")
        exec("\n".join(lines), namespace)  # noqa: S102 (the code is ours; names and keys enter as repr())
        return namespace["accept"]

    def _field_lines(
        self, serializer: serializers.Serializer, field: serializers.Field, index: int, path: str, namespace: dict
    ) -> list[str]:
        """Serializer.to_internal_value's step for one field: its value, validated, then validate_<field>."""
        validate_method = getattr(serializer, "validate_" + field.field_name, None)
        if validate_method is not None:
            namespace[f"vm{index}"] = validate_method
        if len(field.source_attrs) == 1:
            key = repr(field.source_attrs[0])

            def store(value: str) -> str:
                return f"out[{key}] = {value}"
        else:  # a dotted source or "*": DRF's set_value
            namespace["set_value"] = serializer.set_value
            namespace[f"sa{index}"] = field.source_attrs

            def store(value: str) -> str:
                return f"set_value(out, sa{index}, {value})"

        def assign(value: str, indent: str) -> list[str]:
            if validate_method is None:
                return [indent + store(value)]
            return [
                indent + "try:",
                indent + "    " + store(f"vm{index}({value})"),
                indent + "except SkipField:",
                indent + "    pass",
                indent + "except ERRORS:",
                indent + "    raise Unsure from None",
            ]

        plain = (
            type(field).get_value in _PLAIN_GET_VALUE
            and type(field).validate_empty_values in _PLAIN_EMPTY_VALUES
            and field.source != "*"
        )
        if not plain:  # DRF from the raw body: get_value, then run_validation (SkipField: left out)
            self.drf_fields.append(path)
            namespace[f"gv{index}"] = field.get_value
            namespace[f"c{index}"] = drf_fallback(field)
            call = f"        v = c{index}(gv{index}(item), cache)"
            return ["    try:", call, "    except SkipField:", "        pass", "    else:", *assign("v", "        ")]
        checker = self.field_checker(field, path)
        namespace[f"c{index}"] = checker.check
        value = f"c{index}(v, cache)"
        if checker.inline is not None:
            names = {name: f"k{index}_{name}" for name in checker.constants}
            namespace.update({names[name]: constant for name, constant in checker.constants.items()})
            value = checker.inline.format(v="v", otherwise=value, **names)
        lines = [f"    v = item.get({field.field_name!r}, EMPTY)", "    if v is not EMPTY:", *assign(value, "        ")]
        if field.required:
            lines += ["    else:", "        raise Unsure"]
        elif field.default is not fields.empty:
            if callable(field.default):
                namespace[f"d{index}"] = field.get_default
                default = f"d{index}()"
            else:
                namespace[f"d{index}"] = field.default  # DRF returns this very object, unvalidated
                default = f"d{index}"
            lines += ["    else:", *assign(default, "        ")]
        return lines


_compiled: dict[type, tuple[Callable[[Any, Cache], dict] | None, list[str]]] = {}


def _compile(cls: type[serializers.Serializer]) -> tuple[Callable[[Any, Cache], dict] | None, list[str]]:
    compiled = _compiled.get(cls)
    if compiled is None:
        compiler = _Compiler()
        accept = compiler.body(cls(), "", root=True)
        compiled = _compiled[cls] = (accept, [cls.__name__] if accept is None else compiler.drf_fields)
    return compiled


def accept_function(cls: type[serializers.Serializer]) -> Callable[[Any, Cache], dict] | None:
    """The compiled acceptor of an input serializer class, built on first use: ``accept(item, cache)`` returns
    what ``cls(data=item).validated_data`` would be, or raises Unsure when the serializer would refuse the item
    (or it is no plain dict). None for a class that overrides how a serializer walks its fields."""
    return _compile(cls)[0]


def drf_fields(cls: type[serializers.Serializer]) -> list[str]:
    """The fields (paths like ``variants[].price``) whose every value the compiled acceptor leaves to DRF."""
    return list(_compile(cls)[1])
