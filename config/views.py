"""The front door: a small landing page at ``/`` linking the four surfaces' docs, the admin and the probes."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

# (surface, what it is, base path, the repository's docs page)
SURFACES = [
    ("merchandising", "Dynasort connector: collection sorting by recipes, boosts, option sorting", "POST /api/v1/"),
    ("catalog", "Sortillus v3: products, categories, duplicate clusters, recommendations", "/api/v3/"),
    ("pricing", "ShopiSync external v1: competitor prices, price history, repricing", "/api/external/v1/"),
    ("platform", "Platform (ours): data sync from the shop, API keys", "/api/platform/v1/"),
]


@require_GET
def home(request):
    """What this service is, and where each surface's interactive docs and OpenAPI document live."""
    surfaces = [
        {"name": name, "title": title, "base": base, "docs_page": f"docs/{name}.md"} for name, title, base in SURFACES
    ]
    return render(request, "config/home.html", {"surfaces": surfaces, "demo": settings.DEBUG})
