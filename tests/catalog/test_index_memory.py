"""The per-process index cache under a memory budget: least recently used tenants out, the budget never
exceeded after a store, an index larger than the budget served but not kept, writes still seen at once
(the version counter), and threads sharing the cache without corrupting its accounting."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import numpy as np
import pytest

from catalog import index
from catalog.index_cache import IndexCache
from tenants.services import tenant_create
from tests import factories


@dataclass
class Value:
    size: int
    version: int = 1


def cache_of(budget: int | None) -> IndexCache[Value]:
    return IndexCache(budget=lambda: budget, size=lambda v: v.size, version=lambda v: v.version)


def test_the_least_recently_used_value_goes_first():
    cache = cache_of(300)
    for key in "abc":
        assert cache.put(key, Value(100))
    assert cache.get("a") is not None  # "a" is now the most recently used: "b" is the oldest
    cache.put("d", Value(100))
    assert cache.keys() == ["c", "a", "d"]
    cache.put("e", Value(150))  # needs two evictions: "c" then "a"
    assert cache.keys() == ["d", "e"]
    assert cache.stats().evictions == 3


def test_the_budget_holds_after_every_store():
    budget = 10_000
    cache = cache_of(budget)
    rng = random.Random(3)
    for _ in range(500):
        cache.put(rng.randrange(60), Value(rng.randrange(1, 4000)))
        if rng.random() < 0.5:
            cache.get(rng.randrange(60))
        stats = cache.stats()
        assert stats.bytes <= budget
        assert stats.bytes == sum(size for _, size in cache._entries.values())
        assert stats.entries == len(cache.keys())


def test_a_value_larger_than_the_budget_is_not_kept_and_evicts_nothing():
    cache = cache_of(1000)
    cache.put("small", Value(400))
    assert cache.put("huge", Value(1001)) is False
    assert cache.keys() == ["small"]
    assert cache.stats().oversize == 1 and cache.stats().evictions == 0


def test_a_replaced_value_is_counted_once_and_an_older_build_never_replaces_a_newer():
    cache = cache_of(1000)
    cache.put("t", Value(300, version=2))
    cache.put("t", Value(500, version=3))
    assert cache.stats().bytes == 500
    assert cache.put("t", Value(100, version=2)) is False  # a slower thread's older build
    assert cache.get("t").version == 3


def test_no_budget_keeps_everything():
    cache = cache_of(None)
    for key in range(100):
        cache.put(key, Value(10**9))
    assert len(cache) == 100 and cache.stats().evictions == 0


def test_threads_sharing_the_cache_keep_its_accounting_exact():
    budget = 50_000
    cache = cache_of(budget)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(3000):
                key = rng.randrange(40)
                if rng.random() < 0.6:
                    found = cache.get(key)
                    assert found is None or isinstance(found, Value)
                else:
                    cache.put(key, Value(rng.randrange(1, 9000), version=rng.randrange(3)))
        except BaseException as exc:  # reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stats = cache.stats()
    assert stats.bytes <= budget
    assert stats.bytes == sum(size for _, size in cache._entries.values())


# ---- the product index in the cache ------------------------------------------------


def shop(tenant, n: int, start: int) -> list:
    products = [
        factories.product(tenant, external_id=start + i, name=f"Lamp {i}", brand="Lumo", description="a desk lamp")
        for i in range(n)
    ]
    for p in products:
        factories.variant(p, price="12.00")
    return products


def test_an_index_s_size_counts_each_array_buffer_once(tenant_a):
    shop(tenant_a, 6, 71_000)
    idx = index.product_index(tenant_a)
    size = index.index_nbytes(idx)
    arrays = idx.matrix.nbytes + idx._matrix64.nbytes + idx.ids.nbytes
    assert size >= arrays
    # the vectors are stored once whether the matrix is the stored vectors themselves (no TF-IDF) or not
    assert size < arrays + idx.raw.nbytes * (1 if idx.matrix is idx.raw else 2) + 64 * 1024
    assert index.cache_stats().bytes == size


def test_an_evicted_tenant_is_built_again_on_its_next_use(tenant_a, tenant_b, settings, monkeypatch):
    shop(tenant_a, 5, 72_000)
    shop(tenant_b, 5, 73_000)
    first = index.product_index(tenant_a)
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = index.index_nbytes(first) * 1.5 / (1024 * 1024)  # one index fits
    index._indexes.clear()
    builds: list[int] = []
    real = index._build_product_index
    monkeypatch.setattr(index, "_build_product_index", lambda t, v: builds.append(t.pk) or real(t, v))

    index.product_index(tenant_a)
    index.product_index(tenant_a)  # warm: no build
    index.product_index(tenant_b)  # evicts tenant A
    again = index.product_index(tenant_a)  # cold again: built from the stored vectors

    assert builds == [tenant_a.pk, tenant_b.pk, tenant_a.pk]
    stats = index.cache_stats()
    assert (stats.hits, stats.misses, stats.evictions, stats.entries) == (1, 3, 2, 1)
    assert stats.bytes <= stats.budget
    np.testing.assert_array_equal(again.matrix, first.matrix)  # the same index as before the eviction


def test_threads_asking_for_one_index_while_it_is_built_share_one_build(tenant_a, monkeypatch):
    index._indexes.clear()
    built = index.product_index(tenant_a)
    index._indexes.clear()
    builds: list[str] = []
    gets = threading.Semaphore(0)
    real_get = index._indexes.get

    def get(key):
        gets.release()
        return real_get(key)

    def build(tenant, version):
        builds.append(threading.current_thread().name)
        # the other thread has looked in the cache (and found nothing) before this build ends
        assert gets.acquire(timeout=10) and gets.acquire(timeout=10)
        return built

    monkeypatch.setattr(index._indexes, "get", get)
    monkeypatch.setattr(index, "_build_product_index", build)
    answers: list[object] = []
    threads = [threading.Thread(target=lambda: answers.append(index.product_index(tenant_a))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(builds) == 1 and answers == [built, built]


def test_a_write_is_still_seen_by_a_kept_index(tenant_a):
    products = shop(tenant_a, 4, 74_000)
    before = index.product_index(tenant_a)
    added = factories.product(tenant_a, external_id=74_100, name="Lamp shade", brand="Lumo")
    index.products_changed(tenant_a, [added.pk])
    after = index.product_index(tenant_a)
    assert after.version > before.version and added.pk in after.row_of and products[0].pk in after.row_of
    assert index.product_index(tenant_a) is after
    stats = index.cache_stats()
    assert (stats.misses, stats.refreshes, stats.hits, stats.entries) == (1, 1, 1, 1)


def test_an_index_larger_than_the_budget_is_served_not_kept(tenant_a, settings, caplog):
    products = shop(tenant_a, 5, 75_000)
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = 1 / 1024  # 1 KB: smaller than any index
    idx = index.product_index(tenant_a)
    assert set(idx.row_of) == {p.pk for p in products}
    stats = index.cache_stats()
    assert (stats.entries, stats.bytes, stats.oversize) == (0, 0, 1)
    assert "larger than CATALOG_INDEX_MEMORY_BUDGET_MB" in caplog.text


def test_a_budget_of_zero_is_unbounded(settings):
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = 0
    assert index._budget_bytes() is None
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = 2
    assert index._budget_bytes() == 2 * 1024 * 1024


@pytest.mark.django_db
def test_many_tenants_stay_under_the_budget(settings):
    tenants = [tenant_create(domain=f"many-{i}.example", name=f"Shop {i}", plan="enterprise") for i in range(6)]
    for i, t in enumerate(tenants):
        shop(t, 3 + i, 76_000 + 100 * i)
    sizes = [index.index_nbytes(index.product_index(t)) for t in tenants]
    index._indexes.clear()
    settings.CATALOG_INDEX_MEMORY_BUDGET_MB = sum(sizes[:3]) / (1024 * 1024)
    for t in tenants:
        index.product_index(t)
        assert index.cache_stats().bytes <= index._budget_bytes()
    assert index.cache_stats().evictions >= 2
    assert ("product", index._tenant_key(tenants[-1])) in index._indexes


def test_readyz_shows_this_process_s_index_cache(client, tenant_a):
    shop(tenant_a, 3, 77_000)
    index.product_index(tenant_a)
    cache = client.get("/readyz").json()["checks"]["index_cache"]
    assert cache["entries"] == 1 and cache["misses"] == 1
    assert cache["bytes"] == index.index_nbytes(index.product_index(tenant_a))
    assert cache["budget"] == index._budget_bytes()
