"""Imports point down the layers (ARCHITECTURE.md): no module imports a layer above its own.

Parses every module of the package with `ast` (nothing is imported, no model loads); imports inside
functions and under TYPE_CHECKING count as much as the ones at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nzc_knowledge"

# The layer of each part of the package; a part is a subpackage or a top-level module.
FOUNDATION, INDEX, INGEST, SERVICES, OVER_SERVICES, COMPOSITION = range(6)
LAYERS = {
    "": FOUNDATION,  # nzc_knowledge/__init__.py (the version)
    "errors": FOUNDATION,
    "models": FOUNDATION,
    "taxonomy": FOUNDATION,
    "settings": FOUNDATION,
    "encoders": FOUNDATION,
    "onnx_encoder": FOUNDATION,
    "text": FOUNDATION,
    "thesaurus": FOUNDATION,  # multilingual labels of the taxonomy (search expansion, tagging)
    "index": INDEX,
    "ingest": INGEST,
    "search": SERVICES,
    "recommend": SERVICES,
    "eval": OVER_SERVICES,
    "bench": OVER_SERVICES,
    "api": COMPOSITION,
    "cli": COMPOSITION,
    "cli_options": COMPOSITION,
}
# Parts of one layer that may import each other: the foundation's small modules, and the composition roots.
SHARED_LAYERS = {FOUNDATION, COMPOSITION}

# Upward imports that live in files other branches are changing now; each goes once those branches are merged.
ALLOWED: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """'nzc_knowledge.search.service' -> 'search'; each part's own `cli` module is a composition root ('cli')."""
    names = module.split(".")[1:]
    if names and names[-1] == "cli":
        return "cli"
    return names[0] if names else ""


def imported_modules(path: Path) -> list[str]:
    """Every nzc_knowledge module `path` imports, wherever the import statement sits."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from nzc_knowledge.api import schemas` imports nzc_knowledge.api.schemas
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return [name for name in found if name == "nzc_knowledge" or name.startswith("nzc_knowledge.")]


def is_upward(importer: str, imported: str) -> bool:
    """Whether `importer` may not import `imported`: a higher layer, or another part of a layer that is not shared."""
    source, target = part_of(importer), part_of(imported)
    if source == target:
        return False
    return LAYERS[target] > LAYERS[source] or (LAYERS[target] == LAYERS[source] and LAYERS[source] not in SHARED_LAYERS)


def upward_imports() -> list[tuple[str, str]]:
    """(importer, imported module) of every upward import in the package."""
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for imported in map(_module_of, imported_modules(path)):
            if is_upward(importer, imported):
                problems.append((importer, imported))
    return problems


def _module_of(name: str) -> str:
    """The module part of an imported dotted name (`nzc_knowledge.errors.NZCError` -> `nzc_knowledge.errors`)."""
    parts = name.split(".")
    while len(parts) > 1:
        candidate = PACKAGE.parent.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return parts[0]


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert parts <= set(LAYERS), f"give these a layer in LAYERS (and ARCHITECTURE.md): {sorted(parts - set(LAYERS))}"


@pytest.fixture(scope="module")
def upward() -> list[tuple[str, str]]:
    """The package's upward imports, parsed once for the two tests that read them."""
    return upward_imports()


def test_no_module_imports_a_layer_above_its_own(upward):
    problems = [pair for pair in upward if pair not in ALLOWED]
    assert not problems, "upward imports (pass what is needed in from the composition root instead):\n" + "\n".join(
        f"  {importer} -> {imported}" for importer, imported in problems
    )


def test_the_allow_list_holds_only_imports_that_still_exist(upward):
    stale = ALLOWED - set(upward)
    assert not stale, f"remove these from ALLOWED, they are gone: {sorted(stale)}"


@pytest.mark.parametrize(("importer", "imported", "upward"), [
    ("nzc_knowledge.ingest.build", "nzc_knowledge.recommend.profiles", True),  # ingest feeds recommend, not back
    ("nzc_knowledge.search.service", "nzc_knowledge.recommend.peers", True),  # siblings stay apart
    ("nzc_knowledge.bench.peers", "nzc_knowledge.api.app", True),  # a benchmark is handed its client
    ("nzc_knowledge.index.store", "nzc_knowledge.errors", False),
    ("nzc_knowledge.recommend.peers", "nzc_knowledge.index.snapshot", False),
    ("nzc_knowledge.recommend.cli", "nzc_knowledge.api.app", False),  # a part's cli is a composition root
    ("nzc_knowledge.settings", "nzc_knowledge.encoders", False),
])
def test_the_rule_itself(importer, imported, upward):
    assert is_upward(importer, imported) == upward


def test_imports_inside_functions_count(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from nzc_knowledge.api import app\n    import nzc_knowledge.search.service\n")
    assert sorted(imported_modules(module)) == ["nzc_knowledge.api.app", "nzc_knowledge.search.service"]
