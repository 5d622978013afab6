"""Output serializers declared once: the declared fields are both the OpenAPI schema and the renderer.

Lists render hundreds of rows, and DRF's generic field walk (``get_attribute`` through ``source_attrs``,
``SkipField`` checks, each field's ``to_representation``) was most of a list's response time
(docs/benchmarks.md). So an ``OutputSerializer`` renders from its declaration compiled once per class into
``(key, getter)`` pairs: a field's value is ``value_of`` (a function of the instance, already in its wire
form) when the declaration gives one, the attribute its ``source`` names otherwise (ints, strings,
booleans), and a nested ``OutputSerializer`` (``many`` or not) renders through its own compiled pairs.
The keys are the declared fields in declaration order (``Meta.fields`` for a ModelSerializer), so the
body and the schema cannot drift apart.

A key the body sometimes leaves out (an optional member of a vendor's body) is declared with ``optional``:
its getter answers ``OMIT`` to leave the key out, and the field is not required, so the schema does not
list it among the keys every body has.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, Final, TypeVar

from rest_framework import serializers

F = TypeVar("F", bound=serializers.Field)
Getter = Callable[[Any], Any]


def computed(field: F, value_of: Getter) -> F:
    """``field`` (its type, nullability and help text are the schema) whose value is ``value_of(instance)``."""
    field.value_of = value_of
    return field


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()  # an optional key's getter answers this to leave the key out of the body


def optional(field: F, value_of: Getter) -> F:
    """``field`` as a key the body leaves out when ``value_of(instance)`` returns ``OMIT`` (its value otherwise,
    in its wire form). The field is made not required, so the schema shows the key as one a body may lack;
    a read-only field would be listed as required (drf-spectacular), so it is refused."""
    if field.read_only:
        raise TypeError("an optional key's field must not be read_only: the schema would list it as required")
    field.required = False
    field.value_of = value_of
    field.omittable = True
    return field


def _items(value: Any) -> Any:
    return value.all() if hasattr(value, "all") else value


def _plain_source(name: str, field: serializers.Field | None) -> str | None:
    """The attribute path a field reads as it is (ints, strings, booleans), None when it is computed or nested."""
    if field is None:  # a ModelSerializer's Meta.fields entry without a declaration: the model attribute
        return name
    if getattr(field, "value_of", None) is not None or isinstance(field, serializers.BaseSerializer):
        return None
    source = field.source or name
    return source if all(part.isidentifier() for part in source.split(".")) else None


def _getter(name: str, field: serializers.Field) -> Getter:
    value_of = getattr(field, "value_of", None)
    if value_of is not None:
        return value_of
    source = attrgetter(field.source or name)
    if isinstance(field, serializers.ListSerializer):
        child = render_function(type(field.child))
        return lambda obj: [child(item) for item in _items(source(obj))]
    if isinstance(field, OutputSerializer):
        nested = render_function(type(field))

        def one(obj: Any) -> Any:
            value = source(obj)
            return None if value is None else nested(value)

        return one
    raise TypeError(f"{name}: a field an OutputSerializer cannot render without value_of")


_compiled: dict[type, Callable[[Any], dict]] = {}


def render_function(cls: type[serializers.Serializer]) -> Callable[[Any], dict]:
    """The compiled renderer of an output serializer class: instance -> body dict.

    Generated once per class as one dict display (``{"id": o.pk, "price": g2(o), ...}``): attributes read
    inline, computed and nested values through their getters. As fast as a body written out by hand, which
    is what it replaces. From the first ``optional`` key on, the keys are set one statement each (an
    optional one only when its getter did not answer ``OMIT``), so the body keeps the declaration's order.
    """
    render = _compiled.get(cls)
    if render is None:
        declared = cls._declared_fields
        meta = getattr(cls, "Meta", None)
        names = list(getattr(meta, "fields", None) or declared) if meta is not None else list(declared)
        namespace: dict[str, Any] = {"OMIT": OMIT}
        items: list[str] = []  # the dict display, up to the first optional key
        after: list[str] = []  # statements from the first optional key on
        for index, name in enumerate(names):
            field = declared.get(name)
            source = _plain_source(name, field)
            if source is not None:
                value = f"o.{source}"
            else:
                namespace[f"g{index}"] = _getter(name, field)
                value = f"g{index}(o)"
            if getattr(field, "omittable", False):
                after += [f"v = {value}", "if v is not OMIT:", f"    d[{name!r}] = v"]
            elif after:
                after.append(f"d[{name!r}] = {value}")
            else:
                items.append(f"{name!r}: {value}")
        display = f"{{{', '.join(items)}}}"
        body = [f"d = {display}", *after, "return d"] if after else [f"return {display}"]
        source_code = "def render(o):\n" + "".join(f"    {line}\n" for line in body)
        exec(source_code, namespace)  # noqa: S102 (names from a class)
        render = _compiled[cls] = namespace["render"]
    return render


# (no docstrings on these bases: drf-spectacular would show them as every subclass's description)
class OutputSerializer(serializers.Serializer):
    # an answer's serializer: declared once for the schema and the body (see the module docstring)

    def to_representation(self, instance: Any) -> dict:
        return render_function(type(self))(instance)


class ModelOutputSerializer(OutputSerializer, serializers.ModelSerializer):
    # an OutputSerializer whose schema types come from the model (Meta.fields, in that order)
    pass
