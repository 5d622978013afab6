"""Reads for the admin's per-shop overview (config/admin.py): keys with their hourly usage, the last sorts and reprices.

A fixed number of queries whatever the number of keys: usage comes as one query of hourly rows, the
keys as one, the runs as one each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F, Sum
from django.utils import timezone

from apikeys.charts import SERIES, hours_between
from apikeys.models import ApiKey, ApiKeyUsageHour
from merchandising.models import Collection, SortRun
from pricing.models import PriceChange, PriceSource, RepriceRun
from tenants.models import Tenant

COUNTERS = [name for name, _, _ in SERIES]
OVERVIEW_KEYS = 50  # keys listed (newest first; revoked ones after the rest)
OVERVIEW_RUNS = 10
MAX_DAYS = 30


@dataclass
class KeyUsage:
    key: ApiKey
    totals: dict[str, int]
    requests_by_hour: list[int]


@dataclass
class TenantOverview:
    tenant: Tenant
    since: datetime
    hours: list[datetime]
    counts: dict[str, list[int]]  # counter -> one number per hour, all keys summed
    totals: dict[str, int]
    keys: list[KeyUsage]
    keys_total: int
    sort_runs: list[SortRun] = field(default_factory=list)
    reprice_runs: list[RepriceRun] = field(default_factory=list)
    auto_price_changes: list[PriceChange] = field(default_factory=list)
    collections_enabled: int = 0


def tenant_overview(*, tenant: Tenant, days: int = 7, now: datetime | None = None) -> TenantOverview:
    """What a shop's keys did per hour over the last ``days`` (1..30) and its latest sorts and reprices."""
    days = min(max(days, 1), MAX_DAYS)
    now = now or timezone.now()
    hours = hours_between(now - timedelta(days=days) + timedelta(hours=1), now)
    since = hours[0]
    index = {hour: i for i, hour in enumerate(hours)}

    all_keys = ApiKey.objects.for_tenant(tenant)
    # keys never revoked first (newest first), then rotated or revoked ones, the latest revocation first
    keys = list(all_keys.order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")[:OVERVIEW_KEYS])
    rows = (
        ApiKeyUsageHour.objects.for_tenant(tenant)
        .filter(hour__gte=since)
        .values("key_id", "hour")
        .annotate(**{c: Sum(c) for c in COUNTERS})
        .order_by()
    )
    counts = {c: [0] * len(hours) for c in COUNTERS}
    per_key: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    per_key_hours: dict[int, list[int]] = defaultdict(lambda: [0] * len(hours))
    for row in rows:
        i = index.get(row["hour"].replace(minute=0, second=0, microsecond=0))
        for c in COUNTERS:
            per_key[row["key_id"]][c] += row[c] or 0
            if i is not None:
                counts[c][i] += row[c] or 0
        if i is not None:
            per_key_hours[row["key_id"]][i] += row["requests"] or 0
    totals = {c: sum(values) for c, values in counts.items()}
    return TenantOverview(
        tenant=tenant,
        since=since,
        hours=hours,
        counts=counts,
        totals=totals,
        keys=[KeyUsage(key=k, totals=per_key[k.pk], requests_by_hour=per_key_hours[k.pk]) for k in keys],
        keys_total=all_keys.count() if len(keys) == OVERVIEW_KEYS else len(keys),  # counted only when capped
        sort_runs=list(
            SortRun.objects.for_tenant(tenant)
            .select_related("collection")
            .order_by("-started_at", "-id")[:OVERVIEW_RUNS]
        ),
        reprice_runs=list(RepriceRun.objects.for_tenant(tenant).order_by("-started_at", "-id")[:OVERVIEW_RUNS]),
        auto_price_changes=list(
            PriceChange.objects.for_tenant(tenant)
            .filter(source=PriceSource.AUTO)
            .select_related("product")
            .order_by("-created_at", "-id")[:OVERVIEW_RUNS]
        ),
        collections_enabled=Collection.objects.for_tenant(tenant).filter(enabled=True).count(),
    )
