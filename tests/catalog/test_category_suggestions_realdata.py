"""Category suggestion on small samples of real shop data (../shared/data/realdata; skipped when absent).

The bench (bench/catalog_quality.py) runs the full sets; these keep a sample of 100 Flipkart titles.
"""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import pytest

from catalog import categorizing, embeddings
from catalog.embeddings import WordLlamaEmbedder

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realdata"
FLIPKART = DATA / "labelled_titles" / "flipkart_1050_titles.csv"

pytestmark = pytest.mark.skipif(not FLIPKART.is_file(), reason="real data (../shared/data/realdata) not present")


@pytest.fixture(scope="module")
def sample():
    """Every 10th of the 1,050 labelled titles (100 products over all 7 departments), the tree of all 62 leaves."""
    with open(FLIPKART, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    paths = [tuple(json.loads(r["product_category_tree"])[0].split(" >> ")[:2]) for r in rows]
    roots = sorted({p[0] for p in paths})
    leaves = sorted(set(paths))
    nodes = [categorizing.Node(r) for r in roots] + [
        categorizing.Node(leaf, parent=roots.index(r)) for r, leaf in leaves
    ]
    picked = list(range(0, len(rows), 10))[:100]
    products = [
        categorizing.ProductText(rows[i]["product_name"], rows[i]["brand"], rows[i]["description_600"]) for i in picked
    ]
    gold = [len(roots) + leaves.index(paths[i]) for i in picked]
    return nodes, products, gold


@pytest.fixture(scope="module")
def embedder():
    return WordLlamaEmbedder()


def top1(ranked, gold) -> float:
    return sum(r[0][0] == g for r, g in zip(ranked, gold, strict=True)) / len(gold)


def baseline_top1(nodes, products, gold) -> float:
    from bench.catalog_quality import baseline_rank

    leaves = [i for i, n in enumerate(nodes) if n.parent is not None]
    paths = [f"{nodes[nodes[i].parent].name} > {nodes[i].name}" for i in leaves]
    ranked = baseline_rank(paths, [p.title for p in products])
    return sum(leaves[order[0]] == g for order, g in zip(ranked, gold, strict=True)) / len(gold)


def test_zero_shot_beats_the_char_tfidf_baseline_on_100_real_titles(sample, embedder):
    nodes, products, gold = sample
    ours = top1(categorizing.Categorizer(nodes, embedder.embed).rank(products), gold)
    assert ours > baseline_top1(nodes, products, gold) + 0.05, ours


def test_zero_shot_beats_hashed_ngrams_on_100_real_titles(sample, embedder):
    nodes, products, gold = sample
    ours = top1(categorizing.Categorizer(nodes, embedder.embed).rank(products), gold)
    hashed = top1(categorizing.Categorizer(nodes, embeddings.HashingEmbedder().embed).rank(products), gold)
    assert ours > hashed, (ours, hashed)


def test_the_shops_own_assignments_improve_the_rest(sample, embedder):
    nodes, products, gold = sample
    categorizer = categorizing.Categorizer(nodes, embedder.embed)
    labelled, rest = list(range(0, 100, 3)), [i for i in range(100) if i % 3]
    alone = top1(categorizer.rank([products[i] for i in rest]), [gold[i] for i in rest])
    learnt = categorizer.rank(
        [products[i] for i in rest], labelled=[products[i] for i in labelled], labels=[gold[i] for i in labelled]
    )
    assert top1(learnt, [gold[i] for i in rest]) > alone + 0.1


def test_labels_on_inner_nodes_are_ignored(sample, embedder):
    nodes, products, _ = sample
    categorizer = categorizing.Categorizer(nodes, embedder.embed)
    plain = categorizer.rank(products[:5])
    with_root_labels = categorizer.rank(products[:5], labelled=products[5:10], labels=[0] * 5)  # node 0: a root
    assert with_root_labels == plain


def test_wordllama_loads_from_the_package_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access while loading the embedder")

    with monkeypatch.context() as blocked:  # undone before other fixtures (Redis) tear down
        blocked.setattr(socket, "socket", refuse)
        blocked.setattr(socket, "create_connection", refuse)
        blocked.setenv("HF_HUB_OFFLINE", "1")
        model = WordLlamaEmbedder()
        vectors = model.embed(["Ceramic coffee mug", "Coffee Mugs", "Two-way radio", ""])
    assert vectors.shape == (4, 256)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert not vectors[3].any()


def test_scores_calibrated_on_the_shops_labels_match_the_held_out_accuracy(sample, embedder):
    """With 60 labelled products the score is the held-out accuracy of its raw-score step: on the other 40
    products the mean score is near the share actually right (40 products: a loose bound)."""
    nodes, products, gold = sample
    categorizer = categorizing.Categorizer(nodes, embedder.embed)
    labelled, rest = list(range(60)), list(range(60, 100))
    kw = {"labelled": [products[i] for i in labelled], "labels": [gold[i] for i in labelled]}
    reliability = categorizing.reliability(categorizer, **kw)
    assert reliability.measured == 60 and list(reliability.values) == sorted(reliability.values)
    ranked = categorizer.rank([products[i] for i in rest], **kw)
    right = top1(ranked, [gold[i] for i in rest])
    calibrated = sum(reliability(r[0][1]) for r in ranked) / len(rest)
    assert abs(calibrated - right) < 0.2, (calibrated, right)
