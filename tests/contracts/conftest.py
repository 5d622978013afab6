"""Fixtures of the contract tests: the merchandising shop with the Dynasort doc's ids, reused."""

from tests.merchandising.conftest import _eager_tasks, _fresh_memory_rate_limiter, shop  # noqa: F401  (fixtures)
