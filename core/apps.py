from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor as an app: it holds the task outbox (``core.models.TaskOutbox``)."""

    name = "core"
    verbose_name = "Platform core"
