"""The house's walls: ``workflows/`` is a one-way stack that knows nothing of the web or the
workers, and no domain module grows past what a reader takes in at once."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "workflows"
MAX_LINES = 600
# Imports a function may defer: heavy optional libraries, loaded only by the work that needs
# them (a synthesis build, a PDF), so that the web and the mailing worker start without them.
DEFERRED = {"spacy", "sklearn", "weasyprint"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in DOMAIN.rglob("*.py")}


def imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
        full = f"{base}.{node.module}" if node.module else base
    else:
        full = node.module or ""
    return [f"{full}.{a.name}" if f"{full}.{a.name}" in MODULES else full for a in node.names]


def walk(tree: ast.AST, in_function: bool = False, typing_only: bool = False):
    """Each import with whether it sits in a function and whether only type checkers run it."""
    for child in ast.iter_child_nodes(tree):
        function = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        typing = typing_only or (
            isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
        )
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, function, typing
        yield from walk(child, function, typing)


def survey():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    deferred, outward = [], []
    for module, path in MODULES.items():
        for node, in_function, typing_only in walk(ast.parse(path.read_text())):
            for target in imported(module, path, node):
                top = target.split(".")[0]
                where = f"{path.relative_to(ROOT)}:{node.lineno} {target}"
                if in_function and top not in DEFERRED:
                    deferred.append(where)
                if top in ("backoffice", "workers", "flask", "celery"):
                    outward.append(where)
                if typing_only or top != "workflows":
                    continue
                parts = target.split(".")  # importing a.b.c runs a.b's __init__ first
                for i in range(2, len(parts) + 1):
                    prefix = ".".join(parts[:i])
                    if prefix in MODULES and not f"{module}.".startswith(f"{prefix}."):
                        graph[module].add(prefix)
    return graph, deferred, outward


def test_the_domain_imports_nothing_of_the_web_or_the_workers():
    _, _, outward = survey()
    assert outward == []


def test_no_function_imports_a_module_but_a_heavy_optional_library():
    _, deferred, _ = survey()
    assert deferred == []


def test_the_domain_is_a_one_way_stack():
    graph, _, _ = survey()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' → '.join(cycle.args[1])}") from None
    assert order.index("workflows.stages") < order.index("workflows.models")
    assert order.index("workflows.models") < order.index("workflows.guards")


def test_no_domain_module_is_longer_than_a_reader_takes_in():
    long = {
        str(p.relative_to(ROOT)): n
        for p in MODULES.values()
        if (n := p.read_text().count("\n")) > MAX_LINES
    }
    assert long == {}


def test_the_survey_sees_what_it_looks_for():
    """The checks above would pass on nothing: make sure they read the real tree."""
    graph, _, _ = survey()
    assert "workflows.models" in graph["workflows.guards"]
    assert "workflows.mailings.templates" in graph["workflows.mailings.letters"]
    assert len(MODULES) > 50


def test_the_workers_reach_into_the_web_only_for_the_factory_and_the_outgoing_side():
    """``workers/`` builds the app (``create_app``, its config and extensions) and sends what
    leaves (``backoffice.outgoing``); the rest of ``backoffice`` is the web's own."""
    allowed = ("backoffice.config", "backoffice.extensions", "backoffice.outgoing")
    reached = []
    for path in (ROOT / "workers").rglob("*.py"):
        for node, _, _ in walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif node.module == "backoffice":  # from backoffice import x: the package's x
                targets = [f"backoffice.{a.name}" for a in node.names]
            else:
                targets = [node.module or ""]
            reached += [
                f"{path.relative_to(ROOT)}:{node.lineno} {target}"
                for target in targets
                if target.split(".")[0] == "backoffice"
                and target != "backoffice.create_app"
                and not any(target == a or target.startswith(f"{a}.") for a in allowed)
            ]
    assert reached == []
