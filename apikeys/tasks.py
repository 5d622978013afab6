from celery import shared_task

from apikeys import services


@shared_task(acks_late=True, ignore_result=True)
def usage_flush() -> int:
    """Periodic: write per-key usage counters from Redis into hourly rows (idempotent)."""
    return services.usage_flush()


@shared_task(acks_late=True, ignore_result=True)
def idempotency_purge() -> int:
    """Periodic: forget Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_SECONDS."""
    from apikeys import idempotency

    return idempotency.purge()
