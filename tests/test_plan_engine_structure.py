"""The plans engine's shape: one meaning of "open", modules that import without a circle, blocks that
store their target while the page builds the link (rows stored with a link still show it)."""
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from plans.document import StackAction
from plans.links import block_link
from plans.models import Plan
from roles.models import RoleDefinition
from tests.test_plans_views import page, plan_row

ROOT = Path(__file__).resolve().parent.parent
PLANS_MODULES = sorted(path.stem for path in (ROOT / "plans").glob("*.py") if path.stem != "__init__")


def test_every_plan_status_is_either_open_or_final():
    assert set(Plan.OPEN_STATUSES) | set(Plan.FINAL_STATUSES) == set(Plan.Status.values)
    assert not set(Plan.OPEN_STATUSES) & set(Plan.FINAL_STATUSES)
    assert set(Plan.SUPERSEDABLE_STATUSES) <= set(Plan.OPEN_STATUSES)
    assert Plan.Status.APPLYING not in Plan.SUPERSEDABLE_STATUSES


def test_stack_actions_are_the_values_stored_plans_carry():
    assert StackAction.values == ["none", "skip", "create", "update", "delete", "recreate"]


@pytest.mark.parametrize("module", PLANS_MODULES)
def test_each_plans_module_imports_first_in_a_fresh_interpreter(module):
    """Imported first, alone: a circle among the engine's modules would fail here for one of them."""
    code = f"import django; django.setup(); import plans.{module}"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "rolemodel_site.settings"})
    assert result.returncode == 0, result.stderr[-2000:]


def test_only_dispatch_puts_tasks_on_the_queue():
    senders = sorted(path.name for path in (ROOT / "plans").rglob("*.py") if ".delay(" in path.read_text())
    assert senders == ["dispatch.py"]


def test_the_worker_builds_no_url():
    for name in ("planning.py", "guards.py", "applying.py", "document.py", "dispatch.py", "jobs.py"):
        assert "reverse(" not in (ROOT / "plans" / name).read_text(), name


@pytest.mark.django_db
def test_the_page_links_each_block_to_its_target_and_keeps_an_old_rows_link(client_for, people):
    role = RoleDefinition.objects.create(logical_name="AdminRole", role_name="AdminRole")
    plan = plan_row(people.editor, status=Plan.Status.BLOCKED, blocks=[
        {"message": "role block", "target": {"kind": "role", "id": role.pk, "confirm_replacement": True}},
        {"message": "user block", "target": {"kind": "iam_user", "q": "ops+oncall"}},
        {"message": "master block", "target": {"kind": "master"}},
        {"message": "dashboard block", "target": {"kind": "dashboard"}},
        {"message": "old block", "link": "/accounts/"},
        {"message": "bare block"},
    ])

    html = page(client_for(people.viewer), reverse("plans:detail", args=[plan.pk]))

    assert f'href="/roles/{role.pk}/edit/?confirm_replacement=1">role block</a>' in html
    assert 'href="/memberships/iam-users/?q=ops%2Boncall">user block</a>' in html
    assert f'href="{reverse("accounts:master_edit")}">master block</a>' in html
    assert 'href="/">dashboard block</a>' in html
    assert 'href="/accounts/">old block</a>' in html
    assert "<li>bare block</li>" in html


def test_a_target_of_an_unknown_kind_links_nowhere():
    assert block_link({"message": "m", "target": {"kind": "from-a-newer-release"}}) == ""
    assert block_link({"message": "m", "target": {"kind": "role"}}) == ""


def _module_level_plans_imports(path: Path, *, anywhere: bool = False) -> set[str]:
    """The plans modules ``path`` imports at module level (imports inside functions run later, when
    called, as the tasks' do, and make no circle at import time); with ``anywhere``, in functions too."""
    import ast

    found = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if anywhere else tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "plans":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("plans."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("plans.")}
    return found & set(PLANS_MODULES)


def test_the_plans_modules_import_one_another_without_a_circle():
    graph = {module: _module_level_plans_imports(ROOT / "plans" / f"{module}.py") for module in PLANS_MODULES}
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        path.pop()
        done.add(module)

    for module in PLANS_MODULES:
        visit(module)
    assert graph["tasks"] == set()  # the tasks import what they call inside their functions
    # Nothing else hides an import in a function: the graph above is the whole of it. The app config
    # registers the whole-state check in ready(), where Django wants app imports (after the registry).
    for module in PLANS_MODULES:
        if module not in ("tasks", "apps"):
            assert _module_level_plans_imports(ROOT / "plans" / f"{module}.py", anywhere=True) == graph[module], module
