"""Settings for benchmark runs: the real settings, plus a bare view to compare against and
rate limits raised so the limiter is still checked on every request but never refuses."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
MERCHANDISING_RATE_LIMIT = (1_000_000_000, 60)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
