"""core.bulk is the one module that knows SQL dialects (PostgreSQL, and SQLite for the embedded mode), read from
the code itself: outside core/ no module decides by the database's vendor. An app states its statement once and
asks core.bulk for what differs (json_rows, any_of, upsert, rows_locked_by_keys, count_triggers_sql, ...).

What the reader flags, in every module of the apps (migrations included):

* ``<...>connection.vendor`` read for anything but passing it on as an argument (a comparison, a dict key, an
  assignment): handing a migration's database to a core.bulk helper is the one use left;
* a comparison with a vendor's name (``vendor == "postgresql"``);
* a call of ``is_postgresql``: the dialect helper of core.bulk, for core.bulk's own use.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["apikeys", "catalog", "config", "demo", "merchandising", "pricing", "tenants"]
VENDORS = {"postgresql", "sqlite", "mysql", "oracle"}

# core/ is not read: core/bulk.py holds the dialect helpers, core/locks.py PostgreSQL's advisory locks (nothing
# to take on SQLite) and core/sql_json.py the JSON aggregates' decoders. No app module is exempt. Outside the
# apps, tests/ and bench/ may skip or size themselves by the database they run on.


def _is_connection_vendor(node: ast.AST) -> bool:
    """``connection.vendor``, ``schema_editor.connection.vendor``, ``connections[alias].vendor``, ..."""
    if not (isinstance(node, ast.Attribute) and node.attr == "vendor"):
        return False
    source = ast.unparse(node.value)
    return source.endswith("connection") or source.startswith("connections[")


def dialect_decisions(source: str) -> list[str]:
    """Each place in ``source`` that decides by the database vendor, as ``line: code``."""
    tree = ast.parse(source)
    compared = {id(o) for node in ast.walk(tree) if isinstance(node, ast.Compare) for o in node.comparators}
    compared |= {id(node.left) for node in ast.walk(tree) if isinstance(node, ast.Compare)}
    passed_on = compared | {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in [*node.args, *(k.value for k in node.keywords)]
    }
    found = []
    for node in ast.walk(tree):
        if _is_connection_vendor(node) and id(node) not in passed_on:
            found.append(node)
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in VENDORS for o in operands) or any(
                isinstance(o, ast.Attribute) and o.attr == "vendor" for o in operands
            ):
                found.append(node)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "is_postgresql":
            found.append(node)
    return sorted({f"{node.lineno}: {ast.unparse(node)}" for node in found})


def modules() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))


@pytest.mark.parametrize("app", APPS)
def test_no_module_outside_core_decides_by_the_database_vendor(app: str):
    wrong = [
        f"{path.relative_to(ROOT)}:{decision}"
        for path in modules()
        if path.relative_to(ROOT).parts[0] == app
        for decision in dialect_decisions(path.read_text(encoding="utf-8"))
    ]
    assert not wrong, "decide in core.bulk instead:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "code",
    [
        'if connection.vendor == "postgresql":\n    pass',
        'if connection.vendor != "postgresql":\n    pass',
        "sql = SQL[connection.vendor]",
        "vendor = connection.vendor",
        'triggers = a() if vendor == "postgresql" else b()',
        "if schema_editor.connection.vendor == 'sqlite':\n    pass",
        "if connections['default'].vendor == 'sqlite':\n    pass",
        "if bulk.is_postgresql():\n    pass",
        "if is_postgresql():\n    pass",
    ],
)
def test_the_reader_sees_a_dialect_decision(code: str):
    assert dialect_decisions(code), code


@pytest.mark.parametrize(
    "code",
    [
        "install_sql(PRODUCTS, schema_editor.connection.vendor)",
        'item = {"vendor": product.get("vendor")}',
        "brand = p.vendor or ''",
        "rows = json_rows('a, b', 'FROM t', order_by='a')",
    ],
)
def test_the_reader_leaves_other_code_alone(code: str):
    assert dialect_decisions(code) == [], code


def test_the_reader_reads_the_apps():
    assert len(modules()) > 50
    assert ROOT / "catalog" / "counters.py" in modules()
