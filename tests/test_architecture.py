"""The dependency rule of the design: portal -> backorders -> orders -> inventory, with
notifications a leaf any of them may call, restapi the API conventions they share, and
nothing importing portal. Checked on every import statement, including deferred ones."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"portal", "inventory", "orders", "backorders", "notifications", "restapi"}
ALLOWED = {
    "restapi": set(),
    "notifications": {"restapi"},
    "inventory": {"notifications", "restapi"},
    "orders": {"inventory", "notifications", "restapi"},
    "backorders": {"orders", "inventory", "notifications", "restapi"},
    "portal": PROJECT_PACKAGES - {"portal"},
}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & PROJECT_PACKAGES


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_design_allows(package):
    offending = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        imported = _imported_packages(path) - {package} - ALLOWED[package]
        if imported:
            offending[str(path.relative_to(ROOT))] = sorted(imported)
    assert offending == {}


# --- the allocation ledger ------------------------------------------------------------
# Only orders/ledger/ writes the ledger: Allocation and BackorderPeg rows, the stock and
# inbound counters, and the order lines' quantity split (DESIGN.md, "All writes to the
# allocation ledger go through one module's verbs").

LEDGER = ROOT / "orders" / "ledger"
LEDGER_ROWS = {"Allocation", "BackorderPeg"}
COUNTERS = {
    "StockLevel": {"on_hand", "allocated"},
    "InboundLine": {"promised", "received"},
    "OrderLine": {"allocated", "backordered", "shipped", "cancelled"},
}
COUNTER_FIELDS = set().union(*COUNTERS.values())
ROW_WRITES = {"create", "bulk_create", "bulk_update", "update", "delete", "get_or_create"}
ROW_WRITES |= {"update_or_create", "save"}
LEDGER_TABLES = "inventory_stocklevel|inventory_inboundline|orders_allocation|"
LEDGER_TABLES += "orders_backorderpeg|orders_orderline"
SQL_WRITE = re.compile(
    r"(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+(\{\s*(StockLevel|InboundLine|Allocation|"
    rf"BackorderPeg|OrderLine)\._meta\.db_table\s*\}}|({LEDGER_TABLES})\b)",
    re.IGNORECASE,
)


def _names_in(node) -> set[str]:
    """Every name and attribute in an expression (the receiver chain of a call)."""
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def _strings(node) -> set[str]:
    return {
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and isinstance(child.value, str)
    }


def _counter_constructors(node) -> bool:
    """A StockLevel / InboundLine / OrderLine built with counter values inside `node`."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name):
            fields = COUNTERS.get(child.func.id, set())
            if any(keyword.arg in fields for keyword in child.keywords):
                return True
    return False


def ledger_writes(source: str) -> list[str]:
    """What in this module writes the ledger, as 'line: why' (empty when nothing)."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        if method not in ROW_WRITES:
            continue
        names = _names_in(receiver)
        lowered = {name.lower() for name in names}
        keywords = {keyword.arg for keyword in node.keywords}
        update_fields = set()
        for keyword in node.keywords:
            if keyword.arg in ("update_fields", "fields"):
                update_fields |= _strings(keyword.value)
        if len(node.args) > 1:
            update_fields |= _strings(node.args[1])
        why = None
        if names & LEDGER_ROWS or any(
            name in lowered for name in ("allocation", "allocations", "peg", "pegs")
        ):
            why = f"{method} on a ledger row"
        elif method == "update" and keywords & COUNTER_FIELDS:
            why = f"update of {sorted(keywords & COUNTER_FIELDS)}"
        elif method in ("bulk_update", "save") and update_fields & COUNTER_FIELDS:
            why = f"{method} of {sorted(update_fields & COUNTER_FIELDS)}"
        elif "OrderLine" in names and method in ("create", "bulk_create", "get_or_create"):
            why = f"{method} of order lines (their quantity split)"
        elif method in ("create", "bulk_create", "update_or_create") and (
            keywords & COUNTER_FIELDS or _counter_constructors(node)
        ):
            why = f"{method} with counter values"
        if why:
            found.append(f"{node.lineno}: {why}")
    for match in SQL_WRITE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        found.append(f"{line}: SQL {match.group(0)!r}")
    return sorted(found, key=lambda item: int(item.split(":")[0]))


def _modules_outside_the_ledger():
    for package in sorted(PROJECT_PACKAGES):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or LEDGER in path.parents:
                continue
            yield path


def test_only_the_ledger_writes_allocations_pegs_counters_and_line_splits():
    offending = {
        str(path.relative_to(ROOT)): writes
        for path in _modules_outside_the_ledger()
        if (writes := ledger_writes(path.read_text()))
    }
    assert offending == {}


@pytest.mark.parametrize(
    "snippet",
    [
        "Allocation.objects.bulk_create(rows)",
        "BackorderPeg.objects.filter(line=line).delete()",
        "peg.save(update_fields=['quantity'])",
        "allocation.delete()",
        "StockLevel.objects.filter(pk=pk).update(allocated=F('allocated') + 1)",
        "InboundLine.objects.filter(pk=pk).update(promised=0)",
        "OrderLine.objects.bulk_update(lines, ['allocated', 'backordered'])",
        "line.save(update_fields=['cancelled', 'cancel_reason'])",
        "OrderLine.objects.create(order=order, sku=sku, quantity=3, allocated=3)",
        "StockLevel.objects.bulk_create([StockLevel(sku_id=1, on_hand=5)])",
        "cursor.execute('UPDATE inventory_stocklevel SET allocated = 0')",
        "cursor.execute(f'DELETE FROM {BackorderPeg._meta.db_table} WHERE id = 1')",
        "cursor.execute(f'{rows}UPDATE {OrderLine._meta.db_table} AS line SET x = 1')",
    ],
)
def test_the_ledger_check_catches_a_planted_write(snippet):
    assert ledger_writes(f"def planted():\n    {snippet}\n") != []


def test_the_ledger_check_lets_reads_and_other_writes_pass():
    source = (
        "OrderLine.objects.filter(pk__in=ids).update(communicated_date=date)\n"
        "StockLevel.objects.filter(pk=pk).update(holdback=2)\n"
        "StockLevel.objects.bulk_create([StockLevel(sku_id=1, warehouse_id=2, holdback=0)])\n"
        "InboundLine.objects.create(run=run, sku_id=1, quantity=5)\n"
        "Allocation.objects.filter(stock_level=level).values_list('line_id')\n"
        "cursor.execute('SELECT count(*) FROM inventory_stocklevel')\n"
        "line.save(update_fields=['window_end'])\n"
    )
    assert ledger_writes(source) == []
