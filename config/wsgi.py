import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
_django = get_wsgi_application()

from apikeys.middleware import RequestGuardWSGIMiddleware  # noqa: E402  (needs the settings loaded above)

application = RequestGuardWSGIMiddleware(_django)
