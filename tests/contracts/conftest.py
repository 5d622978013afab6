"""Fixtures of the contract tests: the merchandising shop with the Dynasort doc's ids, reused."""

import pytest

from tests.contracts.live import LiveServer, start_demo_server
from tests.merchandising.conftest import _eager_tasks, shop  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def live_demo_server() -> LiveServer:
    """gunicorn on a free port over a freshly migrated and seeded demo database (see tests/contracts/live.py)."""
    yield from start_demo_server()
