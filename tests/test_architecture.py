"""The shape of the code, beside the import contracts that `lint-imports` checks (pyproject.toml):
no module imports itself back through others, and models and services neither read the request nor build
URLs. Each exception names the issue item that removes it; an exception that no longer happens fails too,
so the lists only shrink."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp
import pytest

from exchange import PROJECT_ROOT

# (importer, imported) imports allowed to close a circle for now.
CIRCLE_EXCEPTIONS = {
    # issue 10 item 3 (one API input kit): the page error handler borrows the API's schema-error translation.
    ("exchange.web", "exchange.api"),
}

# (module, name imported from flask) allowed for now.
WEB_NAME_EXCEPTIONS: set[tuple[str, str]] = set()
WEB_NAMES = {"request", "url_for", "render_template", "session"}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # As lint-imports sees it: type-only imports (models naming each other in relationships) do not count.
    return grimp.build_graph("exchange", exclude_type_checking_imports=True)


def circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_through_others(graph):
    imports = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    for importer, imported in CIRCLE_EXCEPTIONS:
        assert imported in imports[importer], f"{importer} no longer imports {imported}: drop the exception"
        imports[importer].discard(imported)
    assert circles(imports) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def service_modules(graph: grimp.ImportGraph) -> set[str]:
    """The modules that the services contract of pyproject.toml lists, and every models module."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("Services")]
    modules = {m for expression in contract["source_modules"] for m in graph.find_matching_modules(expression)}
    return modules | graph.find_matching_modules("exchange.*.models")


def flask_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            names |= {alias.name for alias in node.names}
    return names


def test_models_and_services_neither_read_the_request_nor_build_urls_or_pages(graph):
    found = set()
    for module in service_modules(graph):
        path = PROJECT_ROOT.joinpath(*module.split(".")).with_suffix(".py")
        found |= {(module, name) for name in flask_names(path) & WEB_NAMES}
    assert found == WEB_NAME_EXCEPTIONS
