"""Query filters of the ShopiSync lists (django-filter; never parse request.GET by hand)."""

from __future__ import annotations

import django_filters
from django import forms

from catalog.models import Product
from pricing.selectors import active_q


class StrictBooleanField(forms.Field):
    """Only ``true`` or ``false`` (the doc's values); anything else is a validation error, not "unset"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("must be true or false")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class ProductFilter(django_filters.FilterSet):
    active = StrictBooleanFilter(method="filter_active")

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(active_q(value))
