"""Every action the code writes to the audit log has a French label in one table, so that a
démarche's timeline never shows a raw key such as ``question.answer`` (issue 12)."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po

from workflows.audit import ACTION_LABELS
from workflows.contributions import MODERATION

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("workflows", "backoffice", "workers")
CATALOG = ROOT / "backoffice/translations/fr/LC_MESSAGES/messages.po"


def _is_audit_record(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "record"
        and isinstance(func.value, ast.Name)
        and func.value.id == "audit"
    )


def _action_argument(call: ast.Call) -> ast.expr | None:
    if len(call.args) >= 2:
        return call.args[1]
    return next((k.value for k in call.keywords if k.arg == "action"), None)


def written_actions() -> tuple[set[str], list[str]]:
    """The actions of every ``audit.record(...)`` call, and the calls whose action the test
    cannot read (each must be expanded below, or the test fails)."""
    found: set[str] = set()
    unread: list[str] = []
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and _is_audit_record(node)):
                    continue
                argument = _action_argument(node)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
                elif isinstance(argument, ast.IfExp) and all(
                    isinstance(b, ast.Constant) for b in (argument.body, argument.orelse)
                ):
                    found |= {argument.body.value, argument.orelse.value}  # type: ignore[attr-defined]
                elif argument is not None and ast.unparse(argument) == "f'contribution.{action}'":
                    found |= {f"contribution.{action}" for action in MODERATION}
                else:
                    unread.append(where)
    return found, unread


def test_every_action_written_to_the_audit_log_has_a_label():
    found, unread = written_actions()
    assert unread == [], "an audit action the test cannot read: name it with a literal"
    assert len(found) > 30  # the scan does find the calls
    assert sorted(found - set(ACTION_LABELS)) == []


def test_every_label_is_translated_into_french():
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="fr")
    untranslated = [
        label.text
        for label in ACTION_LABELS.values()
        if catalog.get(label.text) is None or not catalog.get(label.text).string
    ]
    assert untranslated == []


def test_the_table_names_no_action_nobody_writes():
    found, _ = written_actions()
    assert sorted(set(ACTION_LABELS) - found) == []
