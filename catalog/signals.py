"""Signals the catalog sends for the apps built on it (which may import catalog; catalog imports none)."""

from django.dispatch import Signal

# A change from the shop (a webhook) turned products sold out or back in stock: ``tenant``, ``product_ids``
# (primary keys). Sent inside the writing transaction.
products_sellable_changed = Signal()
