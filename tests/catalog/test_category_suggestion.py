"""Category suggestion: products matched to leaf categories by embedding similarity."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import categorizing, category_suggestions
from catalog.models import Product
from tests import factories
from tests.catalog.conftest import make_category

pytestmark = pytest.mark.django_db

# root -> leaves (name, description); products are (name, description, suggested category name, leaf)
TAXONOMY = {
    "Apparel": [
        ("T-Shirts", "Cotton t-shirts and tees, short sleeve tops"),
        ("Jeans", "Denim jeans and trousers"),
        ("Dresses", "Summer dresses, maxi and midi dresses"),
    ],
    "Footwear": [
        ("Running Shoes", "Running shoes, trainers and sneakers for road and trail"),
        ("Boots", "Leather boots, hiking boots and winter boots"),
        ("Sandals", "Sandals, flip flops and slides"),
    ],
    "Kitchen": [
        ("Cookware", "Pans, frying pans, skillets, pots and saucepans"),
        ("Knives", "Kitchen knives, chef knives and knife sets"),
        ("Coffee", "Coffee makers, espresso machines and coffee grinders"),
    ],
    "Garden": [
        ("Plants", "Indoor plants, seeds, bulbs and flowers"),
        ("Garden Tools", "Shovels, rakes, pruning shears and hoses"),
        ("Outdoor Furniture", "Garden chairs, patio tables and loungers"),
    ],
}
PRODUCTS = [
    ("Organic cotton tee", "Soft short sleeve t-shirt", "", "T-Shirts"),
    ("Graphic tee black", "", "t-shirts", "T-Shirts"),
    ("Slim fit denim jeans", "Stretch denim", "", "Jeans"),
    ("Straight leg jeans", "", "Jeans", "Jeans"),
    ("Floral maxi dress", "Light summer dress", "", "Dresses"),
    ("Midi wrap dress", "", "dresses", "Dresses"),
    ("Trail running shoe", "Grippy trainers for trail runs", "", "Running Shoes"),
    ("Road racing sneaker", "", "running shoes", "Running Shoes"),
    ("Leather hiking boot", "Waterproof boots", "", "Boots"),
    ("Winter snow boots", "", "boots", "Boots"),
    ("Beach flip flops", "Rubber sandals", "", "Sandals"),
    ("Cast iron skillet", "Pre-seasoned frying pan", "", "Cookware"),
    ("Stainless saucepan", "", "cookware", "Cookware"),
    ("Chef knife 20cm", "Forged kitchen knife", "", "Knives"),
    ("Espresso machine", "15 bar coffee maker", "", "Coffee"),
    ("Burr coffee grinder", "", "coffee", "Coffee"),
    ("Tulip bulbs pack", "Spring flowers", "", "Plants"),
    ("Pruning shears", "Bypass shears for roses", "", "Garden Tools"),
    ("Garden hose 30m", "", "garden tools", "Garden Tools"),
    ("Teak patio table", "Outdoor dining table", "", "Outdoor Furniture"),
]


def suggest(*products) -> int:
    """Suggest for products (of one tenant each call); the number whose category is now a suggested one."""
    tenant_id = products[0].tenant_id
    category_suggestions.category_suggestions_compute(tenant_id=tenant_id, product_ids=[p.pk for p in products])
    return Product.objects.filter(pk__in=[p.pk for p in products], category_source="suggested").count()


@pytest.fixture
def taxonomy(tenant_a):
    leaves, ext = {}, 1
    for root_name, children in TAXONOMY.items():
        root = make_category(tenant_a, ext, root_name, description=f"{root_name} products")
        ext += 1
        for name, description in children:
            leaves[name] = make_category(tenant_a, ext, name, parent=root, description=description)
            ext += 1
    return leaves


def test_suggestion_accuracy_on_a_generated_taxonomy(tenant_a, taxonomy, settings):
    settings.CATALOG_CATEGORY_THRESHOLD = 0.6  # below the conservative zero-shot ceiling (0.7), to see assignments
    products = [
        (factories.product(tenant_a, name=n, description=d, suggested_category_name=s), leaf)
        for n, d, s, leaf in PRODUCTS
    ]
    suggest(*(p for p, _ in products))
    correct = assigned = wrong = 0
    for product, leaf in products:
        product.refresh_from_db()
        top = product.category_suggestions[0]["category_id"] if product.category_suggestions else None
        correct += top == taxonomy[leaf].pk
        assigned += product.category_id is not None
        wrong += product.category_id is not None and product.category_id != taxonomy[leaf].pk
    assert correct / len(products) >= 0.85, correct
    assert assigned / len(products) >= 0.75 and wrong == 0, (assigned, wrong)


def test_without_labelled_products_nothing_reaches_the_default_threshold(tenant_a, taxonomy):
    """Zero-shot scores are the conservative default (0.7 x the raw probability): below the 0.8 threshold, so
    the suggestions are stored and shown but no category is assigned until the shop's labels calibrate them."""
    products = [
        factories.product(tenant_a, name=n, description=d, suggested_category_name=s) for n, d, s, _ in PRODUCTS
    ]
    assert suggest(*products) == 0
    scores = [p.category_suggestions[0]["score"] for p in Product.objects.filter(pk__in=[p.pk for p in products])]
    assert max(scores) <= categorizing.DEFAULT_RELIABILITY < category_suggestions.category_threshold()


def test_assigned_category_keeps_its_score_and_makes_the_product_ready(tenant_a, taxonomy, settings):
    settings.CATALOG_CATEGORY_THRESHOLD = 0.5
    product = factories.product(tenant_a, name="Trail running shoe", suggested_category_name="running shoes")
    assert suggest(product) == 1
    product.refresh_from_db()
    assert product.category == taxonomy["Running Shoes"]
    assert product.category_score >= category_suggestions.category_threshold()
    assert product.state == "ready" and product.transitions.get().event == "categorize"
    assert len(product.category_suggestions) == 5


def test_below_threshold_keeps_suggestions_only(tenant_a, taxonomy, settings):
    settings.CATALOG_CATEGORY_THRESHOLD = 1.01  # above any probability
    product = factories.product(tenant_a, name="Trail running shoe")
    assert suggest(product) == 0
    product.refresh_from_db()
    assert product.category is None and product.state == "new"
    assert product.category_suggestions[0]["full_external_id"] == taxonomy["Running Shoes"].full_external_id


def test_a_shops_own_category_is_never_overwritten(tenant_a, taxonomy):
    product = factories.product(tenant_a, name="Trail running shoe", category=taxonomy["Plants"])
    suggest(product)
    product.refresh_from_db()
    assert product.category == taxonomy["Plants"]


def test_suggestion_only_uses_the_products_tenant(tenant_a, tenant_b, taxonomy):
    product = factories.product(tenant_b, name="Trail running shoe", suggested_category_name="running shoes")
    assert suggest(product) == 0  # tenant_b has no categories
    product.refresh_from_db()
    assert product.category is None and product.category_suggestions == []


def test_created_product_gets_its_category_through_the_task(
    sortillus, tenant_a, taxonomy, django_capture_on_commit_callbacks, eager_tasks, settings
):
    settings.CATALOG_CATEGORY_THRESHOLD = 0.5
    body = {"product": {"id": 6, "name": "Cast iron skillet", "suggested_category_name": "cookware"}}
    with django_capture_on_commit_callbacks(execute=True):
        assert sortillus.post("/api/v3/products", body, format="json").status_code == 201
    data = sortillus.get("/api/v3/products/6").json()
    assert data["category_external_id"] == taxonomy["Cookware"].full_external_id
    assert data["state"] == "ready"
    assert Product.objects.get(tenant=tenant_a, external_id=6).category_score > 0


def test_reliability_table_is_monotone_and_shrunk():
    # raw scores 0.1..0.9: the low half right 1 in 4, the high half always; one noisy low hit
    raw = [i / 20 for i in range(1, 20)] * 4
    right = [r > 0.5 or (i % 4 == 0) for i, r in enumerate(raw)]
    table = categorizing.fit_reliability(raw, right)
    assert list(table.values) == sorted(table.values)
    assert table(0.05) < 0.5 < table(0.95) < 1.0  # shrunk toward the overall accuracy: never claims certainty
    assert table.measured == len(raw)


def test_a_score_below_every_held_out_score_gets_no_more_than_the_default():
    """A shop whose labelled products all rank easily (held out: raw 0.6-0.9, all right) says nothing of a text
    that ranks worse than any of them ("From the SDK" in the demo shop): the conservative default, never the
    easy products' accuracy."""
    raw = [0.6 + i / 100 for i in range(30)]
    table = categorizing.fit_reliability(raw, [True] * len(raw))
    assert table(0.7) > 0.9  # inside the evidence: what the shop's own products showed
    assert table(0.3) == 0.3 * categorizing.DEFAULT_RELIABILITY < categorizing.DEFAULT_RELIABILITY
    assert table(0.59) <= table.values[0]


def test_too_few_labels_give_the_conservative_default():
    default = categorizing.Reliability()
    assert default(1.0) == categorizing.DEFAULT_RELIABILITY and default(0.5) == 0.5 * categorizing.DEFAULT_RELIABILITY
    assert categorizing.fit_reliability([], []) == default


def test_spelling_decides_when_the_word_model_sees_no_difference():
    """A word model that knows nothing of the text (every vector alike): the blend follows the side that picks
    a leaf clearly, so French titles still land by their shared stems."""
    nodes = [categorizing.Node("Bougie parfumée"), categorizing.Node("Menottes"), categorizing.Node("Lubrifiant")]
    flat = lambda texts: np.ones((len(texts), 4), dtype=np.float32) / 2  # noqa: E731
    products = [categorizing.ProductText("Menottes en soie"), categorizing.ProductText("Lubrifiant naturel riche")]
    scores = categorizing.Categorizer(nodes, flat).zero_shot(products)
    assert list(scores.argmax(axis=1)) == [1, 2]
    assert scores[0, 1] - scores[0, 0] > 0.5 * (1 - categorizing.CHAR_WEIGHT)  # not damped to CHAR_WEIGHT's share


def test_a_brand_most_products_share_is_left_out_of_their_meaning_text():
    """A single-brand shop's name says nothing of a product's kind: it is taken out of the texts embedded (brand,
    title and description words); a brand that only some products carry stays."""
    seen: list[str] = []

    def embed(texts):
        seen.extend(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    text = categorizing.ProductText
    shop = [
        text("Le jeu My Lubie", "My Lubie", "Le jeu de cartes de my lubie"),
        text("Menottes en soie", "My Lubie"),
        text("Baume intime", "My Lubie"),
        text("Bougie", "Osmose", "Une bougie, pas de My Lubie"),
    ]
    kept = categorizing.without_shared_brand(shop)
    assert [(p.title, p.brand, p.description) for p in kept] == [
        ("Le jeu", "", "Le jeu de cartes de"),
        ("Menottes en soie", "", ""),
        ("Baume intime", "", ""),
        ("Bougie", "Osmose", "Une bougie, pas de"),
    ]
    nodes = [categorizing.Node("Jeu de cartes"), categorizing.Node("Lubrifiant")]
    categorizing.Categorizer(nodes, embed).product_vectors(shop)
    assert "Le jeu" in seen and "Bougie Osmose" in seen and not any("lubie" in t.lower() for t in seen)
    # one of two products: not most of them; a product alone says nothing of what the shop shares
    assert categorizing.without_shared_brand([shop[0], shop[3]]) == [shop[0], shop[3]]
    assert categorizing.without_shared_brand(shop[:1]) == shop[:1]


def test_the_calibration_is_recomputed_only_when_the_labels_change(tenant_a, taxonomy, monkeypatch):
    calls = []
    real = categorizing.reliability
    monkeypatch.setattr(categorizing, "reliability", lambda *a: calls.append(1) or real(*a))
    labelled = factories.product(tenant_a, name="Linen shirt", category=taxonomy["T-Shirts"])
    first, second = (factories.product(tenant_a, name=n) for n in ("Graphic tee", "Trail running shoe"))
    suggest(first)
    suggest(second)
    assert len(calls) == 1  # same tree, same labelled products: the held-out table is reused
    labelled.category = taxonomy["Jeans"]
    labelled.save()
    suggest(first)
    assert len(calls) == 2
