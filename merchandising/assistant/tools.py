"""Tool definitions generated from the action registry: JSON Schemas of every action's parameters
and result, MCP tool annotations, and the function-calling exports (OpenAI, Anthropic).

One registry (merchandising.actions.ACTIONS) feeds the dispatcher, the OpenAPI document, the docs,
the system prompt and these, so none of them can drift from the others.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from merchandising.actions import ACTIONS, Action
from merchandising.api.results import RESULTS

JsonSchema = dict[str, Any]


def _nullable(schema: JsonSchema, field: serializers.Field) -> JsonSchema:
    if not getattr(field, "allow_null", False):
        return schema
    if "type" in schema and "enum" not in schema and "properties" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def field_schema(field: serializers.Field, *, closed: bool = True) -> JsonSchema:
    """The JSON Schema of one DRF field, as the connector validates it."""
    if isinstance(field, serializers.ListSerializer):
        schema: JsonSchema = {"type": "array", "items": serializer_schema(field.child, closed=closed)}
    elif isinstance(field, serializers.Serializer):
        schema = serializer_schema(field, closed=closed)
    elif isinstance(field, serializers.ListField):
        schema = {"type": "array", "items": field_schema(field.child, closed=closed)}
        if field.min_length is not None:
            schema["minItems"] = field.min_length
        if field.max_length is not None:
            schema["maxItems"] = field.max_length
    elif isinstance(field, serializers.DictField):
        schema = {"type": "object", "additionalProperties": field_schema(field.child, closed=closed)}
    elif isinstance(field, serializers.ChoiceField):
        values = list(field.choices)
        kinds = {type(v) for v in values}
        schema = {"type": "integer" if kinds == {int} else "string", "enum": values}
    elif isinstance(field, serializers.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, serializers.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
    elif isinstance(field, serializers.FloatField):
        schema = {"type": "number"}
    elif isinstance(field, serializers.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, serializers.RegexField):
        schema = {"type": "string", "pattern": field.validators[-1].regex.pattern}
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
    elif isinstance(field, serializers.JSONField):
        schema = {}
    else:  # pragma: no cover  (a new field type must be mapped here)
        raise TypeError(f"no JSON Schema for {type(field).__name__}")
    if field.help_text:
        schema["description"] = str(field.help_text)
    if not field.required and field.default is not serializers.empty and not callable(field.default):
        schema["default"] = field.default
    return _nullable(schema, field)


def serializer_schema(serializer: serializers.Serializer, *, closed: bool = True) -> JsonSchema:
    """An object schema; ``closed`` (inputs) refuses unknown properties, outputs stay open (additive)."""
    fields = serializer.fields
    schema: JsonSchema = {
        "type": "object",
        "properties": {name: field_schema(f, closed=closed) for name, f in fields.items()},
        "required": [name for name, f in fields.items() if f.required],
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def input_schema(action: Action) -> JsonSchema:
    """The action's parameters (the body without ``action``)."""
    return serializer_schema(action.params())


def data_schema(action: Action) -> JsonSchema:
    serializer, many = RESULTS[action.name]
    item = serializer_schema(serializer(), closed=False)
    return {"type": "array", "items": item} if many else item


def output_schema(action: Action) -> JsonSchema:
    """The connector's success body for the action: ``{"success": true, "data": ...}``."""
    return {
        "type": "object",
        "properties": {"success": {"type": "boolean", "const": True}, "data": data_schema(action)},
        "required": ["success", "data"],
    }


def description(action: Action) -> str:
    text = action.description + "."
    if action.notes:
        text += " " + action.notes
    return text


def annotations(action: Action) -> dict[str, Any]:
    """MCP tool annotations: hints for the host (which may ask the human before a write), never authorization."""
    hints: dict[str, Any] = {"title": action.title, "readOnlyHint": action.read_only, "openWorldHint": False}
    if not action.read_only:
        hints["destructiveHint"] = action.destructive
        hints["idempotentHint"] = action.idempotent
    return hints


def _all_required(schema: JsonSchema) -> bool:
    """True when every property, at every depth, is required (what OpenAI's strict mode demands)."""
    if schema.get("type") == "array":
        return _all_required(schema.get("items", {}))
    properties = schema.get("properties")
    if properties is None:
        return True
    if set(schema.get("required", [])) != set(properties):
        return False
    return all(_all_required(p) for p in properties.values())


def openai_tools() -> list[dict[str, Any]]:
    """The Chat Completions ``tools`` array; ``strict`` only where every parameter is required."""
    tools = []
    for action in ACTIONS.values():
        parameters = input_schema(action)
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": action.name,
                    "description": description(action),
                    "parameters": parameters,
                    "strict": _all_required(parameters),
                },
            }
        )
    return tools


def anthropic_tools() -> list[dict[str, Any]]:
    """The Messages API ``tools`` array."""
    return [{"name": a.name, "description": description(a), "input_schema": input_schema(a)} for a in ACTIONS.values()]


EXPORTS = {"openai": openai_tools, "anthropic": anthropic_tools}
