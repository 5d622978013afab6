from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo shop: its generator and the ``seed_demo`` command (no models)."""

    name = "demo"
    verbose_name = "Demo shop"
