from django.apps import AppConfig


class MerchandisingConfig(AppConfig):
    name = "merchandising"

    def ready(self) -> None:
        from merchandising import receivers
        from tenants.signals import tenant_created

        tenant_created.connect(receivers.create_default_recipes, dispatch_uid="merchandising_default_recipes")
