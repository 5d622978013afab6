from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The project package as an app: the task outbox, templates, static files and the OpenAPI hooks."""

    name = "config"
    verbose_name = "Platform"

    def ready(self) -> None:
        from apikeys import schema  # noqa: F401  (registers the OpenAPI auth extension)
