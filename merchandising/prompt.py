"""The connector system prompt for AI assistants, generated from the action registry."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import serializers

from merchandising.actions import ACTIONS, Action
from tenants.models import Tenant

API_PATH = "/api/v1/"


def _type_name(field: serializers.Field) -> str:
    if isinstance(field, serializers.ListSerializer):
        return "array of objects"
    if isinstance(field, serializers.ListField):
        return f"array of {_type_name(field.child)}s"
    if isinstance(field, serializers.ChoiceField):
        return "one of " + ", ".join(str(c) for c in field.choices)
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.CharField):
        return "string"
    return type(field).__name__.replace("Field", "").lower()


def parameters(action: Action) -> list[tuple[str, bool, str, str]]:
    """(name, required, type, description) of each parameter of an action, nested ones as ``a[].b``."""
    rows = []
    for name, field in action.params().fields.items():
        rows.append((name, field.required, _type_name(field), str(field.help_text or "")))
        if isinstance(field, serializers.ListSerializer):
            for sub, subfield in field.child.fields.items():
                rows.append((f"{name}[].{sub}", subfield.required, _type_name(subfield), str(subfield.help_text or "")))
    return rows


def build_prompt(*, tenant: Tenant, base_url: str) -> str:
    """The system prompt: store URL, endpoint, authentication and every action with its parameters."""
    endpoint = base_url.rstrip("/") + API_PATH
    limit, window = settings.MERCHANDISING_RATE_LIMIT
    lines = [
        f"You manage product sorting (Dynasort) for the store {tenant.store_url} ({tenant.name}).",
        "",
        "## API",
        f"Endpoint: {endpoint}",
        "Every request is an HTTP POST with a JSON body that names an action:",
        f'  curl -X POST {endpoint} -H "Authorization: Bearer $DYNASORT_KEY" '
        '-H "Content-Type: application/json" -d \'{"action": "list_collections"}\'',
        "Authentication: send the user's API key (it starts with dyn_sk_) as `Authorization: Bearer <key>`.",
        "Ask the user for the key before the first call; never print it back in full.",
        'Success: {"success": true, "data": ...}. Error: {"error": true, "message": "...", "code": "..."} with code '
        "unauthorized, rate_limited, permission_denied, invalid_action, invalid_params, not_found or server_error.",
        f"Limit: {limit} requests per {window} seconds for the store; on HTTP 429 wait until X-RateLimit-Reset "
        "(a Unix time).",
        "IDs of collections and products are the shop's own numeric IDs; send them as JSON numbers.",
        "Before changing anything, say what you will change; confirm bulk changes with the user.",
        "",
        "## Actions",
    ]
    category = None
    for action in ACTIONS.values():
        if action.category != category:
            category = action.category
            lines += ["", f"### {category}"]
        lines += ["", f"{action.name}: {action.description}.", f"  Example: {json.dumps(action.example_body)}"]
        for name, required, type_name, help_text in parameters(action):
            need = "required" if required else "optional"
            lines.append(f"  - {name} ({type_name}, {need}){': ' + help_text if help_text else ''}")
        if action.notes:
            lines.append(f"  {action.notes}")
    return "\n".join(lines) + "\n"
