"""The specification is independent of the algorithm: the invariants, the law's facts they read and the validity
rules import nothing the algorithm runs (its tables in `spec.law`, its fill orders in `spec.orders`, anything of
`rollsplit.reference`). Checked on the source, so a helper shared by accident fails here before any proof is run.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from rollsplit.spec import facts, law

SPEC = Path(__file__).resolve().parent.parent / "spec"
INDEPENDENT = ("invariants.py", "facts.py", "validity.py")
# spec.invariants reads only the citation records of the effective dates from spec.law (their source, pinpoint and
# quote, for the text of ROUTE-IN-FORCE's citations); the dates the rule uses are spec.facts' own
CITATION_RECORDS = {"MODELLED_FROM", "DESIGNATED_ROTH_FROM", "AFTERTAX_INTO_403B_FROM", "ROTH_IRA_FROM_PLAN",
                    "DESIGNATED_ROTH_457B_FROM", "IN_PLAN_ROTH_FROM", "IN_PLAN_ROTH_457B_FROM", "QPLO_FROM",
                    "NONSPOUSE_FROM"}
FORBIDDEN = ("rollsplit.reference", "rollsplit.spec.orders", "rollsplit.spec.parse", "rollsplit.solver")


def _imports(tree: ast.AST) -> list[tuple[str, str | None, str]]:
    """(module, name imported from it or None, local name)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, a.asname or a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            # a relative import is resolved against rollsplit.spec (the package these modules live in)
            module = node.module or ""
            if node.level:
                base = "rollsplit.spec".rsplit(".", node.level - 1)[0]
                module = f"{base}.{module}" if module else base
            out += [(module, a.name, a.asname or a.name) for a in node.names]
    return out


@pytest.mark.parametrize("name", INDEPENDENT)
def test_imports_nothing_the_algorithm_runs(name):
    tree = ast.parse((SPEC / name).read_text())
    for module, what, local in _imports(tree):
        full = f"{module}.{what}" if what else module
        assert not any(full == f or full.startswith(f + ".") for f in FORBIDDEN), f"{name} imports {full}"
        if full == "rollsplit.spec.law":   # the module itself, only for citation texts, see below
            assert name == "invariants.py", f"{name} imports {full}"
        assert module != "rollsplit.spec.law", f"{name} imports {what} from the algorithm's law tables"
    # where spec.law is imported at all, only its citation records are read
    law_names = {local for module, what, local in _imports(tree)
                 if (module, what) == ("rollsplit.spec", "law") or module == "rollsplit.spec.law"}
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in law_names}
    assert used <= CITATION_RECORDS, f"{name} reads {sorted(used - CITATION_RECORDS)} of the algorithm's law tables"


def test_importing_the_specification_loads_nothing_the_algorithm_runs():
    """Indirect imports too: in a fresh interpreter, importing the invariants, the facts and the validity rules loads
    no module of the algorithm (its fill orders, the reference, the parser, the solver)."""
    import subprocess
    import sys
    code = ("import sys; import rollsplit.spec.invariants, rollsplit.spec.facts, rollsplit.spec.validity; "
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, bad


def test_the_check_itself_can_fail(tmp_path):
    """The import check above, on a file that calls the algorithm's table: it must see it."""
    tree = ast.parse("from rollsplit.spec import law as t\nx = t.may_receive('a', 'b', 'c', True, 'pretax')\n")
    law_names = {local for module, what, local in _imports(tree) if (module, what) == ("rollsplit.spec", "law")}
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in law_names}
    assert used - CITATION_RECORDS == {"may_receive"}
    tree = ast.parse("from rollsplit.spec.orders import direct_fill_order\n")
    assert any(f"{m}.{w}".startswith("rollsplit.spec.orders") for m, w, _ in _imports(tree))
    tree = ast.parse("from . import orders, law\nfrom .law import regime_permitted\n")   # relative imports
    found = {(m, w) for m, w, _ in _imports(tree)}
    assert ("rollsplit.spec", "orders") in found and ("rollsplit.spec.law", "regime_permitted") in found


def test_no_invariant_calls_the_fill_orders_or_box7_of_the_algorithm():
    text = (SPEC / "invariants.py").read_text()
    for helper in ("direct_fill_order", "sixty_day_fill_order", "direct_default_rank", "sixty_day_default_rank",
                   "may_receive", "receives_nothing", "is_conversion", "payment_box7", "route_closed",
                   "rmd_required_possible", "WITHHOLDING_RATE", "WITHHOLDING_DE_MINIMIS"):
        assert helper not in text, helper


# Two statements of one law: where they disagree, the proofs fail (each invariant is proved of the algorithm's
# answer). These tests say where, faster than a proof run does.
CASES = list(itertools.product(law.CONTRACTS, ("direct", "sixty_day"), law.DESTINATIONS, (True, False)))


@pytest.mark.parametrize("contract, how, to, accepts", CASES)
def test_the_two_statements_of_where_money_may_go_agree(contract, how, to, accepts):
    kinds = facts.receives(contract, how, to, accepts)
    for kind in ("pretax", "aftertax"):
        assert (kind in kinds) == law.may_receive(contract, how, to, accepts, kind)


@pytest.mark.parametrize("contract, to", list(itertools.product(law.CONTRACTS, law.DESTINATIONS)))
def test_the_two_statements_of_conversion_and_box7_agree(contract, to):
    assert facts.taxed_when_rolled(contract, to) == law.is_conversion(contract, to)
    for qplo in (False, True):
        assert facts.box7(contract, "paid", None, qplo) == law.payment_box7(contract, qplo)


@pytest.mark.parametrize("contract, how", list(itertools.product(law.CONTRACTS, ("direct", "sixty_day"))))
def test_the_law_reasons_order_destinations_as_the_ranks_do(contract, how):
    """fill_tier (from the law's reasons) and the algorithm's ranks order every pair of destinations that can
    receive money the same way (equal stays equal)."""
    live = [(to, acc) for to in law.DESTINATIONS for acc in ((True, False) if how == "direct" else (True,))
            if not law.receives_nothing(contract, how, to, acc)]
    for (a, x), (b, y) in itertools.product(live, live):
        if how == "direct":
            ra, rb = law.direct_default_rank(contract, a, x), law.direct_default_rank(contract, b, y)
        else:
            ra, rb = law.sixty_day_default_rank(contract, a), law.sixty_day_default_rank(contract, b)
        ta, tb = facts.fill_tier(contract, how, a, x), facts.fill_tier(contract, how, b, y)
        assert (ra < rb) == (ta < tb) and (ra == rb) == (ta == tb), (a, x, b, y)


def test_the_two_statements_of_effective_dates_agree():
    import datetime as dt
    for year in range(2000, 2027):
        for date in (dt.date(year, 1, 1), dt.date(year, 9, 28), dt.date(year, 12, 31)):
            for contract, plan in itertools.product(law.CONTRACTS, law.PLANS):
                for to, acc in [("traditional_ira", True), ("roth_ira", True), ("in_plan_roth", True),
                                ("403b", True), ("403b", False)]:
                    for qplo in (False, True):
                        closed = law.route_closed(contract, plan, date, [("r", to, acc)], "p" if qplo else None)
                        assert facts.routes_open(contract, plan, date, [(to, acc)], qplo) == (closed is None)
                assert facts.lifetime_rmd_possible(contract, date) == law.rmd_required_possible(contract, date)
                assert facts.default_rule(contract, date) == law.default_regime(contract, date)
                for rule in law.REGIMES:
                    assert facts.rule_permitted(contract, rule, date) == law.regime_permitted(contract, rule, date)
