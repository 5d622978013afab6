"""The import directions of docs/architecture.md, read from the code itself (every import, at module level or
inside a function): the floors, no app importing the project package ``config``, and engines without Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"core", "tenants", "apikeys", "catalog", "merchandising", "pricing", "config", "demo"}

# What each app may import of the project, from the ground floor up. ``config`` (settings, URLs, the Celery app,
# the admin's cross-app pages, probes) and the demo generator stand on top and may import every app.
MAY_IMPORT = {
    "core": set(),
    "tenants": {"core"},
    "apikeys": {"core", "tenants"},
    "catalog": {"core", "tenants", "apikeys"},
    "merchandising": {"core", "tenants", "apikeys", "catalog"},
    "pricing": {"core", "tenants", "apikeys", "catalog"},
}

# Pure algorithms: no Django, DRF or Celery, and of the project only other engines.
ENGINES = {
    "catalog/categorizing.py",
    "catalog/duplicates.py",
    "catalog/embeddings.py",
    "catalog/gtin.py",
    "catalog/index_cache.py",
    "catalog/recommendation_ranking.py",
    "merchandising/option_sorting.py",
    "merchandising/sizes.py",
    "merchandising/sorting.py",
    "pricing/repricing.py",
}
FRAMEWORKS = {"django", "rest_framework", "celery", "drf_spectacular", "django_filters"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``), at module level
    or inside a function; imports for type checkers only (``if TYPE_CHECKING:``) run nowhere and do not count."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def app_modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_apps_import_only_the_floors_below(app: str):
    wrong = []
    for path in app_modules(app):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in PROJECT and top != app and top not in MAY_IMPORT[app]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_app_imports_the_project_package():
    """Settings come through django.conf; what apps share lives in core."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for app in MAY_IMPORT
        for path in app_modules(app)
        for module in imported_modules(path)
        if module == "config" or module.startswith("config.")
    ]
    assert not wrong, "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_engines_are_pure(engine: str):
    path = ROOT / engine
    engine_modules = {e.removesuffix(".py").replace("/", ".") for e in ENGINES}

    def allowed(module: str) -> bool:
        top = module.split(".")[0]
        if top in FRAMEWORKS:
            return False
        # ``from catalog import x`` names the package, then the engine: the package alone is fine
        return (
            top not in PROJECT
            or module in {"catalog", "merchandising", "pricing"}
            or any(module == e or module.startswith(e + ".") for e in engine_modules)
        )

    wrong = [module for module in imported_modules(path) if not allowed(module)]
    assert not wrong, f"{engine} imports {sorted(wrong)}"


def test_the_rules_see_imports():
    """The reader finds imports inside functions too, so a lazy import cannot slip past the rules."""
    assert "config.overview" in imported_modules(ROOT / "config" / "admin.py")
    assert "catalog.embeddings" in imported_modules(ROOT / "catalog" / "categorizing.py")
