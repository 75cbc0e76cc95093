"""The runnable example for Python users finds its deliberate bug, and the pytest plugin stays out of the way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reference_helpers import outside_ci

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fuzz_with_pytest"


def test_the_example_finds_the_deliberate_bug(tmp_path):
    # run from a scratch directory so Hypothesis' example database stays out of the checkout
    proc = subprocess.run([sys.executable, "-m", "pytest", str(EXAMPLE), "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=outside_ci())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "breaks PRORATA-ROUNDING" in out and "IRC §72(e)(8)(A)-(B)" in out
    assert "distribution.basis_recovered: expected" in out
    # the shrunk request carries the neutral date, and pytest shows the test's line, not check()'s source
    assert 'E       request:  {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax"' in out
    assert ">       rollsplit_check(req, allocate(req))" in out and "raise Mismatch(" not in out


def test_the_example_is_not_part_of_the_projects_own_run():
    cfg = (ROOT / "pyproject.toml").read_text()
    assert 'testpaths = ["tests"]' in cfg
    assert not (EXAMPLE / "conftest.py").exists()


def test_the_plugin_imports_nothing_heavy():
    code = ("import sys; import rollsplit.conformance.fuzzing.pytest_plugin as p; "
            "heavy = [m for m in ('hypothesis', 'rollsplit.reference', 'rollsplit.spec', 'z3', 'rollsplit.conformance.oracle') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_plugin_is_registered_and_its_fixtures_work(tmp_path):
    test = tmp_path / "test_uses_fixture.py"
    test.write_text(
        "def test_it(rollsplit_check, rollsplit_reference, rollsplit_strategies):\n"
        "    req = {'date': '2025-06-30', 'plan': '401a', 'contract': 'pretax_aftertax', 'balance': 100,\n"
        "           'basis': 20, 'disbursements': [{'id': 'me', 'method': 'paid', 'amount': 50}]}\n"
        "    rollsplit_check(req, rollsplit_reference(req))\n"
        "    assert hasattr(rollsplit_strategies, 'boundary_requests')\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
