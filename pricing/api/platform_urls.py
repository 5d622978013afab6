"""Pricing's part of the platform surface (mounted at /api/platform/v1/)."""

from django.urls import path

from pricing.api import views

urlpatterns = [
    path("competitor-prices", views.CompetitorPricesView.as_view(), name="platform-competitor-prices"),
]
