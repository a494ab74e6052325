"""The structure of the code, checked: no import cycles, no private names reached across modules,
no module hidden by a function, private Keras APIs in one place, and docs/architecture.md true to
the tree."""

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("resblocks", "registry", "recipes")
KERAS_COMPAT = ROOT / "registry" / "keras_compat.py"


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles_among_the_project_modules():
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules}
    cycles = _strongly_connected(edges)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def _strongly_connected(edges: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in edges:
        if node not in index:
            visit(node)
    return groups


def _private_imports(path: Path) -> list[str]:
    """`from registry.x import _name` of a project module's private name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            found += [
                f"{node.module}.{a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return found


def test_no_private_name_is_imported_from_another_module():
    files = [
        *_sources(),
        *sorted((ROOT / "tests").rglob("*.py")),
        *sorted((ROOT / "docs").rglob("*.py")),
    ]
    found = {str(p.relative_to(ROOT)): names for p in files if (names := _private_imports(p))}
    assert not found, f"private names imported across modules: {found}"


def _defined_private_names() -> set[str]:
    """Every `_name` the project itself defines: functions, classes, attributes, module globals."""
    names = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {n for n in names if n.startswith("_")}


# Underscored by Python itself, and public: NamedTuple's methods; os._exit
# (leave without exit handlers: jax.distributed's would wait for a lost process).
PUBLIC_UNDERSCORED = {"_asdict", "_replace", "_fields", "_make", "_exit"}


def test_keras_internals_are_used_only_in_the_compatibility_module():
    ours = _defined_private_names() | PUBLIC_UNDERSCORED
    found = []
    for path in _sources():
        if path == KERAS_COMPAT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                found += [
                    f"{path.name}:{node.lineno} imports {m}"
                    for m in modules
                    if m.startswith("keras.src")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                owner = node.value
                mine = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
                if not mine and node.attr not in ours:
                    found.append(f"{path.name}:{node.lineno} reads .{node.attr}")
    assert not found, "private Keras APIs outside registry/keras_compat.py: " + ", ".join(found)


def _submodules(package: str) -> list[str]:
    module = importlib.import_module(package)
    return [info.name for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")]


@pytest.mark.parametrize("package", ["registry", "resblocks"])
def test_no_module_is_hidden_by_a_function_of_the_same_name(package):
    hidden = []
    for name in _submodules(package):
        if name.endswith("__main__"):
            continue  # running it is running the command line
        module = importlib.import_module(name)
        parent, _, leaf = name.rpartition(".")
        value = getattr(importlib.import_module(parent), leaf, module)
        if value is not module:
            hidden.append(f"{parent}.{leaf} is a {type(value).__name__}, not the module {name}")
    assert not hidden, hidden


def _packages_on_disk() -> set[str]:
    found = set()
    for package in PACKAGES:
        for init in (ROOT / package).rglob("__init__.py"):
            found.add(str(init.parent.relative_to(ROOT)) + "/")
    return found


def test_architecture_page_names_every_package_and_only_those():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:resblocks|registry|recipes)(?:/[a-z_]+)*/)`", page))
    on_disk = _packages_on_disk()
    assert named >= on_disk, (
        f"packages missing from docs/architecture.md: {sorted(on_disk - named)}"
    )
    assert named <= on_disk, (
        f"docs/architecture.md names packages that do not exist: {sorted(named - on_disk)}"
    )


def test_architecture_page_shows_the_import_contract_of_setup_cfg():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    config = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    layers = re.search(
        r"\[importlinter:contract:layers\].*?layers =\n((?:    [^\n]+\n)+)", config, re.S
    ).group(1)
    for layer in [line.strip() for line in layers.splitlines()]:
        assert layer in page, f"docs/architecture.md does not show the layer '{layer}' of setup.cfg"
