"""Sortillus v3 routes (mounted under /api/v3/)."""

from django.urls import path

from catalog.api import views

urlpatterns = [
    path("products", views.ProductListCreateView.as_view(), name="sortillus-products"),
    path("products/<int:id>", views.ProductDetailView.as_view(), name="sortillus-product"),
    path("products/<int:id>/recommend", views.ProductRecommendView.as_view(), name="sortillus-product-recommend"),
    path("shop/categories", views.CategoryListUpsertView.as_view(), name="sortillus-categories"),
]
