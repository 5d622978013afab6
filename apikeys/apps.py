from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _keys_changed(sender, **kwargs) -> None:
    from apikeys import keycache

    keycache.keys_changed()


class ApikeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from apikeys.models import ApiKey
        from tenants.models import Tenant

        # Any write to a key or a tenant (services, admin, shell) invalidates every process's key cache.
        for model in (ApiKey, Tenant):
            post_save.connect(_keys_changed, sender=model, dispatch_uid=f"keycache-{model.__name__}-save")
            post_delete.connect(_keys_changed, sender=model, dispatch_uid=f"keycache-{model.__name__}-delete")
