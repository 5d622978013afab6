"""Settings of the live server the contract tests start: the real settings, limits raised so that
running every doc example and a fuzzing run are not cut short by the (separately tested) rate limits."""

from config.settings import *  # noqa: F403

MERCHANDISING_RATE_LIMIT = (100_000, 60)
AUTH_FAILURE_RATE_LIMIT = (100_000, 60)
