"""Fixtures of the assistant tests: the merchandising shop with the Dynasort doc's ids."""

from tests.merchandising.conftest import _eager_tasks, shop  # noqa: F401  (fixtures)
