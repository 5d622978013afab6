from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The project package as an app, for commands that span every app (seed_demo)."""

    name = "config"
    verbose_name = "Platform"

    def ready(self) -> None:
        from apikeys import schema  # noqa: F401  (registers the OpenAPI auth extension)
