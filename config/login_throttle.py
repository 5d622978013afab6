"""Admin login throttling: django-axes' authentication backend, tolerant of a missing request."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before any password is hashed (django-axes).

    Every login over HTTP (the admin's) passes its request and is throttled. An authentication without
    a request (Django's test ``Client.login``, a script calling ``authenticate``) has no client address
    to count, so it is left to the next backend instead of failing with axes' "request required" error.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
