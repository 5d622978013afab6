"""Signals the tenants app sends; apps that keep per-tenant defaults connect to them."""

from django.dispatch import Signal

# Sent once, inside the creating transaction, with ``tenant=``.
tenant_created = Signal()
