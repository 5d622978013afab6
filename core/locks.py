"""Locks in one fixed order, and a write transaction retried once after a deadlock.

Writers that touch several rows of one kind lock them in ascending primary key order before reading what
is stored (``lock_rows``); writers of a tenant-wide structure (the category tree) take one advisory lock
per tenant (``tenant_lock``). A deadlock can still happen between different kinds of writers; PostgreSQL
then aborts one transaction, and ``retry_deadlock`` runs it again once, from the start.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection, models

log = logging.getLogger("core.locks")

P = ParamSpec("P")
R = TypeVar("R")

DEADLOCK = "40P01"  # deadlock_detected
SERIALIZATION = "40001"  # serialization_failure (also raised for some lock conflicts)


def is_deadlock(exc: BaseException) -> bool:
    """True for PostgreSQL's deadlock_detected / serialization_failure (psycopg's SQLSTATE on the cause)."""
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) in (DEADLOCK, SERIALIZATION)


def lock_rows(queryset: models.QuerySet) -> list[int]:
    """Lock the rows of ``queryset`` (FOR NO KEY UPDATE) in ascending id order; returns their ids.

    NO KEY UPDATE, not UPDATE: a foreign-key check (an insert referencing the row) takes KEY SHARE, which
    FOR UPDATE blocks and FOR NO KEY UPDATE does not, so a writer holding the row never waits on an insert.
    """
    return list(queryset.order_by("pk").select_for_update(no_key=True).values_list("pk", flat=True))


def _key(name: str, *parts: object) -> int:
    digest = hashlib.blake2b(":".join([name, *map(str, parts)]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Keys of one kind are spread over this many locks per tenant: a call of 1000 products takes at most 128
# advisory locks (each is an entry in PostgreSQL's shared lock table, sized max_locks_per_transaction x
# max_connections = 6400 by default: one lock per item would run it out with a few concurrent calls).
# Two calls of one shop that share no item still wait for each other when their keys share a bucket.
BUCKETS = 128


def keys_lock(name: str, tenant_id: int, keys: Iterable[int]) -> None:
    """Hold the advisory locks of ``keys`` (external ids of kind ``name``) of one tenant until the
    transaction ends, taken in one fixed order (sorted lock keys), so two calls never deadlock on them."""
    if connection.vendor != "postgresql":
        return
    locks = sorted({_key(name, tenant_id, bucket) for bucket in {k % BUCKETS for k in keys}})
    if not locks:
        return
    with connection.cursor() as cursor:
        # unnest yields the sorted array in order and the aggregate takes the locks one row at a time
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k",
            ["{" + ",".join(map(str, locks)) + "}"],
        )


def tenant_lock(name: str, tenant_id: int) -> None:
    """Hold the transaction-level advisory lock ``name`` of one tenant until the transaction ends."""
    if connection.vendor != "postgresql":
        return  # SQLite (embedded mode) serialises writers already
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(name, tenant_id)])


def retry_deadlock(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` (a service that opens its own transaction) again once when PostgreSQL aborted it as a
    deadlock victim. Inside an outer transaction nothing is retried (the outer block owns the retry)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            if not is_deadlock(exc):
                raise
            log.warning("deadlock in %s, retrying once: %s", func.__qualname__, str(exc).splitlines()[0])
        return func(*args, **kwargs)

    return wrapper
