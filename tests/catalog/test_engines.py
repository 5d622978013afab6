"""Pure engines: GTINs, duplicate clusters, embeddings and the recommendation merge."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from catalog import duplicates, embeddings, gtin, recommendation_ranking
from catalog.recommendation_ranking import Candidate


@pytest.mark.parametrize(
    ("code", "normalised"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # UPC-A
        ("4006381333931", "04006381333931"),  # EAN-13
        ("10012345678902", "10012345678902"),  # GTIN-14
        ("1234567890128", "01234567890128"),
    ],
)
def test_valid_gtins_are_normalised_to_14_digits(code, normalised):
    assert gtin.parse(code).normalised == normalised


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("1234567890123", "check digit"),  # the vendor doc's example: wrong check digit
        ("1234567", "8, 12, 13 or 14"),
        ("12345678901", "check digit"),  # 11 digits: read as a GTIN-12 without its leading zero
        ("00000000", "all zeros"),
        ("12345abc90128", "digits only"),
        ("", "digits only"),
        ("٠١٢٣٤٥٦٧", "digits only"),  # non-ASCII digits
    ],
)
def test_invalid_gtins_say_why(code, reason):
    with pytest.raises(gtin.InvalidGtin, match=reason):
        gtin.parse(code)


@pytest.mark.parametrize(
    ("code", "restricted"),
    [("2012345678909", True), ("0412345678902", True), ("4006381333931", False), ("036000291452", False)],
)
def test_restricted_ranges_are_flagged(code, restricted):
    data = code[:-1]
    code = data + str(gtin.check_digit(data))
    assert gtin.parse(code).restricted is restricted


def test_gtin14_pack_indicator():
    assert gtin.parse("10012345678902").pack_indicator == 1
    assert gtin.parse("4006381333931").pack_indicator == 0


def _rec(pk, codes=(), day=1, **kw):
    return duplicates.Record(id=pk, gtins=frozenset(codes), created_at=datetime(2025, 1, day, tzinfo=UTC), **kw)


def test_products_sharing_a_gtin_form_one_group_transitively():
    groups = duplicates.groups([_rec(1, ["a"]), _rec(2, ["a", "b"]), _rec(3, ["b"]), _rec(4, ["c"])])
    assert sorted(groups) == [[1, 2, 3], [4]]


def test_explicit_links_join_groups():
    groups = duplicates.groups([_rec(1, ["a"]), _rec(2, ["b"], links=frozenset({1}))])
    assert groups == [[1, 2]]


def test_canonical_is_explicit_then_most_complete_then_oldest():
    a = _rec(1, ["x"], day=1)
    b = _rec(2, ["x"], day=2, has_description=True, has_image=True)
    c = _rec(3, ["x"], day=3, has_description=True, has_image=True)
    assert duplicates.pick_canonical([a, b, c]) == 2
    assert duplicates.pick_canonical([a, b, c], explicit=3) == 3
    assert duplicates.pick_canonical([a, b, c], explicit=99) == 2


def test_hashing_embeddings_put_related_texts_closer():
    model = embeddings.HashingEmbedder(256)
    m = model.embed(["red running shoes", "blue running shoe", "cast iron skillet", ""])
    assert m.shape == (4, 256) and m.dtype == np.float32
    assert m[0] @ m[1] > m[0] @ m[2] + 0.3
    assert np.allclose(np.linalg.norm(m[:3], axis=1), 1.0, atol=1e-5)
    assert not m[3].any()


def test_hashing_embeddings_are_deterministic_and_ignore_html():
    a = embeddings.HashingEmbedder(128).embed(["<p>Linen &amp; Cotton</p>"])
    b = embeddings.HashingEmbedder(128).embed(["linen & cotton"])
    assert np.allclose(a, b)


def test_top_k_respects_mask_and_order():
    m = embeddings.normalise_rows(np.eye(4, dtype=np.float32) + 0.1)
    rows, scores = embeddings.top_k(m, m[0], 2, mask=np.array([False, True, True, True]))
    assert 0 not in rows and len(rows) == 2 and scores[0] >= scores[1]


def test_model_key_strips_colours_and_sizes():
    a = recommendation_ranking.model_key("Acme", "Slim Fit Jeans Black XL")
    b = recommendation_ranking.model_key("ACME", "slim fit jeans navy xl")
    assert a.key == b.key
    assert recommendation_ranking.same_model_difference(a, b) == ("color", ["black"], ["navy"])
    c = recommendation_ranking.model_key("Acme", "Slim Fit Jeans Black M")
    assert recommendation_ranking.same_model_difference(a, c) == ("size", ["xl"], ["m"])
    other_brand = recommendation_ranking.model_key("Other", "Slim Fit Jeans Navy XL")
    assert recommendation_ranking.same_model_difference(a, other_brand) is None


def test_lift():
    assert recommendation_ranking.lift(10, 20, 20, 100) == 2.5
    assert recommendation_ranking.lift(1, 0, 5, 100) == 0.0


def test_merge_dedupes_in_kind_order_respects_quotas_and_exclusions():
    cands = [Candidate(pk, "similar", 1.0 - pk / 100, "embedding", "Similar product") for pk in range(1, 20)]
    cands += [Candidate(3, "bundle", 5.0, "co_purchase", "Bundle frequently bought together.")]
    cands += [Candidate(50 + i, "same_model", 0.9, "variant_group", "Same model; different color.") for i in range(5)]
    chosen = recommendation_ranking.merge(cands, excluded={1, 2}, limit=10)
    ids = [c.product_id for c in chosen]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert 1 not in ids and 2 not in ids
    assert next(c for c in chosen if c.product_id == 3).kind == "bundle"
    kinds = [c.kind for c in chosen]
    assert kinds[:3] == ["same_model"] * 3 and kinds[3] == "bundle"


def test_unknown_embedding_backend_is_refused():
    with pytest.raises(ValueError, match="unknown embedding backend"):
        embeddings.make_embedder("word2vec")


def test_backend_is_selected_by_setting(settings):
    from catalog import index

    settings.CATALOG_EMBEDDING_BACKEND = "hashing"
    settings.CATALOG_EMBEDDING_DIM = 64
    index._embedders.clear()
    try:
        assert index.embedder().dim == 64 and index.backend_name() == "hashing"
    finally:
        index._embedders.clear()


def test_sentence_transformers_backend_when_installed(settings):
    pytest.importorskip("sentence_transformers")
    model = embeddings.make_embedder("sentence-transformers")
    m = model.embed(["red running shoes", "blue running shoe", "cast iron skillet"])
    assert m.shape == (3, model.dim) and m[0] @ m[1] > m[0] @ m[2]
