"""ShopiSync external v1 routes (mounted at /api/external/v1/)."""

from django.urls import path

from pricing.api import views

urlpatterns = [
    path("products", views.ProductListView.as_view(), name="shopisync-products"),
    path("products/<int:product_id>", views.ProductDetailView.as_view(), name="shopisync-product"),
    path("competitors", views.CompetitorListView.as_view(), name="shopisync-competitors"),
    path("price-history/<int:product_id>", views.PriceHistoryView.as_view(), name="shopisync-price-history"),
    path("stats", views.StatsView.as_view(), name="shopisync-stats"),
    path("webhooks/test", views.WebhookTestView.as_view(), name="shopisync-webhooks-test"),
]
