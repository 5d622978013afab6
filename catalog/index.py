"""Stored embeddings and the per-tenant in-memory nearest-neighbour index.

Vectors are stored per product (``ProductEmbedding``, float32 bytes) when a
product's text changes, so building an index is one query plus a NumPy
reshape. Each process keeps one index per tenant and rebuilds it when the
tenant's index version (a counter in the shared cache, bumped by every
product or category write) changes, so every web and worker process sees a
write at once. Brute-force cosine over a float32 matrix answers in a few
milliseconds at 100,000 products (NOTES.md), so no pgvector is needed.

The indexes a process keeps are held under ``CATALOG_INDEX_MEMORY_BUDGET_MB``
(catalog/index_cache.py: least recently used tenants out, sizes counted from
the arrays' real ``nbytes`` plus an estimate of the Python lookups), so a
worker that has seen thousands of shops stays bounded; an evicted tenant's next
use rebuilds its index from the stored vectors (docs/benchmarks.md, "Many
tenants: index memory").
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Min

from apikeys.redis_client import REDIS_ERRORS
from catalog import categorizing, embeddings, recommendation_ranking
from catalog.index_cache import CacheStats, IndexCache
from catalog.models import Category, Product, ProductEmbedding
from tenants.models import Tenant

_I = TypeVar("_I")  # an index kind (ProductIndex, CategoryIndex)

log = logging.getLogger("catalog.index")

_lock = threading.Lock()
_embedders: dict[str, embeddings.Embedder] = {}
DESCRIPTION_CHARS = 300


def backend_name() -> str:
    return getattr(settings, "CATALOG_EMBEDDING_BACKEND", "wordllama")


def embedder() -> embeddings.Embedder:
    """The configured embedder, created once per process (a sentence model is slow to load)."""
    name = backend_name()
    with _lock:
        if name not in _embedders:
            _embedders[name] = embeddings.make_embedder(
                name,
                dim=getattr(settings, "CATALOG_EMBEDDING_DIM", 256),
                model_name=getattr(settings, "CATALOG_EMBEDDING_MODEL", "all-MiniLM-L6-v2"),
            )
        return _embedders[name]


def product_text(*, name: str, brand: str, category: str, description: str) -> str:
    """What a product is embedded from: name, brand, category and the start of the description."""
    return " ".join(
        part for part in (name, brand, category, embeddings.clean_text(description, DESCRIPTION_CHARS)) if part
    )


def _hash(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


# ---- versions (shared cache) -------------------------------------------------


def _tenant_key(tenant: Tenant) -> str:
    # The creation time makes the key unique even where a database reuses a deleted tenant's id.
    return f"{tenant.pk}:{tenant.created_at.timestamp():.6f}"


def _version_key(kind: str, tenant: Tenant) -> str:
    return f"catalog:{kind}-index-version:{_tenant_key(tenant)}"


def _version(kind: str, tenant: Tenant) -> int:
    key = _version_key(kind, tenant)
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, timeout=None)
        value = cache.get(key) or 1
    return int(value)


def _bump(kind: str, tenant: Tenant) -> None:
    key = _version_key(kind, tenant)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, timeout=None)


# A write that names its products records them under the version it creates, so a process holding an
# older index reloads only those rows (index._apply_delta); versions without a record (a write that did
# not say, a category change, an expired record) mean a full rebuild.
DELTA_TTL = 24 * 3600
MAX_DELTA_VERSIONS = 100  # further behind than this, a rebuild reads less than the deltas would
MAX_DELTA_SHARE = 0.2  # more than this share of the catalog changed: rebuild


def _delta_key(tenant: Tenant, version: int) -> str:
    return f"catalog:product-index-delta:{_tenant_key(tenant)}:{version}"


# Tenants whose change notice this process could not deliver (Redis down): its next notice for them asks
# every process for a full rebuild, so the products of the lost notice are not left stale.
_undelivered: set[int] = set()


def products_changed(tenant: Tenant, product_ids: Iterable[int] | None = None) -> None:
    """Tell every process that the tenant's products changed (call after product writes, on commit).

    ``product_ids``: the products written (created, updated or deleted), whose
    indexed fields (name, brand, status, category, cluster, variant prices,
    embedding) may have changed; other processes then update just those rows.
    None: anything may have changed (every process rebuilds its index).
    Runs after the commit: a cache (Redis) failure is logged, never raised.
    """
    try:
        _products_changed(tenant, None if tenant.pk in _undelivered else product_ids)
    except REDIS_ERRORS as exc:
        _undelivered.add(tenant.pk)
        log.warning("product index change of tenant %s not announced (cache unavailable: %s)", tenant.pk, exc)
    else:
        _undelivered.discard(tenant.pk)


def _products_changed(tenant: Tenant, product_ids: Iterable[int] | None) -> None:
    key = _version_key("product", tenant)
    try:
        version = cache.incr(key)
    except ValueError:
        version = 2
        cache.set(key, version, timeout=None)
    if product_ids is not None:
        cache.set(_delta_key(tenant, version), sorted({int(pk) for pk in product_ids}), timeout=DELTA_TTL)


def _changed_since(tenant: Tenant, current: ProductIndex, version: int) -> list[int] | None:
    """The products written between ``current``'s version and ``version``; None when a rebuild is needed."""
    if current.raw is None or not current.version < version <= current.version + MAX_DELTA_VERSIONS:
        return None
    keys = [_delta_key(tenant, v) for v in range(current.version + 1, version + 1)]
    found = cache.get_many(keys)
    if len(found) != len(keys):
        return None
    changed = sorted({pk for ids in found.values() for pk in ids})
    return changed if len(changed) <= MAX_DELTA_SHARE * max(len(current.ids), 1) else None


def categories_changed(tenant: Tenant) -> None:
    """Invalidate every process's category and product indexes (product texts include category names)."""
    try:
        _bump("category", tenant)
        _bump("product", tenant)
    except REDIS_ERRORS as exc:
        log.warning("category index change of tenant %s not announced (cache unavailable: %s)", tenant.pk, exc)


# ---- product embeddings -------------------------------------------------------


def embeddings_refresh(*, tenant: Tenant, product_ids: list[int] | None = None, missing_only: bool = False) -> int:
    """(Re-)embed the tenant's products whose text changed since they were embedded; returns how many.

    ``product_ids`` limits the work to those products (None: all of them);
    ``missing_only`` skips products that have a vector already (writes keep those current).
    """
    backend = backend_name()
    products = Product.objects.for_tenant(tenant)
    if product_ids is not None:
        products = products.filter(pk__in=product_ids)
    if missing_only:
        embedded = ProductEmbedding.objects.for_tenant(tenant).filter(backend=backend).values("product_id")
        products = products.exclude(pk__in=embedded)
    rows = list(products.values_list("pk", "name", "brand", "category__en_name", "description"))
    if not rows:  # every cold index build asks (missing_only): nothing to embed, no second query
        return 0
    existing = dict(
        ProductEmbedding.objects.for_tenant(tenant)
        .filter(backend=backend, product_id__in=[r[0] for r in rows] if product_ids is not None else products)
        .values_list("product_id", "text_hash")
    )
    todo = []
    for pk, name, brand, category, description in rows:
        text = product_text(name=name, brand=brand, category=category or "", description=description)
        digest = _hash(text)
        if existing.get(pk) != digest:
            todo.append((pk, text, digest))
    if not todo:
        return 0
    model = embedder()
    batch = 2000
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = model.embed([t[1] for t in chunk])
        ProductEmbedding.objects.bulk_create(
            [
                ProductEmbedding(
                    tenant=tenant,
                    product_id=pk,
                    backend=backend,
                    dim=vectors.shape[1],
                    vector=vectors[i].tobytes(),
                    text_hash=digest,
                )
                for i, (pk, _, digest) in enumerate(chunk)
            ],
            update_conflicts=True,
            unique_fields=["product", "backend"],
            update_fields=["vector", "dim", "text_hash", "updated_at"],
        )
    return len(todo)


# ---- product index ------------------------------------------------------------


@dataclass
class ProductIndex:
    """Every product of a tenant as rows of arrays, plus the TF-IDF-weighted embedding matrix."""

    version: int
    ids: np.ndarray  # internal ids, int64
    external_ids: np.ndarray
    matrix: np.ndarray  # (n, dim) float32, rows normalised
    idf: np.ndarray | None
    eligible: np.ndarray  # bool: active and status "active" (may be recommended)
    cluster: np.ndarray  # cluster id or -1
    category: np.ndarray  # category id or -1
    price: np.ndarray  # lowest variant price or NaN
    keys: list[recommendation_ranking.ModelKey]
    row_of: dict[int, int] = field(default_factory=dict)
    by_model: dict[str, list[int]] = field(default_factory=dict)
    category_rows: dict[int, np.ndarray] = field(default_factory=dict)  # category id -> its rows, ascending
    raw: np.ndarray | None = None  # the stored vectors before TF-IDF: a delta re-weighs them
    _matrix64: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Made with the index (not on first use) so the memory budget counts it when the index is stored:
        # every use of a product index computes similarities, so nothing is made that would go unused.
        if self._matrix64 is None:
            self._matrix64 = self.matrix.astype(np.float64)

    def query_vector(self, row: int) -> np.ndarray:
        return self.matrix[row]

    def similarities(self, rows: np.ndarray | list[int], cols: np.ndarray | None = None) -> np.ndarray:
        """Cosine of each of ``rows`` with every row (or with ``cols``): float32 (len(rows), n or len(cols)).

        Computed in float64 and rounded to float32: BLAS sums a matrix-vector
        product (one product) and a matrix-matrix product (a block of products
        in the batch) in different orders, which in float32 changes the last
        bits and could reorder near-ties. Products of float32 values are exact
        in float64 and its rounding error is far below float32's resolution,
        so both paths get the same scores and the same recommendations.
        """
        m = self._matrix64
        other = m if cols is None else m[cols]
        return (m[np.asarray(rows)] @ other.T).astype(np.float32)


_ROW_FIELDS = ("pk", "external_id", "active", "status", "cluster_id", "category_id", "min_price", "brand", "name")


@dataclass
class _Rows:
    """Products as column arrays, ordered by id: what an index is assembled from."""

    ids: np.ndarray
    external_ids: np.ndarray
    eligible: np.ndarray
    cluster: np.ndarray
    category: np.ndarray
    price: np.ndarray
    keys: list[recommendation_ranking.ModelKey]
    raw: np.ndarray  # (n, dim) float32 stored vectors, before TF-IDF

    def take(self, rows: np.ndarray) -> _Rows:
        return _Rows(
            self.ids[rows],
            self.external_ids[rows],
            self.eligible[rows],
            self.cluster[rows],
            self.category[rows],
            self.price[rows],
            [self.keys[int(r)] for r in rows],
            self.raw[rows],
        )


def _load_rows(tenant: Tenant, product_ids: list[int] | None = None) -> _Rows:
    """The indexed fields and stored vectors of the tenant's products (all, or ``product_ids``), by id."""
    embeddings_refresh(tenant=tenant, product_ids=product_ids, missing_only=True)
    backend = backend_name()
    products = Product.objects.for_tenant(tenant)
    vectors = ProductEmbedding.objects.for_tenant(tenant).filter(backend=backend)
    if product_ids is not None:
        products = products.filter(pk__in=product_ids)
        vectors = vectors.filter(product_id__in=product_ids)
    rows = list(products.annotate(min_price=Min("variants__price")).order_by("pk").values_list(*_ROW_FIELDS))
    blobs = dict(vectors.values_list("product_id", "vector"))
    dim = embedder().dim
    # One copy of all the vectors' bytes into the matrix (a missing or stale-sized vector is a zero row)
    # instead of an array per product: this loop was a tenth of a cold build.
    zero = bytes(dim * 4)
    joined = bytearray().join(
        blob if blob is not None and len(blob) == dim * 4 else zero for blob in (blobs.get(r[0]) for r in rows)
    )
    raw = np.frombuffer(joined, dtype=np.float32).reshape(len(rows), dim)
    return _Rows(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        external_ids=np.array([r[1] for r in rows], dtype=np.int64),
        eligible=np.array([bool(r[2]) and r[3] == "active" for r in rows], dtype=bool),
        cluster=np.array([r[4] if r[4] is not None else -1 for r in rows], dtype=np.int64),
        category=np.array([r[5] if r[5] is not None else -1 for r in rows], dtype=np.int64),
        price=np.array([float(r[6]) if r[6] is not None else np.nan for r in rows], dtype=np.float64),
        keys=[recommendation_ranking.model_key(r[7], r[8]) for r in rows],
        raw=raw,
    )


def _assemble(rows: _Rows, version: int) -> ProductIndex:
    """The index of ``rows``: IDF weights from the rows themselves, then the lookups."""
    n = len(rows.ids)
    idf = embeddings.idf_weights(rows.raw) if backend_name() == "hashing" and n else None
    index = ProductIndex(
        version=version,
        ids=rows.ids,
        external_ids=rows.external_ids,
        matrix=embeddings.tfidf(rows.raw, idf),
        idf=idf,
        eligible=rows.eligible,
        cluster=rows.cluster,
        category=rows.category,
        price=rows.price,
        keys=rows.keys,
        raw=rows.raw,
    )
    index.row_of = {int(pk): i for i, pk in enumerate(index.ids)}
    for i, key in enumerate(index.keys):
        index.by_model.setdefault(key.key, []).append(i)
    index.category_rows = _group_rows(index.category)
    return index


def _build_product_index(tenant: Tenant, version: int) -> ProductIndex:
    return _assemble(_load_rows(tenant), version)


def _apply_delta(tenant: Tenant, current: ProductIndex, changed: list[int], version: int) -> ProductIndex:
    """``current`` with the rows of ``changed`` products reloaded (added, updated or dropped when deleted).

    Only the changed products are read from the database; the other rows come
    from ``current``. The IDF weights and the TF-IDF matrix are recomputed from
    all rows (NumPy, a fraction of a second at 100,000 products), so the result
    is the index a full build would give, bit for bit.
    """
    new = _load_rows(tenant, changed)
    rows = np.array([current.row_of.get(int(pk), -1) for pk in new.ids], dtype=np.int64)
    if len(new.ids) == len(changed) and (rows >= 0).all() and np.array_equal(current.raw[rows], new.raw):
        return _patch(current, rows, new, version)
    kept = np.flatnonzero(~np.isin(current.ids, np.asarray(changed, dtype=np.int64)))
    old = _Rows(
        current.ids,
        current.external_ids,
        current.eligible,
        current.cluster,
        current.category,
        current.price,
        current.keys,
        current.raw,
    ).take(kept)
    both = _Rows(
        np.concatenate([old.ids, new.ids]),
        np.concatenate([old.external_ids, new.external_ids]),
        np.concatenate([old.eligible, new.eligible]),
        np.concatenate([old.cluster, new.cluster]),
        np.concatenate([old.category, new.category]),
        np.concatenate([old.price, new.price]),
        old.keys + new.keys,
        np.concatenate([old.raw, new.raw]) if len(new.ids) else old.raw,
    )
    return _assemble(both.take(np.argsort(both.ids, kind="stable")), version)


def _patch(current: ProductIndex, rows: np.ndarray, new: _Rows, version: int) -> ProductIndex:
    """``current`` with ``rows`` replaced by ``new``, when no product was added or dropped and no vector changed
    (a price, status, category or cluster write): the vectors, TF-IDF weights and row numbers stay as they are,
    so only the small per-row arrays are copied (``current`` may be in use by another thread)."""

    def patched(values: np.ndarray, update: np.ndarray) -> np.ndarray:
        out = values.copy()
        out[rows] = update
        return out

    keys = list(current.keys)
    for row, key in zip(rows, new.keys, strict=True):
        keys[int(row)] = key
    category = patched(current.category, new.category)
    index = replace(
        current,
        version=version,
        external_ids=patched(current.external_ids, new.external_ids),
        eligible=patched(current.eligible, new.eligible),
        cluster=patched(current.cluster, new.cluster),
        category=category,
        price=patched(current.price, new.price),
        keys=keys,
    )
    if any(current.keys[int(row)] != keys[int(row)] for row in rows):
        index.by_model = {}
        for i, key in enumerate(keys):
            index.by_model.setdefault(key.key, []).append(i)
    if not np.array_equal(category, current.category):
        index.category_rows = _group_rows(category)
    return index


def _group_rows(values: np.ndarray) -> dict[int, np.ndarray]:
    """value -> the rows holding it, ascending (one stable sort instead of a scan per value)."""
    if not values.size:
        return {}
    order = np.argsort(values, kind="stable")
    uniques, starts = np.unique(values[order], return_index=True)
    return {int(v): rows for v, rows in zip(uniques, np.split(order, starts[1:]), strict=True)}


def product_index(tenant: Tenant) -> ProductIndex:
    """The tenant's product index, rebuilt only when a write has changed the tenant's products.

    Kept in this process under the memory budget (``_indexes``): a tenant evicted since its last use, or
    never seen, is built from the stored vectors (a cold build).
    """

    def build(current: ProductIndex | None, version: int) -> ProductIndex:
        changed = _changed_since(tenant, current, version) if current is not None else None
        if changed is not None:
            return _apply_delta(tenant, current, changed, version)
        return _build_product_index(tenant, version)

    return _kept("product", tenant, build)


def _kept(kind: str, tenant: Tenant, build: Callable[[_I | None, int], _I]) -> _I:
    """The tenant's ``kind`` index as kept in ``_indexes`` if it is at the current version, else
    ``build(the kept one or None, current version)``, kept under the memory budget."""
    version = _version(kind, tenant)
    key = (kind, _tenant_key(tenant))
    current = _indexes.get(key)
    if current is not None and current.version == version:
        _indexes.count("hits")
        return current
    # One build per index at a time in this process: threads asking for the same index while it is built
    # (the MCP server's, a threaded server's) wait for it and take it instead of each building a copy.
    with _build_lock(key):
        current = _indexes.get(key)
        if current is not None and current.version >= version:
            _indexes.count("hits")
            return current
        _indexes.count("misses" if current is None else "refreshes")
        built = build(current, version)
        if not _indexes.put(key, built) and _indexes.get(key) is None:
            _warn_oversize(tenant, built)
        return built


# One small lock per (kind, tenant) this process has built an index for; kept when the index is evicted
# (a lock is about 100 bytes: 10,000 tenants cost about 2 MB).
_build_locks: dict[tuple[str, str], threading.Lock] = {}


def _build_lock(key: tuple[str, str]) -> threading.Lock:
    with _lock:
        return _build_locks.setdefault(key, threading.Lock())


# ---- category index -----------------------------------------------------------


@dataclass
class CategoryIndex:
    """A tenant's category tree ready for suggestions: the rows' ids and the categorizer built over them."""

    version: int
    ids: np.ndarray  # category pk per node row
    full_external_ids: list[str]
    categorizer: categorizing.Categorizer
    row_of: dict[int, int] = field(default_factory=dict)  # category pk -> node row


def _build_category_index(tenant: Tenant, version: int) -> CategoryIndex:
    rows = list(
        Category.objects.for_tenant(tenant)
        .order_by("pk")
        .values_list("pk", "parent_id", "en_name", "en_description", "full_external_id", "name")
    )
    row_of = {r[0]: i for i, r in enumerate(rows)}
    nodes = [
        categorizing.Node(
            name=en_name or name, description=en_description, parent=row_of.get(parent) if parent else None
        )
        for _, parent, en_name, en_description, _, name in rows
    ]
    return CategoryIndex(
        version=version,
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        full_external_ids=[r[4] for r in rows],
        categorizer=categorizing.Categorizer(nodes, embedder().embed),
        row_of=row_of,
    )


def category_index(tenant: Tenant) -> CategoryIndex:
    """The tenant's category index (categories embedded from their path, en_name and en_description)."""
    return _kept("category", tenant, lambda current, version: _build_category_index(tenant, version))


# ---- the per-process cache of indexes -------------------------------------------


def _budget_bytes() -> int | None:
    """CATALOG_INDEX_MEMORY_BUDGET_MB in bytes; None (unbounded) when it is 0."""
    mb = float(getattr(settings, "CATALOG_INDEX_MEMORY_BUDGET_MB", 1024))
    return int(mb * 1024 * 1024) if mb > 0 else None


def _arrays_nbytes(arrays: Iterable[np.ndarray | None]) -> int:
    """The bytes of the arrays' buffers, each buffer once (the matrix may be the stored vectors themselves,
    and the category row lists are views of one array)."""
    seen: dict[int, int] = {}
    for a in arrays:
        if a is None:
            continue
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        seen[id(base)] = max(seen.get(id(base), 0), base.nbytes)
    return sum(seen.values())


def _python_nbytes(index: ProductIndex) -> int:
    """An estimate of the Python lookups (row_of, keys, by_model): containers measured, items sampled.

    The ints of row_of and the ModelKey objects and their strings are Python objects of about 400 bytes per
    product, a tenth of an index at 256 dimensions: left out, the budget would undercount by that much."""
    n = len(index.keys)
    if not n:
        return 0
    sample = index.keys[:: max(1, n // 64)]
    per_key = sum(sys.getsizeof(k) + sys.getsizeof(k.key) for k in sample) / len(sample)
    # the colour and size sets are shared between keys (recommendation_ranking._shared): counted once each
    shared_sets = {id(s): sys.getsizeof(s) for k in sample for s in (k.colours, k.sizes)}
    ints = 2 * 32 * len(index.row_of)  # a key and a value int per row (small ints are shared; most ids are not)
    return int(
        sys.getsizeof(index.keys)
        + n * per_key
        + sum(shared_sets.values())
        + sys.getsizeof(index.row_of)
        + ints
        + sys.getsizeof(index.by_model)
        + sum(sys.getsizeof(rows) for rows in index.by_model.values())
        + sys.getsizeof(index.category_rows)
    )


def index_nbytes(index: ProductIndex | CategoryIndex) -> int:
    """What keeping ``index`` costs: its arrays' buffers plus an estimate of its Python objects."""
    if isinstance(index, ProductIndex):
        arrays = [
            index.ids,
            index.external_ids,
            index.matrix,
            index.idf,
            index.eligible,
            index.cluster,
            index.category,
            index.price,
            index.raw,
            index._matrix64,
            *index.category_rows.values(),
        ]
        return _arrays_nbytes(arrays) + _python_nbytes(index)
    cat = index.categorizer
    holders = [cat, getattr(cat, "chars", None)]
    arrays = [index.ids, *(v for h in holders if h is not None for v in getattr(h, "__dict__", {}).values())]
    nodes = sum(sys.getsizeof(n.name) + sys.getsizeof(n.description) + 64 for n in cat.nodes)
    nodes += sys.getsizeof(getattr(getattr(cat, "chars", None), "vocab", {}))
    return _arrays_nbytes(a for a in arrays if isinstance(a, np.ndarray)) + nodes + 200 * len(index.row_of)


# One cache for both kinds of index (keys ("product" | "category", tenant)), under one budget.
_indexes: IndexCache[ProductIndex | CategoryIndex] = IndexCache(
    budget=_budget_bytes, size=index_nbytes, version=lambda index: index.version
)
# The names callers (tests, benches) clear the indexes through.
_product_indexes = _category_indexes = _indexes
_oversize_warned: set[str] = set()


def _warn_oversize(tenant: Tenant, index: ProductIndex | CategoryIndex) -> None:
    """Log once per tenant and process that its index is larger than the whole budget (rebuilt on each use)."""
    if _tenant_key(tenant) in _oversize_warned:
        return
    _oversize_warned.add(_tenant_key(tenant))
    log.warning(
        "the %s index of tenant %s (%.1f MB) is larger than CATALOG_INDEX_MEMORY_BUDGET_MB (%s): served, not kept;"
        " raise the budget above the largest tenant's index",
        type(index).__name__,
        tenant.pk,
        index_nbytes(index) / 1e6,
        getattr(settings, "CATALOG_INDEX_MEMORY_BUDGET_MB", None),
    )


def cache_stats() -> CacheStats:
    """This process's index cache: entries, bytes, budget, hits, misses, refreshes, evictions, oversize."""
    return _indexes.stats()
