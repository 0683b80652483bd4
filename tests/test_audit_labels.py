"""Every action the code records in the audit log has a translatable label, so the history pages
never show a raw "registration.offer_accepted". The actions are read from the source itself
(every `audit.record(...)` and `audit.entry_row(...)` call), so a new action without a label fails here."""
from __future__ import annotations

import ast
from pathlib import Path

from flask_babel import force_locale

import booking
from booking import audit

PACKAGE = Path(booking.__file__).parent


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments (e.g. privacy's PURGE_ACTION)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _actions_of(expression: ast.expr, constants: dict[str, str], where: str) -> set[str]:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):
        return _actions_of(expression.body, constants, where) | _actions_of(expression.orelse, constants, where)
    if isinstance(expression, ast.Name) and expression.id in constants:
        return {constants[expression.id]}
    raise AssertionError(f"{where}: the action recorded is not a string this test can read; "
                         f"write it as a literal or a module constant")


def recorded_actions() -> dict[str, str]:
    """{action: "file:line"} for every `audit.record(...)` and `audit.entry_row(...)` call under booking/."""
    actions = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        constants = _constants(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("audit"):
                # a bare `record(...)` would escape the walk below
                assert not {"record", "entry_row"} & {alias.name for alias in node.names}, \
                    f"{where}: call audit.record(...) or audit.entry_row(...), not an imported one"
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("record", "entry_row")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                assert node.args, f"{where}: audit.{node.func.attr}() without an action"
                for action in _actions_of(node.args[0], constants, where):
                    actions.setdefault(action, where)
    return actions


def test_the_walk_finds_the_actions_the_code_records():
    actions = recorded_actions()
    # known ones from several packages, the conditional and the constant forms included
    assert {"registration.created", "registration.offer_accepted", "registration.attendance_confirmed",
            "user.joined", "user.password_reset", "privacy.purged", "attendance.recorded",
            "association.merged"} <= set(actions)
    assert len(actions) >= 35


def test_every_recorded_action_has_a_label(app):
    unlabelled = {action: where for action, where in recorded_actions().items()
                  if action not in audit.ACTION_LABELS}
    assert unlabelled == {}


def test_the_labels_read_as_words_in_every_language(app):
    with app.test_request_context():
        for locale in app.config["BOOKING_INTERFACE_LANGUAGES"]:
            with force_locale(locale):
                for action in recorded_actions():
                    label = audit.action_label(audit.AuditEntry(action=action, detail={}))
                    assert label and label != action, (locale, action, label)


def test_the_late_place_steps_show_in_the_registration_history(app):
    with app.test_request_context(), force_locale("en"):
        labels = {action: audit.action_label(audit.AuditEntry(action=action, detail={})) for action in (
            "registration.offered", "registration.offer_accepted", "registration.offer_declined",
            "registration.offer_expired", "registration.attendance_confirmed")}
    assert labels == {
        "registration.offered": "Late place offered",
        "registration.offer_accepted": "Offered place accepted",
        "registration.offer_declined": "Offered place declined",
        "registration.offer_expired": "Offered place not accepted in time",
        "registration.attendance_confirmed": "Said they are coming",
    }
