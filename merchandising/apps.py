from django.apps import AppConfig


class MerchandisingConfig(AppConfig):
    name = "merchandising"

    def ready(self) -> None:
        from catalog.signals import products_sellable_changed
        from merchandising import receivers, webhook_handlers
        from tenants.signals import tenant_created

        tenant_created.connect(receivers.create_default_recipes, dispatch_uid="merchandising_default_recipes")
        products_sellable_changed.connect(
            webhook_handlers.resort_on_sellable_change, dispatch_uid="merchandising_resort_on_sellable_change"
        )
