"""Catalog routes on the platform surface (mounted under /api/platform/v1/)."""

from django.urls import path

from catalog.api import platform_views, shopify_views

urlpatterns = [
    path("products", platform_views.ProductSyncView.as_view(), name="platform-products-sync"),
    path("orders", platform_views.OrderSyncView.as_view(), name="platform-orders-sync"),
    path(
        "products/<int:id>/category-suggestions",
        platform_views.ProductCategorySuggestionsView.as_view(),
        name="platform-product-category-suggestions",
    ),
    path(
        "catalog/category-suggestions/refresh",
        platform_views.CategorySuggestionsRefreshView.as_view(),
        name="platform-category-suggestions-refresh",
    ),
    path("shopify/webhooks", shopify_views.ShopifyWebhookView.as_view(), name="platform-shopify-webhooks"),
    path("shopify/connection", shopify_views.ShopConnectionView.as_view(), name="platform-shopify-connection"),
    path(
        "shopify/connection/end-rotation",
        shopify_views.ShopConnectionRotationEndView.as_view(),
        name="platform-shopify-connection-rotation-end",
    ),
]
