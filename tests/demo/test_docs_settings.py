"""The settings and limits the docs quote are the ones config/settings.py has: the README's configuration
table against the ``env(...)`` defaults, and the numbers the surface docs cite."""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}


def _value(node: ast.expr):
    """A literal default, or arithmetic on literals (``8 * 1024 * 1024``); None for anything else."""
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left), _value(node.right)
        return None if left is None or right is None else _OPS[type(node.op)](left, right)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def env_defaults() -> dict[str, object]:
    """Every environment variable config/settings.py reads through ``env()``, with its literal default."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    return {
        node.args[0].value: _value(node.args[1]) if len(node.args) > 1 else None
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "env"
    }


def readme_table() -> dict[str, str]:
    """The README's configuration table: variable -> default cell (rows naming two variables split)."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        values = re.findall(r"`([^`]*)`", cells[1])
        if len(names) > 1 and len(values) == len(names):
            rows.update(zip(names, values, strict=True))
        else:
            rows.update(dict.fromkeys(names, cells[1]))
    return rows


def _same(documented: str, default: object) -> bool:
    literal = documented.strip("`")
    if isinstance(default, bool) or default is None:
        return True  # described in words ("on without REDIS_URL", "required in production")
    if default in ([], ""):
        return literal == "none"
    if isinstance(default, int | float):
        return float(literal) == float(default)
    if isinstance(default, list):
        return literal == ",".join(default)
    return literal == default


def test_every_environment_variable_is_in_the_readme_table_and_every_row_is_read():
    defaults, table = env_defaults(), readme_table()
    assert set(defaults) <= set(table), f"not in the README's table: {sorted(set(defaults) - set(table))}"
    assert set(table) <= set(defaults), f"in the README's table but not read: {sorted(set(table) - set(defaults))}"


def test_the_readme_table_gives_the_defaults_settings_use():
    defaults, table = env_defaults(), readme_table()
    wrong = {name: (table[name], default) for name, default in defaults.items() if not _same(table[name], default)}
    assert not wrong


def _text(page: str) -> str:
    return " ".join((ROOT / page).read_text().split())  # one line: quotes wrap in the sources


# (page, the quoted text, what it states)
CLAIMS = [
    ("docs/platform-sync.md", "limited to 8 MiB (`PLATFORM_MAX_REQUEST_BODY_BYTES`, 8388608 bytes;", "platform_body"),
    ("docs/platform-sync.md", "keep 1 MiB, `MAX_REQUEST_BODY_BYTES`)", "vendor_body"),
    ("docs/platform.md", "`USAGE_BUFFER_SECONDS` (0.5 s)", "usage_buffer"),
    ("docs/pricing.md", "`PRICING_STALE_AFTER_HOURS`, default 48 h", "stale"),
    ("docs/pricing.md", "over the key's limit (default 1,000 per hour", "key_limit"),
    ("README.md", "60 requests per minute per shop on the Dynasort connector", "dynasort_limit"),
    ("README.md", "the key's own limit (default 1000/hour)", "key_limit"),
    ("docs/merchandising.md", "60 requests per minute per shop", "dynasort_limit"),
    ("docs/catalog.md", "`CATALOG_EMBEDDING_DIM` (256)", "embedding_dim"),
    ("docs/catalog.md", "`CATALOG_CATEGORY_THRESHOLD` (0.8)", "category_rule"),
    ("docs/catalog.md", "`CATALOG_EMBEDDING_BACKEND` (`wordllama`;", "embedding_backend"),
]
FACTS = {
    "platform_body": lambda: settings.PLATFORM_MAX_REQUEST_BODY_BYTES == 8 * 1024 * 1024,
    "vendor_body": lambda: settings.MAX_REQUEST_BODY_BYTES == 1024 * 1024,
    "usage_buffer": lambda: env_defaults()["USAGE_BUFFER_SECONDS"] == 0.5,
    "stale": lambda: env_defaults()["PRICING_STALE_AFTER_HOURS"] == 48,
    "key_limit": lambda: settings.DEFAULT_KEY_RATE_LIMIT == (1000, 3600),
    "dynasort_limit": lambda: settings.MERCHANDISING_RATE_LIMIT == (60, 60),
    "embedding_dim": lambda: env_defaults()["CATALOG_EMBEDDING_DIM"] == 256,
    "category_rule": lambda: env_defaults()["CATALOG_CATEGORY_THRESHOLD"] == 0.8,
    "embedding_backend": lambda: env_defaults()["CATALOG_EMBEDDING_BACKEND"] == "wordllama",
}


@pytest.mark.parametrize(("page", "quote", "fact"), CLAIMS)
def test_a_limit_the_docs_quote_is_the_configured_one(page, quote, fact):
    assert quote in _text(page)
    assert FACTS[fact]()
