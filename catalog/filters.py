"""Query filters of the Sortillus lists (django-filter), plus the paging parameters they allow."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict

from catalog.models import Category, Product, ProductState

MAX_PER_PAGE = 1000  # products: the documented default is also the hard maximum


class CommaSeparatedStatesField(forms.Field):
    """``ready,error`` or repeated values: a list of known product states (unknown ones are invalid)."""

    def to_python(self, value):
        values = value if isinstance(value, list) else [value]
        states = [s.strip() for v in values if v for s in str(v).split(",") if s.strip()]
        unknown = sorted({s for s in states if s not in ProductState.values})
        if unknown:
            raise forms.ValidationError(
                f"Unknown state(s): {', '.join(unknown)[:200]}. Allowed: {', '.join(ProductState.values)}."
            )
        if not states and value not in (None, "", []):
            raise forms.ValidationError("Give at least one state.")
        return states


class StatesFilter(django_filters.Filter):
    field_class = CommaSeparatedStatesField

    def filter(self, qs, value):
        return qs.filter(state__in=value) if value else qs


class UpdatedBeforeFilter(django_filters.IsoDateTimeFilter):
    """``updated_before``: on or before the bound *as shown*.

    Sortillus shows timestamps to the second ("2025-06-12T18:08:59Z") but stores microseconds, so a
    product shown as 18:08:59 may be stored as 18:08:59.4. A bound without a fraction means that whole
    second (``< bound + 1 s``), or clients paging backwards from a shown updated_at would skip the products
    updated within it; a bound with a fraction is compared as given.
    """

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value.microsecond == 0:
            return qs.filter(updated_at__lt=value + timedelta(seconds=1))
        return qs.filter(updated_at__lte=value)


class ProductFilter(django_filters.FilterSet):
    aasm_states = StatesFilter()
    updated_before = UpdatedBeforeFilter(field_name="updated_at")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Product
        fields: list[str] = []

    @property
    def narrows(self) -> bool:
        """True when a filter is given: the list then omits totals (documented)."""
        return any(self.form.cleaned_data.get(name) not in (None, [], "") for name in self.filters)


PRODUCT_LIST_PARAMS = frozenset({"page", "per_page", "aasm_states", "aasm_states[]", "updated_before", "updated_after"})


def product_filter_data(query: QueryDict) -> dict:
    """The query string for ProductFilter: ``aasm_states[]=a&aasm_states[]=b`` joins ``aasm_states=a,b``."""
    data = {k: query.get(k) for k in ("updated_before", "updated_after") if k in query}
    states = query.getlist("aasm_states") + query.getlist("aasm_states[]")
    if "aasm_states" in query or "aasm_states[]" in query:
        data["aasm_states"] = states
    return data


class WithAttributesField(forms.Field):
    TRUE = frozenset({"true", "1", "yes"})
    FALSE = frozenset({"false", "0", "no", ""})

    def to_python(self, value):
        if value is None:
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Must be true, 1, yes, false, 0 or no.")


class WithAttributesFilter(django_filters.Filter):
    field_class = WithAttributesField

    def filter(self, qs, value):
        return qs.filter(last_attribute_created_at__isnull=False) if value else qs


class CategoryFilter(django_filters.FilterSet):
    level = django_filters.NumberFilter(field_name="level", min_value=1, max_value=1000)
    parent_external_id = django_filters.NumberFilter(field_name="parent__external_id", min_value=1, max_value=2**63 - 1)
    search = django_filters.CharFilter(method="filter_search", max_length=255)
    with_attributes = WithAttributesFilter()

    class Meta:
        model = Category
        fields: list[str] = []

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(Q(name__icontains=value) | Q(en_name__icontains=value)) if value else qs


CATEGORY_LIST_PARAMS = frozenset({"page", "per_page", "level", "parent_external_id", "search", "with_attributes"})
