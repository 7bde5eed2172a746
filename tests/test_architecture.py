"""Guards on the shape of the code: interfaces write through services, and apps depend
only on apps earlier in the order (see docs/conventions.md, "App order")."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wasl"

# Earlier apps never import later ones. leads imports deals (conversion opens a deal);
# activities link to every customer record; demo fills all of them; web holds the pages
# that span apps (home, global search).
APP_ORDER = [
    "core",
    "accounts",
    "contacts",
    "deals",
    "leads",
    "activities",
    # Transports to outside systems, then what uses them: notifications and the automation
    # engine (its actions notify, e-mail and call webhooks).
    "integrations",
    "notifications",
    "automation",
    # Imports, exports, duplicates and merges write every kind of customer record.
    "imports",
    # Reports read every kind of record; nothing below them reads reports.
    "reports",
    "demo",
    "web",
    # Administrators' settings pages read and write through the services of the apps above.
    "settings_ui",
]

# Modules that assemble the whole product sit above every app, so they may import any.
ASSEMBLERS = {
    # `wasl run` migrates, creates the first admin and calls `demo`.
    "core/management/commands/run.py",
    # Test personas are built with the accounts services.
    "core/testing.py",
}

# The project modules that mount every app; an app importing them would import all apps.
PROJECT_MODULES = {"wasl.api", "wasl.urls", "wasl.wsgi", "wasl.cli"}

# Interface modules: they parse input, call one service and render; they never write.
INTERFACE_NAMES = {"api.py", "views.py", "tasks.py", "admin.py", "forms.py"}
# Bulk loaders write on purpose, set-based and without per-row services.
WRITE_EXEMPT_DIRS = {"demo"}

WRITE_METHODS = {"save", "delete", "bulk_create", "bulk_update"}
MANAGER_WRITES = {"create", "get_or_create", "update_or_create", "update", "delete"}
QUERYSET_STARTS = {"objects", "_default_manager", "filter", "exclude", "all", "select_for_update"}
# Receivers whose save/delete are not domain writes (`@router.delete` declares a route).
HARMLESS_RECEIVERS = {
    "router",
    "api",
    "client",
    "cache",
    "session",
    "storage",
    "default_storage",
    "response",
}


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "migrations" in parts or "tests" in parts or "__pycache__" in parts:
            continue
        yield path


def is_interface(path: Path) -> bool:
    parts = path.relative_to(PACKAGE).parts
    if parts[0] in WRITE_EXEMPT_DIRS:
        return False
    if "management" in parts and "commands" in parts:
        return True
    return path.name in INTERFACE_NAMES or any(p in {"api", "views"} for p in parts[:-1])


def receiver_chain(node: ast.AST) -> list[str]:
    """Names along `a.b.c(...).d` from the call's receiver outwards: ["d", "c", "b", "a"]."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return names


def write_calls(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        chain = receiver_chain(node.func.value)
        if chain and chain[0] in HARMLESS_RECEIVERS:
            continue
        if method in WRITE_METHODS or (
            method in MANAGER_WRITES and QUERYSET_STARTS.intersection(chain)
        ):
            yield node.lineno, ".".join([*reversed(chain), method]) + "(…)"


def test_interfaces_write_only_through_services():
    offenders = [
        f"wasl/{path.relative_to(PACKAGE)}:{line}: {call}"
        for path in python_files(PACKAGE)
        if is_interface(path)
        for line, call in write_calls(path)
    ]
    assert not offenders, (
        "Views, API handlers, commands and tasks must call a service instead of writing:\n"
        + "\n".join(offenders)
    )


def test_the_guard_recognises_a_direct_write(tmp_path):
    sample = tmp_path / "api.py"
    sample.write_text(
        "def handler(request, contact):\n"
        "    contact.save()\n"
        "    Contact.objects.create(first_name='x')\n"
        "    Contact.objects.filter(pk=1).update(first_name='y')\n"
        "    Deal.objects.bulk_create([])\n"
        "    fields = {}\n"
        "    fields.update(a=1)\n"
        "    cache.delete('k')\n"
    )
    found = [call for _line, call in write_calls(sample)]
    assert found == [
        "contact.save(…)",
        "Contact.objects.create(…)",
        "Contact.objects.filter.update(…)",
        "Deal.objects.bulk_create(…)",
    ]


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            # `from wasl import contacts` names an app through the package.
            if node.module == "wasl":
                for alias in node.names:
                    yield node.lineno, f"wasl.{alias.name}"


def app_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "wasl" or len(parts) < 2:
        return None
    return parts[1]


def test_every_app_has_a_place_in_the_order():
    apps = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    apps -= {"templates", "static", "locale"}
    missing = sorted(apps - set(APP_ORDER))
    assert not missing, f"add {missing} to APP_ORDER here and in docs/conventions.md"


def test_an_earlier_app_never_imports_a_later_one():
    rank = {app: index for index, app in enumerate(APP_ORDER)}
    offenders = []
    for path in python_files(PACKAGE):
        relative = path.relative_to(PACKAGE)
        if len(relative.parts) < 2 or relative.as_posix() in ASSEMBLERS:
            continue
        app = relative.parts[0]
        if app not in rank:
            continue
        for line, module in imported_modules(path):
            if module in PROJECT_MODULES or any(
                module.startswith(m + ".") for m in PROJECT_MODULES
            ):
                offenders.append(f"wasl/{relative}:{line} imports the project module {module}")
                continue
            target = app_of(module)
            if target in rank and rank[target] > rank[app]:
                offenders.append(f"wasl/{relative}:{line} ({app}) imports {module} ({target})")
    assert not offenders, (
        "An app imports only apps earlier in "
        + " → ".join(APP_ORDER)
        + ":\n"
        + "\n".join(offenders)
    )
