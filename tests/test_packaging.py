"""What a user installs: one package, rollsplit.*, built into an sdist and a wheel and installed from the wheel
(not editable) into a fresh virtual environment. A packaging mistake — a data file missing from the wheel, a
wrong package-dir, a bare top-level name — makes these tests fail.

The fresh environment gets the wheel with `--no-deps`; its dependencies (z3, hypothesis, ...) are borrowed from
the environment running the tests through a path file, so the test needs no network. That path file adds
folders only: the test environment's own rollsplit (editable or not) is never importable there, since the
wheel's site-packages comes first and an editable install's finder is not run from a borrowed folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import rollsplit

ROOT = Path(__file__).resolve().parent.parent
SEED_004 = json.loads((ROOT / "examples" / "seed_004.json").read_text())
BARE = ("spec", "reference", "solver", "conformance")
SKIP = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache",
                              "audit", ".venv")


def _run(args, cwd, timeout=300, env=None):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """`python -m build` on a copy of the checkout: the sdist, then the wheel built from that sdist."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("the 'build' package is missing: install the test extra, python -m pip install -e '.[test]'")
    src = tmp_path_factory.mktemp("src") / "rollsplit"
    shutil.copytree(ROOT, src, ignore=SKIP)
    out = src / "dist"
    proc = _run([sys.executable, "-m", "build", "--outdir", out, src], cwd=src, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (whl,) = dist.glob("rollsplit-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh venv holding only the wheel; returns its bin directory."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root], check=True, timeout=120)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    proc = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel],
                cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "zz_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return bindir


def test_the_wheel_holds_one_package_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"rollsplit", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    for needed in ("rollsplit/spec/law.py", "rollsplit/reference/algorithm.py", "rollsplit/solver/prove.py",
                   "rollsplit/conformance/vectors/manifest.json", "rollsplit/conformance/vectors/examples.json",
                   "rollsplit/conformance/schemas/vectors.schema.json", "rollsplit/conformance/examples/adapter.js",
                   "rollsplit/conformance/README.md", "rollsplit/fuzzing.py"):
        assert needed in names, needed
    vectors = {p.name for p in (ROOT / "conformance" / "vectors").glob("*.json")}
    assert vectors == {Path(n).name for n in names if n.startswith("rollsplit/conformance/vectors/")
                       and n.endswith(".json")}
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode()
    assert f"Version: {rollsplit.__version__}" in meta
    assert any(n.endswith("dist-info/licenses/LICENSE") or n.endswith("dist-info/LICENSE") for n in names), names


def test_the_sdist_passes_twine_check_when_twine_is_there(dist):
    if importlib.util.find_spec("twine") is None:
        pytest.skip("twine is not installed (optional)")
    proc = _run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())], cwd=dist)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", BARE)
def test_bare_names_are_not_installed(venv, tmp_path, name):
    proc = _run([venv / "python", "-c", f"import {name}"], cwd=tmp_path)
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr, proc.stdout + proc.stderr
    proc = _run([venv / "python", "-c", f"import rollsplit.{name}"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_the_installed_public_api_allocates_the_seed_example(venv, tmp_path):
    code = "import json, sys, rollsplit; print(json.dumps(rollsplit.allocate(json.loads(sys.argv[1]))))"
    proc = _run([venv / "python", "-c", code, json.dumps(SEED_004)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    # DOMAIN.md seed 004, worked by hand: the $60,000 direct rollover is all pre-tax (Notice 2014-54 lets the
    # pre-tax money go to the rollover first); the $20,000 paid is $4,000 pre-tax + $16,000 after-tax
    ira, me = answer["disbursements"]
    assert (ira["pretax"], ira["aftertax"]) == (6_000_000, 0)
    assert (me["pretax"], me["aftertax"]) == (400_000, 1_600_000)


def test_the_installed_command_says_its_versions(venv, tmp_path):
    proc = _run([venv / "rollsplit", "--version"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (f"rollsplit {rollsplit.__version__} (contract {rollsplit.CONTRACT_VERSION}, "
                                   f"suite {rollsplit.SUITE_VERSION})")


def _clashing_project(tmp_path: Path) -> Path:
    """A developer's project with its own spec/, solver/, reference/ and conformance/ packages, and a copy of the
    fuzzing example next to them."""
    project = tmp_path / "project"
    for name in BARE:
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text(f"OWNER = 'the developer'\nNAME = {name!r}\n")
    shutil.copytree(ROOT / "examples" / "fuzz_with_pytest", project / "fuzz_with_pytest", ignore=SKIP)
    (project / "fuzz_with_pytest" / "test_own_packages.py").write_text(
        "import spec, solver, reference, conformance\n\n"
        "def test_the_developers_own_packages_are_theirs():\n"
        "    assert {spec.OWNER, solver.OWNER, reference.OWNER, conformance.OWNER} == {'the developer'}\n")
    return project


def test_a_project_with_its_own_generic_packages_runs_the_fuzzing_example(venv, tmp_path):
    project = _clashing_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(project)}
    proc = _run([venv / "python", "-m", "pytest", "fuzz_with_pytest", "-q", "-p", "no:cacheprovider"],
                cwd=project, env=env)
    out = proc.stdout + proc.stderr
    assert "ImportError" not in out and "ModuleNotFoundError" not in out, out
    # the example fails on purpose (its toy truncates the pro rata share); the developer's own test passes
    assert "1 failed, 2 passed" in out, out
    assert "breaks PRORATA-ROUNDING" in out, out


def test_a_project_with_its_own_generic_packages_runs_the_suite_against_serve(venv, tmp_path):
    project = _clashing_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(project)}
    proc = _run([venv / "rollsplit", "conformance", "run", "--only", "examples,elections", "--",
                 venv / "rollsplit", "serve"], cwd=project, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed, 0 failed, 0 errored" in proc.stdout, proc.stdout[-2000:]
    proc = _run([venv / "rollsplit", "conformance", "verify"], cwd=project, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
