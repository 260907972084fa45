"""The layout's import rules (DESIGN.md), read from the source with `ast`, without importing anything.

- devhost/ is a generic Functions host and sandbox/ a pair of stand-in Web APIs: each imports
  nothing of this repository but itself; twin/ is the one place that composes them for this app.
- The product (function_app.py, api/, orchestrators/, activities/, shared/) imports none of the
  dev-only parts, which .funcignore leaves out of a deployment.
- The top-level packages depend on each other without a cycle.

An import counts wherever it stands: inside a function or a `TYPE_CHECKING` block too.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("function_app", "api", "orchestrators", "activities", "shared")
DEV_ONLY = ("devhost", "sandbox", "twin", "bench", "tests")
TOP_LEVEL = PRODUCT + DEV_ONLY


def modules_of(package: str) -> list[Path]:
    """The Python files of a top-level package, or the one file of a top-level module."""
    module = ROOT / f"{package}.py"
    return [module] if module.exists() else sorted((ROOT / package).rglob("*.py"))


def imported_top_levels(path: Path) -> set[str]:
    """The top-level names one module imports (relative imports stay inside its own package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def imports_of_this_repository(package: str) -> dict[str, set[str]]:
    """Per module of `package`, the other top-level packages of this repository it imports."""
    found = {}
    for path in modules_of(package):
        others = imported_top_levels(path) & set(TOP_LEVEL) - {package}
        if others:
            found[str(path.relative_to(ROOT))] = others
    return found


@pytest.mark.parametrize("package", ["devhost", "sandbox"])
def test_devhost_and_sandbox_import_nothing_of_this_repository_but_themselves(package: str) -> None:
    assert imports_of_this_repository(package) == {}


@pytest.mark.parametrize("package", PRODUCT)
def test_the_product_imports_nothing_that_stays_out_of_a_deployment(package: str) -> None:
    offending = {module: others & set(DEV_ONLY) for module, others in imports_of_this_repository(package).items()}

    assert {module: others for module, others in offending.items() if others} == {}


def test_the_top_level_packages_import_each_other_without_a_cycle() -> None:
    imports = {package: set().union(*imports_of_this_repository(package).values()) for package in TOP_LEVEL}

    try:
        order = list(TopologicalSorter(imports).static_order())
    except CycleError as error:
        importers_first = " imports ".join(reversed(error.args[1]))
        pytest.fail(f"import cycle between top-level packages: {importers_first}")

    assert order.index("shared") < order.index("api") < order.index("function_app")
