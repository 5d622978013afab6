from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The project package as an app: the admin's cross-app pages, templates, static files, the OpenAPI hooks and
    the history of the task outbox's migrations (the model now lives in core)."""

    name = "config"
    verbose_name = "Platform"

    def ready(self) -> None:
        from apikeys import schema  # noqa: F401  (registers the OpenAPI auth extension)
