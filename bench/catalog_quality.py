"""Catalog quality on real shop data: category suggestion and "similar product" precision (issue 13).

Run from the repository root with the real data beside the clone (../shared/data/realdata, see its SOURCES.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        python bench/catalog_quality.py            # or: make bench-quality

Everything goes through the public API with Django's test client against the configured database, in the
order a shop meets it: install (a tenant and keys), sync the products (PUT /api/platform/v1/products), then
post the taxonomy one category at a time (POST /api/v3/shop/categories), which queues one refresh of the
suggestions; for the few-shot figure the merchant then assigns 20% of the products
(PATCH /api/v3/products/:id) and asks for a refresh (POST /api/platform/v1/catalog/category-suggestions/refresh);
the answers are read from GET /api/platform/v1/products/:id/category-suggestions. Celery runs eagerly (in
this process). Each data set gets its own tenant, deleted at the end. The figures are written to
docs/benchmarks.md between the "catalog_quality.py" markers (the rest of the file is left alone).

The baseline is computed here, independently of the platform's code: character 3-4-gram TF-IDF (words
padded with spaces, like scikit-learn's ``char_wb``; IDF fitted on the leaves' paths and the titles) and the
nearest leaf path by cosine.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from apikeys.services import api_key_create  # noqa: E402
from catalog import index, recommendation_selectors, tasks  # noqa: E402
from catalog.embeddings import make_embedder  # noqa: E402
from catalog.models import Product  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "realdata"
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- catalog_quality.py: begin -->", "<!-- catalog_quality.py: end -->"
LABELLED_SHARE = 0.2
SEEDS = (1, 2, 3)

# Google Product Taxonomy -> Flipkart department, by path prefix (the longest prefix wins; unmapped counts as
# wrong). The rule, from the two trees' names alone: a Google category maps to the Flipkart department that has
# a leaf naming the same kind of product (where a person would file that leaf's products in Google's tree);
# Google categories of which none of the 62 Flipkart leaves names the kind (Office Supplies, Hardware, Cameras &
# Optics except webcams, Food, Arts & Crafts supplies, ...) stay unmapped. Second revision: the first mapped a
# few Decor subtrees and left their siblings of the same kind out (Window Treatment Accessories beside Window
# Treatments, Ottoman Cushions and Backrest Pillows beside Throw Pillows, Door Mats beside Rugs, Lighting
# Accessories beside Lighting) and left out Flipkart leaves whose kind Google files elsewhere (Housekeeping &
# Laundry, Garden & Leisure, Flowers, Plants & Vases, Beauty Accessories' cosmetic bags, Computer Peripherals'
# webcams). Written from the names and not extended to fit: docs/benchmarks.md gives the figure under both.
GOOGLE_TO_FLIPKART = [
    ("Apparel & Accessories > Jewelry > Watches", "Watches"),
    ("Apparel & Accessories > Jewelry > Watch Accessories", "Watches"),
    ("Apparel & Accessories > Clothing > Baby & Toddler Clothing", "Baby Care"),
    ("Baby & Toddler", "Baby Care"),
    ("Toys & Games", "Baby Care"),
    ("Furniture > Baby & Toddler Furniture", "Baby Care"),
    ("Health & Beauty", "Beauty and Personal Care"),
    ("Luggage & Bags > Cosmetic & Toiletry Bags", "Beauty and Personal Care"),  # Beauty Accessories
    ("Electronics", "Computers"),
    ("Software", "Computers"),
    ("Cameras & Optics > Cameras > Webcams", "Computers"),  # Computer Peripherals
    ("Home & Garden > Kitchen & Dining", "Kitchen & Dining"),
    ("Home & Garden > Household Supplies > Laundry Supplies", "Kitchen & Dining"),  # Housekeeping & Laundry
    ("Home & Garden > Household Supplies > Household Cleaning Supplies", "Kitchen & Dining"),
    ("Home & Garden > Linens & Bedding", "Home Furnishing"),
    ("Home & Garden > Decor > Window Treatments", "Home Furnishing"),  # Curtains & Accessories
    ("Home & Garden > Decor > Window Treatment Accessories", "Home Furnishing"),
    ("Home & Garden > Decor > Rugs", "Home Furnishing"),  # Floor Coverings
    ("Home & Garden > Decor > Door Mats", "Home Furnishing"),
    ("Home & Garden > Decor > Throw Pillows", "Home Furnishing"),  # Cushions, Pillows & Covers
    ("Home & Garden > Decor > Backrest Pillows", "Home Furnishing"),
    ("Home & Garden > Decor > Chair & Sofa Cushions", "Home Furnishing"),
    ("Home & Garden > Decor > Ottoman Cushions", "Home Furnishing"),
    ("Home & Garden > Decor > Slipcovers", "Home Furnishing"),  # Living Room Furnishing
    ("Furniture", "Home Furnishing"),
    ("Home & Garden > Decor", "Home Decor & Festive Needs"),
    ("Home & Garden > Lighting", "Home Decor & Festive Needs"),  # Decorative Lighting & Lamps
    ("Home & Garden > Lighting Accessories", "Home Decor & Festive Needs"),
    ("Home & Garden > Plants", "Home Decor & Festive Needs"),  # Flowers, Plants & Vases
    ("Home & Garden > Lawn & Garden", "Home Decor & Festive Needs"),  # Garden & Leisure
    ("Arts & Entertainment > Party & Celebration", "Home Decor & Festive Needs"),
    ("Religious & Ceremonial", "Home Decor & Festive Needs"),
]


def department(path: str) -> str | None:
    best = None
    for prefix, dept in GOOGLE_TO_FLIPKART:
        if (path == prefix or path.startswith(prefix + " > ")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, dept)
    return best[1] if best else None


# ---- data ------------------------------------------------------------------------------------------


class Dataset:
    """A category tree (ext id -> (name, parent ext id, path)) and products (Shopify shape) with their gold leaf."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.categories: dict[int, tuple[str, int | None, str]] = {}
        self.products: list[dict] = []
        self.gold: dict[int, int] = {}  # product id -> leaf ext id
        self.gold_root: dict[int, str] = {}  # product id -> root name (or department)

    def leaves(self) -> list[int]:
        parents = {p for _, p, _ in self.categories.values() if p is not None}
        return [c for c in self.categories if c not in parents]


def _flipkart_rows() -> list[dict]:
    with open(DATA / "labelled_titles" / "flipkart_1050_titles.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _flipkart_products(rows: list[dict]) -> list[dict]:
    return [
        {
            "id": i + 1,
            "title": r["product_name"][:255],
            "vendor": r["brand"],
            "body_html": r["description_600"],
            "product_type": "",
            "variants": [{"id": (i + 1) * 10, "price": r["discounted_price"] or r["retail_price"] or "1.00"}],
        }
        for i, r in enumerate(rows)
    ]


def flipkart() -> Dataset:
    ds = Dataset("Flipkart, 1,050 titles, 7 departments / 62 leaves")
    rows = _flipkart_rows()
    ds.products = _flipkart_products(rows)
    ids: dict[tuple[str, ...], int] = {}
    for i, r in enumerate(rows):
        path = json.loads(r["product_category_tree"])[0].split(" >> ")[:2]
        for depth in (1, 2):
            key = tuple(path[:depth])
            if key not in ids:
                ids[key] = len(ids) + 1
                parent = ids[key[:-1]] if depth > 1 else None
                ds.categories[ids[key]] = (key[-1], parent, " > ".join(key))
        ds.gold[i + 1] = ids[tuple(path)]
        ds.gold_root[i + 1] = path[0]
    return ds


def google() -> Dataset:
    ds = Dataset("Google Product Taxonomy (5,594 categories), the Flipkart titles")
    rows = _flipkart_rows()
    ds.products = _flipkart_products(rows)
    by_path: dict[str, int] = {}
    for line in (DATA / "taxonomy" / "google_taxonomy-with-ids.en-US.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        gid, path = line.split(" - ", 1)
        parts = path.split(" > ")
        by_path[path] = int(gid)
        parent = by_path[" > ".join(parts[:-1])] if len(parts) > 1 else None
        ds.categories[int(gid)] = (parts[-1], parent, path)
    for i, r in enumerate(rows):
        ds.gold_root[i + 1] = json.loads(r["product_category_tree"])[0].split(" >> ")[0]
    return ds


def _shopify_file(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("products", data) if isinstance(data, dict) else data
    return [items] if isinstance(items, dict) else list(items)


STORES = [
    "shopify_admin/petshop_colombia_subset.json",
    "shopify_admin/toys_egnition_sample.json",
    "shopify_admin/unitedbyblue_demo.json",
    "shopify_admin/teststore_snowboards.json",
    "shopify_storefront/kiidskingdom_products.json",
    "shopify_storefront/mylubie_products.json",
]


def shopify_store(rel: str) -> Dataset | None:
    """A store's products with a flat taxonomy of its own product types; the product types are withheld."""
    products = _shopify_file(DATA / rel)
    types = sorted({(p.get("product_type") or "").strip() for p in products} - {""})
    if len(types) < 2:
        return None
    ds = Dataset(f"{Path(rel).stem} ({len(types)} product types as categories)")
    ext = {t: i + 1 for i, t in enumerate(types)}
    ds.categories = {ext[t]: (t, None, t) for t in types}
    for p in products:
        item = dict(p)
        ptype = (item.get("product_type") or "").strip()
        item["product_type"] = ""
        ds.products.append(item)
        if ptype:
            ds.gold[int(item["id"])] = ext[ptype]
            ds.gold_root[int(item["id"])] = ptype
    return ds


# ---- the API ------------------------------------------------------------------------------------------


class Shop:
    """A throwaway tenant with a write key, driven through the public API."""

    def __init__(self, slug: str) -> None:
        domain = f"bench-quality-{slug}.example"
        Tenant.objects.filter(domain=domain).delete()
        self.tenant = tenant_create(domain=domain, name=f"Bench quality {slug}")
        key = api_key_create(
            tenant=self.tenant, name="bench", permission="write", rate_limit=10_000_000, rate_limit_window=60
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")

    def call(self, method: str, path: str, body=None, expect=(200,)) -> dict:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        response = getattr(self.client, method)(path, **kwargs)
        assert response.status_code in expect, (path, response.status_code, response.content[:300])
        return response.json() if response.content else {}

    def sync(self, products: list[dict]) -> int:
        accepted = 0
        for start in range(0, len(products), 1000):
            result = self.call("put", "/api/platform/v1/products", {"products": products[start : start + 1000]})
            accepted += len(products[start : start + 1000]) - result["counts"]["rejected"]
        return accepted

    def post_categories(self, ds: Dataset) -> int:
        """The taxonomy, parents first; returns how many automatic refreshes the writes queued."""
        queued = []
        refresh = tasks.category_suggestions_refresh
        original = refresh.apply_async
        refresh.apply_async = lambda args, **kw: queued.append(args)  # captured; run below, as a worker would
        try:
            depth = {c: v[2].count(" > ") for c, v in ds.categories.items()}
            for ext in sorted(ds.categories, key=lambda c: (depth[c], c)):
                name, parent, path = ds.categories[ext]
                body = {"external_id": ext, "name": name, "en_name": name, "en_description": path}
                if parent is not None:
                    body["external_parent_id"] = parent
                self.call("post", "/api/v3/shop/categories", {"category": body}, expect=(200, 201))
        finally:
            refresh.apply_async = original
        for args in queued:
            refresh.apply(args)
        return len(queued)

    def suggestions(self, product_id: int) -> dict:
        return self.call("get", f"/api/platform/v1/products/{product_id}/category-suggestions")

    def close(self) -> None:
        Tenant.objects.filter(pk=self.tenant.pk).delete()


@contextmanager
def eager():
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved


# ---- the baseline -------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def _grams(text: str) -> Counter:
    out: Counter = Counter()
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        for n in (3, 4):
            out.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def baseline_rank(leaf_paths: list[str], titles: list[str]) -> list[list[int]]:
    """Per title, leaf indexes by char 3-4-gram TF-IDF cosine, best first."""
    docs = [_grams(t) for t in leaf_paths + titles]
    df: Counter = Counter(g for d in docs for g in d)
    n = len(docs)
    idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items()}

    def vec(d: Counter) -> dict[str, float]:
        v = {g: c * idf[g] for g, c in d.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {g: x / norm for g, x in v.items()}

    leaves = [vec(d) for d in docs[: len(leaf_paths)]]
    postings: dict[str, list[tuple[int, float]]] = {}
    for j, v in enumerate(leaves):
        for g, x in v.items():
            postings.setdefault(g, []).append((j, x))
    out = []
    for d in docs[len(leaf_paths) :]:
        scores = [0.0] * len(leaves)
        for g, x in vec(d).items():
            for j, y in postings.get(g, ()):
                scores[j] += x * y
        out.append(sorted(range(len(leaves)), key=lambda j: -scores[j]))
    return out


# ---- measuring -------------------------------------------------------------------------------------


def _pct(hits: int, total: int) -> float:
    return round(100.0 * hits / total, 1) if total else float("nan")


def score(ranked: dict[int, list[int]], ds: Dataset, root_of) -> dict:
    ids = [pid for pid in ranked if pid in ds.gold_root]
    top1 = sum(1 for pid in ids if pid in ds.gold and ranked[pid][:1] == [ds.gold[pid]])
    top3 = sum(1 for pid in ids if pid in ds.gold and ds.gold[pid] in ranked[pid][:3])
    roots = sum(1 for pid in ids if ranked[pid] and root_of(ranked[pid][0]) == ds.gold_root[pid])
    labelled = sum(1 for pid in ids if pid in ds.gold)
    return {"n": len(ids), "top1": _pct(top1, labelled), "top3": _pct(top3, labelled), "root": _pct(roots, len(ids))}


def root_name(ds: Dataset):
    def root(ext: int) -> str:
        while ds.categories[ext][1] is not None:
            ext = ds.categories[ext][1]
        return ds.categories[ext][0]

    return root


CALIBRATION: dict[str, dict] = {}  # data set -> reliability of the stored scores (filled by api_ranking)


def api_ranking(shop: Shop, product_ids, ds: Dataset | None = None, key: str = "") -> dict[int, list[int]]:
    """The ranked leaves of each product; with ``ds`` and ``key`` also how well the scores are calibrated:
    expected calibration error of the top score (10 equal-width bins) and the precision of the products
    the platform put into a category itself (source "suggested", score above the threshold)."""
    out, pairs, assigned = {}, [], []
    for pid in product_ids:
        body = shop.suggestions(pid)
        out[pid] = [s["category_external_id"] for s in body["suggestions"]]
        if ds is not None and pid in ds.gold and body["suggestions"]:
            right = out[pid][0] == ds.gold[pid]
            pairs.append((body["suggestions"][0]["score"], right))
            if body["source"] == "suggested":
                assigned.append(right)
    if ds is not None and pairs:
        ece = 0.0
        for b in range(10):
            inside = [(c, r) for c, r in pairs if b / 10 <= c < (b + 1) / 10 or (b == 9 and c == 1.0)]
            if inside:
                mean_c = sum(c for c, _ in inside) / len(inside)
                ece += len(inside) / len(pairs) * abs(mean_c - sum(r for _, r in inside) / len(inside))
        CALIBRATION.setdefault(key, []).append(
            {"n": len(pairs), "ece": round(100 * ece, 1), "assigned": len(assigned), "right": sum(assigned)}
        )
    return out


def run_zero_shot(ds: Dataset, slug: str, root_of) -> tuple[dict, dict, dict]:
    """(platform figures, baseline figures, timings) with no product categorised by the merchant."""
    shop = Shop(slug)
    try:
        with eager():
            t0 = time.perf_counter()
            accepted = shop.sync(ds.products)
            t_sync = time.perf_counter() - t0
            t0 = time.perf_counter()
            refreshes = shop.post_categories(ds)
            t_cat = time.perf_counter() - t0
        ids = [p["id"] for p in ds.products if int(p["id"]) in ds.gold_root]
        ids = [pid for pid in ids if Product.objects.for_tenant(shop.tenant).filter(external_id=pid).exists()]
        ranked = api_ranking(shop, ids, ds, slug)
    finally:
        shop.close()
    leaves = ds.leaves()
    titles = {int(p["id"]): p["title"] for p in ds.products}
    base = baseline_rank([ds.categories[c][2] for c in leaves], [titles[pid] for pid in ids])
    base_ranked = {pid: [leaves[j] for j in order[:5]] for pid, order in zip(ids, base, strict=True)}
    timing = {"accepted": accepted, "sync_s": t_sync, "categories_s": t_cat, "refreshes": refreshes}
    return score(ranked, ds, root_of), score(base_ranked, ds, root_of), timing


def run_few_shot(ds: Dataset, slug: str, seed: int) -> dict:
    """Leaf top-1 on the 80% the merchant did not categorise, after it categorised 20% through the API."""
    shop = Shop(f"{slug}-{seed}")
    try:
        with eager():
            shop.sync(ds.products)
            shop.post_categories(ds)
            ids = sorted(ds.gold)
            rng = random.Random(seed)
            rng.shuffle(ids)
            cut = int(len(ids) * LABELLED_SHARE)
            labelled, rest = ids[:cut], ids[cut:]
            for pid in labelled:
                ref = str(ds.gold[pid])  # the external id; the full "L2_..." id works too
                shop.call("patch", f"/api/v3/products/{pid}", {"product": {"category_id": ref}})
            queued = shop.call("post", "/api/platform/v1/catalog/category-suggestions/refresh", expect=(202,))
        ranked = api_ranking(shop, rest, ds, slug)
        kept = sum(shop.suggestions(pid)["source"] == "merchant" for pid in labelled[:50])
    finally:
        shop.close()
    result = score(ranked, ds, root_name(ds))
    result.update(queued=queued["queued"], merchant_kept=kept, checked=min(50, len(labelled)))
    return result


# ---- recommendations -----------------------------------------------------------------------------------


def similar_precision(backend: str) -> list[tuple[str, int, int, int, float]]:
    """Per store: (name, products judged, similar recommendations judged, right, ms per recommend call).

    A "Similar product" recommendation (top five of that kind) is judged right when it has the product's
    own Shopify product_type (both non-empty); the stores are synced with their product types (they are
    the shop's data; no categories are posted, so every product is uncategorised).
    """
    settings.CATALOG_EMBEDDING_BACKEND = backend
    out = []
    for rel in STORES:
        products = _shopify_file(DATA / rel)
        ptype = {int(p["id"]): (p.get("product_type") or "").strip() for p in products}
        shop = Shop(f"rec-{Path(rel).stem[:20]}-{backend}".lower().replace("_", "-"))
        try:
            with eager():
                shop.sync(products)
            index._product_indexes.clear()
            judged = total = right = 0
            took = 0.0
            for product in Product.objects.for_tenant(shop.tenant).filter(active=True, status="active"):
                if not ptype.get(product.external_id):
                    continue
                t0 = time.perf_counter()
                chosen = recommendation_selectors.compute(shop.tenant, product)
                took += time.perf_counter() - t0
                similar = [c for c in chosen if c.kind == "similar"][:5]
                if not similar:
                    continue
                ext = dict(
                    Product.objects.filter(pk__in=[c.product_id for c in similar]).values_list("pk", "external_id")
                )
                judged += 1
                for c in similar:
                    other = ptype.get(ext[c.product_id], "")
                    if other:
                        total += 1
                        right += other == ptype[product.external_id]
            out.append((Path(rel).stem, judged, total, right, 1000 * took / max(judged, 1)))
        finally:
            shop.close()
    return out


def embed_timing() -> dict[str, float]:
    texts = [
        index.product_text(name=r["product_name"], brand=r["brand"], category="", description=r["description_600"])
        for r in _flipkart_rows()[:1000]
    ]
    out = {}
    for backend in ("hashing", "wordllama"):
        model = make_embedder(backend)
        model.embed(texts[:10])
        t0 = time.perf_counter()
        model.embed(texts)
        out[backend] = time.perf_counter() - t0
    return out


# ---- report -----------------------------------------------------------------------------------------


def fmt(r: dict) -> str:
    return f"{r['top1']}% / {r['top3']}% / {r['root']}%"


def write_docs(lines: list[str]) -> None:
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    block = "\n".join([BEGIN, *lines, END])
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-docs", action="store_true", help="print only, do not update docs/benchmarks.md")
    parser.add_argument("--skip-google", action="store_true", help="skip the 5,594-category run (~minutes)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no real data at {DATA} (see the project's docs/benchmarks.md)")
    settings.CATALOG_EMBEDDING_BACKEND = backend = getattr(settings, "CATALOG_EMBEDDING_BACKEND", "wordllama")
    lines = [
        "## catalog_quality.py (real shop data, issue 13)",
        "",
        f"`make bench-quality` ({time.strftime('%Y-%m-%d')}, backend `{backend}`, PostgreSQL, eager Celery, through "
        "the public API: platform sync, Sortillus categories, the suggestions and refresh endpoints). Leaf top-1 / "
        "top-3 / root top-1 of the suggestions; the baseline is character 3-4-gram TF-IDF, nearest leaf path.",
        "",
        "| data set | products | platform | baseline | refreshes queued by the taxonomy upload |",
        "|---|---|---|---|---|",
    ]
    fk = flipkart()
    ours, base, timing = run_zero_shot(fk, "flipkart", root_name(fk))
    print("flipkart zero-shot", ours, "baseline", base, timing, flush=True)
    lines.append(
        f"| {fk.name}, zero-shot | {ours['n']} | {fmt(ours)} | {fmt(base)} | {timing['refreshes']} "
        f"({len(fk.categories)} category writes) |"
    )
    few = [run_few_shot(fk, "flipkart-few", seed) for seed in SEEDS]
    print("flipkart few-shot", few, flush=True)
    mean = round(sum(r["top1"] for r in few) / len(few), 1)
    lines.append(
        f"| {fk.name}, merchant assigned 20% (PATCH), then refresh; scored on the other 80% (seeds "
        f"{', '.join(map(str, SEEDS))}) | {few[0]['n']} | {mean}% leaf top-1 "
        f"({' / '.join(str(r['top1']) for r in few)}), top-3 {few[0]['top3']}%, root {few[0]['root']}% (seed 1) | "
        f"- | refresh answered 202, {few[0]['queued']} queued; merchant categories kept "
        f"{few[0]['merchant_kept']}/{few[0]['checked']} |"
    )
    if not args.skip_google:
        gd = google()
        paths = {c: v[2] for c, v in gd.categories.items()}
        ours, base, timing = run_zero_shot(gd, "google", lambda ext: department(paths[ext]))
        print("google", ours, base, timing, flush=True)
        lines.append(
            f"| {gd.name}, zero-shot, root through the department mapping | {ours['n']} | {ours['root']}% | "
            f"{base['root']}% | {timing['refreshes']} ({len(gd.categories)} category writes in "
            f"{timing['categories_s']:.0f} s) |"
        )
    untyped = []
    for rel in STORES:
        ds = shopify_store(rel)
        if ds is None:
            untyped.append(Path(rel).stem)
            continue
        slug = Path(rel).stem[:24].lower().replace("_", "-")
        ours, base, timing = run_zero_shot(ds, slug, root_name(ds))
        print(ds.name, ours, base, timing, flush=True)
        lines.append(f"| {ds.name}, product_type withheld | {ours['n']} | {fmt(ours)} | {fmt(base)} | - |")
    threshold = float(settings.CATALOG_CATEGORY_THRESHOLD)
    calib = [
        "",
        f"Calibration of the stored scores (threshold {threshold}): expected calibration error of the top "
        "suggestion's score (10 bins), and the products the platform categorised itself (score at or above "
        "the threshold) with how many of them were right.",
        "",
        "| data set | products scored | ECE | auto-assigned | right | precision |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (("flipkart", "Flipkart zero-shot"), ("flipkart-few", "Flipkart, 20% labelled, seed {}")):
        for seed, c in zip(SEEDS, CALIBRATION.get(key, []), strict=False):
            calib.append(
                f"| {label.format(seed)} | {c['n']} | {c['ece']} pts | {c['assigned']} | {c['right']} | "
                f"{_pct(c['right'], c['assigned']) if c['assigned'] else '-'}{'%' if c['assigned'] else ''} |"
            )
    lines += calib
    lines += [
        "",
        f"Without two or more product types, so no category figure: {', '.join(untyped) or 'none'}. "
        "On the Shopify stores the categories are the store's own product types (one level, so root = leaf) and "
        "the products are synced without them. Google: the products are the Flipkart titles, scored by the "
        "Flipkart department of the suggested category's path through `GOOGLE_TO_FLIPKART` in "
        "bench/catalog_quality.py (longest path prefix; unmapped counts as wrong).",
        "",
    ]
    timings = embed_timing()
    lines.append(
        "Embedding 1,000 Flipkart product texts (name, brand, first 300 characters of the description): "
        + ", ".join(f"`{b}` {t * 1000:.0f} ms" for b, t in timings.items())
        + "."
    )
    lines += [
        "",
        '"Similar product" precision: for every active product with a Shopify product_type, the top five '
        'recommendations of kind "Similar product" (`recommendation_selectors.compute`, no orders, no categories) are '
        "judged right when they have the same product_type.",
        "",
        "| store | backend | products judged | recommendations judged | right | precision | ms per product |",
        "|---|---|---|---|---|---|---|",
    ]
    unjudged = set()
    for b in ("hashing", "wordllama"):
        for name, judged, total, right, ms in similar_precision(b):
            print("similar", b, name, judged, total, right, flush=True)
            if not total:
                unjudged.add(name)
                continue
            lines.append(f"| {name} | `{b}` | {judged} | {total} | {right} | {_pct(right, total)}% | {ms:.1f} |")
    if unjudged:
        lines += ["", f"Not judged (no active product with a product_type): {', '.join(sorted(unjudged))}."]
    settings.CATALOG_EMBEDDING_BACKEND = backend
    print("\n".join(lines))
    if not args.no_docs:
        write_docs(lines)


if __name__ == "__main__":
    main()
