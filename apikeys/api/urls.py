from django.urls import path

from apikeys.api import views

urlpatterns = [
    path("keys", views.KeyListCreateView.as_view(), name="platform-keys"),
    path("keys/<int:key_id>/rotate", views.KeyRotateView.as_view(), name="platform-key-rotate"),
    path("keys/<int:key_id>/revoke", views.KeyRevokeView.as_view(), name="platform-key-revoke"),
    path("keys/<int:key_id>/usage", views.KeyUsageView.as_view(), name="platform-key-usage"),
]
