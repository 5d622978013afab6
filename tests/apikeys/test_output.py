"""apikeys.output: bodies rendered from an output serializer's declaration, optional keys included."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from apikeys.output import OMIT, OutputSerializer, computed, optional, render_function
from config.urls import SURFACE_PATTERNS


class Inner(OutputSerializer):
    code = serializers.CharField()


class Body(OutputSerializer):
    id = serializers.IntegerField(source="pk")
    note = optional(serializers.CharField(required=False), lambda o: o.note or OMIT)
    label = computed(serializers.CharField(read_only=True), lambda o: o.name.upper())
    inner = Inner(many=True, source="parts")
    extra = optional(serializers.JSONField(required=False), lambda o: getattr(o, "extra", OMIT))


def thing(**fields):
    return SimpleNamespace(**{"pk": 1, "note": "", "name": "n", "parts": [SimpleNamespace(code="a")], **fields})


def test_an_optional_key_is_left_out_when_its_getter_answers_omit():
    assert Body(thing()).data == {"id": 1, "label": "N", "inner": [{"code": "a"}]}


def test_an_optional_key_keeps_its_declared_place_when_present():
    body = Body(thing(note="hi", extra={"k": None})).data
    assert list(body.items()) == [
        ("id", 1),
        ("note", "hi"),
        ("label", "N"),
        ("inner", [{"code": "a"}]),
        ("extra", {"k": None}),
    ]


def test_a_falsy_value_other_than_omit_is_kept():
    body = render_function(Body)(thing(extra=None))
    assert "extra" in body and body["extra"] is None


def test_an_optional_field_is_not_required_and_a_read_only_one_is_refused():
    assert Body().fields["note"].required is False
    with pytest.raises(TypeError):
        optional(serializers.CharField(read_only=True), lambda o: OMIT)


def test_the_sortillus_detail_schema_does_not_require_its_optional_keys():
    schema = SchemaGenerator(patterns=SURFACE_PATTERNS["catalog"]).get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert "reason_json" in components["RecommendationOutput"]["properties"]
    assert "reason_json" not in components["RecommendationOutput"]["required"]
    assert "pack_of_product_ids" in components["GtinDetailOutput"]["properties"]
    assert "pack_of_product_ids" not in components["GtinDetailOutput"]["required"]
    assert "recommendations" in components["ProductOutput"]["required"]  # always there, [] when none
