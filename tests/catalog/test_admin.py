"""The catalog admin: option values edited one per line, reasons readable, records not added by hand."""

from __future__ import annotations

import pytest

from catalog.admin import OptionInlineForm
from catalog.models import ProductOption, Recommendation
from tests import factories

pytestmark = pytest.mark.django_db


def test_option_values_are_edited_as_an_ordered_list_one_per_line(tenant_a):
    product = factories.product(tenant_a, name="Tee")
    option = factories.option(product, "Size", ["S", "M"])
    form = OptionInlineForm(instance=option)
    assert form["values"].value() == "S\nM" and "S\nM</textarea>" in str(form["values"])
    form = OptionInlineForm(data={"position": "1", "name": "Size", "values": "XL\r\n S \r\n\r\nM\r\n"}, instance=option)
    assert form.is_valid(), form.errors
    form.save()
    assert ProductOption.objects.get(pk=option.pk).values == ["XL", "S", "M"]  # order kept, blanks dropped


def test_unchanged_option_values_are_not_a_change(tenant_a):
    option = factories.option(factories.product(tenant_a), "Color", ["Red", "Blue"])
    form = OptionInlineForm(data={"position": "1", "name": "Color", "values": "Red\r\nBlue"}, instance=option)
    assert form.is_valid() and "values" not in form.changed_data


def test_product_page_shows_recommendation_reasons_as_a_table(admin_client, tenant_a):
    product = factories.product(tenant_a, name="Boot")
    other = factories.product(tenant_a, name="Sock")
    Recommendation.objects.create(
        tenant=tenant_a,
        product=product,
        recommended=other,
        position=1,
        explanation="bought together",
        reason_json={"co_purchases": 12, "score": 0.8123},
    )
    response = admin_client.get(f"/admin/catalog/product/{product.pk}/change/")
    page = response.content.decode()
    assert "<th>co purchases</th><td>12</td>" in page and "<td>0.8123</td>" in page
    addable = {f.opts.model.__name__: f.has_add_permission for f in response.context["inline_admin_formsets"]}
    assert addable["Recommendation"] is False and addable["ProductTransition"] is False  # records, not input
    assert addable["Variant"] is True
    assert str(Recommendation.objects.get(product=product)) == "Boot → Sock"


def test_variant_inputs_are_compact(admin_client, tenant_a):
    product = factories.product(tenant_a, name="Wide")
    factories.variant(product, price="10.00")
    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert 'name="variants-0-price"' in page and "width: 8ch" in page
    assert "platform/admin.css" in page  # keeps wide inline tables inside the window


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"a_b": 1.5, "ok": True}, '<table class="readable-json"><tbody><tr><th>a b</th><td>1.50</td></tr>'),
        ({"<b>": "<script>x</script>"}, "<th>&lt;b&gt;</th><td>&lt;script&gt;x&lt;/script&gt;</td>"),
        (["S", "M", None], "S, M, -"),
        ({}, "-"),
        ({"nested": {"score": 0.01234}}, "<th>nested</th><td><table"),
    ],
)
def test_json_records_render_as_escaped_tables(value, shown):
    from core.admin_display import readable

    assert shown in str(readable(value))
