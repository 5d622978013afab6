"""URL patterns of this app (filled in as the surface grows)."""

urlpatterns: list = []
