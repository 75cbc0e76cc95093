"""`rollsplit prove` and `rollsplit recheck` end to end on a few small shapes.

- a proved bundle exits 0 and every written .smt2 file, given to z3 in a fresh process, answers as expected;
- a broken reference is refuted with a counterexample that replays on the concrete code, exit 1;
- unknown is a failure, never "proved";
- every seeded mutant is refuted, each by a counterexample the test replays itself;
- recheck catches a tampered, missing or unlisted file and a file whose answer changed;
- usage errors are one sentence on stderr, exit 2, no traceback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rollsplit.reference.algorithm as alg
import rollsplit.solver.prove as P
import rollsplit.solver.report as report_module
from rollsplit.cli import main
from rollsplit.reference import calculate
from rollsplit.reference.mutants import MUTANTS, parse_with, compute_with
from rollsplit.solver import shapes as S
from rollsplit.solver.recheck import recheck, z3_binary
from rollsplit.spec.invariants import violated
from rollsplit.spec.parse import parse_request

# a few small shapes: a hardship payment, a qualified Roth rollover, and an old-rule split (brings the LR3 lemmas)
SMALL = [S.small_shapes()[i] for i in (6, 5, 3)]
NAMES = [s.name() for s in SMALL]


@pytest.fixture(autouse=True)
def _no_formula_section(monkeypatch):
    # REPORT.md's sympy section is another module's (tested there) and takes long; these tests are about proofs
    monkeypatch.setattr(report_module, "_formulas_section", lambda: "")


def _prove(tmp: Path, *extra: str) -> int:
    return main(["prove", "--out", str(tmp), "--jobs", "2", "--shapes", *NAMES, *extra])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    mp = pytest.MonkeyPatch()
    mp.setattr(report_module, "_formulas_section", lambda: "")
    try:
        assert _prove(out) == 0
    finally:
        mp.undo()
    return out


def _copy(bundle: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(bundle, dst)
    return dst


def test_bundle_layout_and_results(bundle):
    data = json.loads((bundle / "results.json").read_text())
    obs = data["obligations"]
    assert {o["status"] for o in obs} <= {"proved", "satisfiable"}
    assert {o["shape"] for o in obs} - {"-"} == set(NAMES)
    kinds = {o["kind"] for o in obs}
    assert {"invariant", "determinacy", "witness", "lemma", "compiled", "validity", "premise", "sanity"} <= kinds
    # the parser's checks are listed apart, as checked (tested), never as proved
    assert {c["status"] for c in data["parse_checks"]} == {"checked"}
    assert {c["shape"] for c in data["parse_checks"]} == set(NAMES)
    for o in obs:
        f = bundle / o["file"]
        assert f.is_file() and hashlib.sha256(f.read_bytes()).hexdigest() == o["sha256"]
        assert f.parent.name == ("witnesses" if o["expected"] == "sat" else "obligations")
    assert data["solver"]["name"] == "z3" and data["spec_sha256"]
    text = (bundle / "REPORT.md").read_text()
    for inv in ("CONSERVE-ROW", "DIRECT-FIRST", "NO-TAXABLE-CASH-WHEN-COVERED", "OLD-RULE-PRORATA"):
        assert f"### {inv}" in text
    assert "## What is NOT proved" in text and "rollsplit recheck" in text


@pytest.mark.skipif(z3_binary() is None, reason="no z3 binary next to this Python or on PATH")
def test_every_file_answers_as_expected_with_the_z3_binary(bundle):
    """Independent of solver.recheck: each file alone, `z3 FILE`, in its own process."""
    data = json.loads((bundle / "results.json").read_text())
    for o in data["obligations"]:
        out = subprocess.run([z3_binary(), "-T:60", str(bundle / o["file"])], capture_output=True, text=True)
        assert out.stdout.strip() == o["expected"], o["file"]


def test_recheck_agrees_on_a_good_bundle(bundle):
    rep = recheck(bundle, "z3", timeout=60, jobs=2, progress=None)
    assert rep.ok and not rep.integrity
    assert len(rep.checks) == len(json.loads((bundle / "results.json").read_text())["obligations"])
    assert all(c.verdict == "agrees" for c in rep.checks)


def test_a_fresh_bundle_is_not_stale(bundle, capsys):
    assert main(["recheck", str(bundle), "--jobs", "2", "--sample", "3"]) == 0
    assert "It proves the installed code" in capsys.readouterr().out


@pytest.mark.parametrize("change", ["source", "z3", "no-record"])
def test_recheck_fails_a_stale_bundle_unless_allowed(bundle, tmp_path, capsys, change):
    b = _copy(bundle, tmp_path)
    data = json.loads((b / "results.json").read_text())
    if change == "source":       # the algorithm changed after the bundle was proved
        data["sources_sha256"]["reference/algorithm.py"] = "0" * 64
    elif change == "z3":
        data["solver"]["version"] = "0.0.1"
    else:
        del data["sources_sha256"]
    (b / "results.json").write_text(json.dumps(data))
    assert main(["recheck", str(b), "--jobs", "2", "--sample", "2"]) == 1
    out = capsys.readouterr().out
    assert "Stale" in out and "FAILED (the bundle is STALE)" in out
    assert {"source": "reference/algorithm.py", "z3": "z3 0.0.1", "no-record": "sources_sha256"}[change] in out
    assert main(["recheck", str(b), "--jobs", "2", "--sample", "2", "--allow-stale"]) == 0
    assert "STALE" in capsys.readouterr().out


def test_recheck_worker_without_the_binary(bundle, monkeypatch):
    """The fallback: z3's own Python API in a fresh worker process that imports nothing of rollsplit."""
    import rollsplit.solver.recheck as R
    monkeypatch.setattr(R, "z3_binary", lambda: None)
    rep = R.recheck(bundle, "z3", timeout=60, jobs=2, progress=None)
    assert rep.ok and "worker" in rep.solvers["z3"]
    assert "rollsplit" not in R.WORKER and "solver" not in R.WORKER.split("def run_z3")[0].replace("solver, ", "")


def test_recheck_catches_tampering(bundle, tmp_path, capsys):
    b = _copy(bundle, tmp_path)
    files = sorted((b / "obligations").glob("inv__*.smt2"))
    # 1. tampered: the proof now asserts nothing false, but the sha256 differs
    files[0].write_text(files[0].read_text().replace("(check-sat)", "(assert true)\n(check-sat)"))
    # 2. missing
    files[1].unlink()
    # 3. unlisted
    (b / "witnesses" / "extra.smt2").write_text("(check-sat)\n")
    assert main(["recheck", str(b), "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "tampered" in out and "missing" in out and "unlisted" in out
    assert files[0].name in out and files[1].name in out


def test_recheck_only_and_sample_choose_the_files_solved_but_check_every_hash(bundle, tmp_path, capsys):
    from rollsplit.solver.recheck import select
    files = [f"obligations/o{i:02d}.smt2" for i in range(10)] + ["witnesses/w.smt2"]
    assert select(files, ["witnesses/*"]) == ["witnesses/w.smt2"]
    assert select(files, sample=3) == ["obligations/o00.smt2", "obligations/o03.smt2", "obligations/o07.smt2"]
    assert select(files, ["obligations/*"], sample=20) == files[:10]
    b = _copy(bundle, tmp_path)
    witness = next(iter(sorted((b / "witnesses").glob("*.smt2"))))
    witness.write_text(witness.read_text() + "\n")   # tampered, and not among the files solved
    assert main(["recheck", str(b), "--only", "obligations/*", "--sample", "3"]) == 1
    out = capsys.readouterr().out
    assert "solved 3 of the" in out and "tampered" in out and witness.name in out
    assert main(["recheck", str(bundle), "--sample", "5"]) == 0
    out = capsys.readouterr().out
    assert "every file solved answered as expected;" in out and "were not solved" in out
    assert main(["recheck", str(b), "--only", "obligations/*inv__*", "--only", "nothing"]) == 1
    assert main(["recheck", str(b), "--only", "no/such/*"]) == 2
    assert "no file of" in capsys.readouterr().err


def test_recheck_catches_a_changed_answer_even_with_a_matching_hash(bundle, tmp_path, capsys):
    """An obligation replaced by a satisfiable one, with results.json updated to match: z3 says sat, a mismatch."""
    b = _copy(bundle, tmp_path)
    data = json.loads((b / "results.json").read_text())
    ob = next(o for o in data["obligations"] if o["kind"] == "invariant")
    text = b"(declare-fun x () Int)\n(assert (> x 0))\n(check-sat)\n"
    (b / ob["file"]).write_bytes(text)
    ob["sha256"] = hashlib.sha256(text).hexdigest()
    (b / "results.json").write_text(json.dumps(data))
    assert main(["recheck", str(b), "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and Path(ob["file"]).name in out, out


def _floor_share(A, D, balance, basis, pre1987):
    """A broken reference: the pro rata share truncated instead of rounded half up."""
    pre = A.min(D, pre1987)
    return pre + A.floordiv((D - pre) * (basis - pre1987), balance - pre1987)


@pytest.fixture
def fresh_lemmas():
    """rollsplit.solver.obligations caches the lemma terms per process; a patched reference must not leak into them."""
    import rollsplit.solver.obligations as O
    clear = getattr(getattr(O, "_lemma_obligations", None), "cache_clear", lambda: None)
    clear()
    yield
    clear()


def test_a_broken_reference_is_refuted_with_a_replayed_counterexample(tmp_path, monkeypatch, capsys, fresh_lemmas):
    monkeypatch.setattr(alg, "basis_recovered", _floor_share)   # the pool forks: workers see the patch
    shape = SMALL[1]
    assert main(["prove", "--out", str(tmp_path), "--jobs", "1", "--shapes", shape.name()]) == 1
    out = capsys.readouterr().out
    assert "refuted" in out and "NOT PROVED" in out
    data = json.loads((tmp_path / "results.json").read_text())
    refuted = [o for o in data["obligations"] if o["status"] == "refuted"]
    assert "PRORATA-ROUNDING" in {o["invariant"] for o in refuted}
    assert not any(o["status"] == "proved" and o["invariant"] == "PRORATA-ROUNDING" for o in data["obligations"])
    for o in refuted:
        if o["kind"] == "lemma":   # the rounding lemmas speak about basis_recovered too: refuted, no request
            continue
        cex = json.loads((tmp_path / "counterexamples" / (Path(o["file"]).stem + ".json")).read_text())
        c = cex["counterexample"]
        assert c["confirmed"] and o["invariant"] in c["broken"]
        # replay it here too, on the (patched) concrete code
        req = parse_request(c["request"])
        from rollsplit.reference import compute
        assert o["invariant"] in [inv.id for inv in violated(req, compute(req))]
    assert "NOT proved" in (tmp_path / "REPORT.md").read_text()


def test_unknown_is_a_failure_never_proved(tmp_path, monkeypatch, capsys):
    real = P.check

    def undecided(ob, timeout_s, shared=None):
        if ob.kind == "invariant" and ob.invariant == "CONSERVE-ROW":
            return "unknown", 0.0, None
        return real(ob, timeout_s, shared)
    monkeypatch.setattr(P, "check", undecided)
    assert main(["prove", "--out", str(tmp_path), "--jobs", "1", "--shapes", SMALL[0].name()]) == 1
    out = capsys.readouterr().out
    assert "unknown" in out and "NOT PROVED: 1 obligation" in out
    data = json.loads((tmp_path / "results.json").read_text())
    row = next(o for o in data["obligations"] if o["invariant"] == "CONSERVE-ROW")
    assert row["status"] == "unknown"
    report = (tmp_path / "REPORT.md").read_text()
    assert "1 obligation(s) are NOT proved" in report and "0 of 1 shapes proved" in report


def test_judge_never_calls_unknown_proved():
    from rollsplit.solver.obligations import Obligation
    ob = Obligation("x", "invariant", "X", "-", "unsat", "", "", [])
    assert [P._judge(ob, r) for r in ("unsat", "sat", "unknown")] == ["proved", "refuted", "unknown"]
    ob.expected = "sat"
    assert [P._judge(ob, r) for r in ("sat", "unsat", "unknown")] == ["satisfiable", "vacuous", "unknown"]


def test_a_real_timeout_is_reported_unknown():
    """z3 with a 1 ms budget on a nonlinear lemma gives up; whatever it says, unsat is the only 'proved'."""
    from rollsplit.solver.obligations import lemma_obligations
    ob = next(o for o in lemma_obligations([SMALL[2]]) if o.invariant == "PRORATA-FULL")
    r, _, _ = P.check(ob, 0.001)
    assert r in ("unknown", "unsat")
    assert P._judge(ob, r) == ("proved" if r == "unsat" else "unknown")


def test_every_mutant_is_refuted_by_a_counterexample_that_replays(tmp_path):
    from rollsplit.reference import compute
    from rollsplit.reference.mutants import calculate_with, written_with
    from rollsplit.solver.replay import contract_accepts
    from rollsplit.spec.errors import RequestError
    from rollsplit.spec.model import result_from_wire
    from rollsplit.spec.validity import structure_problem
    recs = P.run_mutants(jobs=2, out_dir=tmp_path, progress=None)
    assert [r["mutant"] for r in recs] == list(MUTANTS)
    for r in recs:
        name, m = r["mutant"], MUTANTS[r["mutant"]]
        assert r["refuted"], (name, r["how"])
        cex = json.loads((tmp_path / r["counterexample"]).read_text())
        assert cex["confirmed"]
        # the test's own replay of each kind of refutation
        if r["refuted_by"][0] == "PARSE":       # the contract rejects the request, the mutant answers it
            assert structure_problem(cex["request"]) == calculate(cex["request"])["error"]["code"]
            assert "error" not in calculate_with(name, cex["request"])
        elif r["refuted_by"][0] == "VALIDITY":   # the mutant's acceptance differs from the contract's
            assert ("error" not in calculate_with(name, cex["request"])) != contract_accepts(cex["request"])
        elif r["refuted_by"][0] == "COMPILED-EQUALS-ALGORITHM":   # its compiled path differs from the algorithm
            assert calculate_with(name, cex["request"]) != calculate(cex["request"])
        elif r["refuted_by"][0] == "DETERMINACY":   # two answers obey the weakened rules, only one the real ones
            req = parse_request(cex["request"])
            with m.active():
                assert violated(req, result_from_wire(cex["answer"])) == []
                assert violated(req, result_from_wire(cex["other_answer"])) == []
            assert cex["answer"] != cex["other_answer"]
            assert violated(req, result_from_wire(cex["answer"])) or violated(req, result_from_wire(cex["other_answer"]))
        else:   # the mutant's answer, as written, breaks the named invariant
            req = parse_with(name, cex["request"])   # a parser mutant reads the request its own way
            broken = {inv.id for inv in violated(req, result_from_wire(written_with(name, req)))}
            assert cex["invariant"] in broken and cex["invariant"] in r["refuted_by"]
        try:   # the reference answers correctly, or rejects a request the mutant wrongly accepted
            ref = parse_request(cex["request"])
            assert violated(ref, compute(ref)) == []
        except RequestError:
            pass
        if m.symbolic:
            assert (tmp_path / r["file"]).is_file()


def test_mutants_flag_writes_the_table_and_results(tmp_path, monkeypatch, capsys):
    # the mutant search itself is tested above; here only the wiring, with two mutants
    real = P.run_mutants
    monkeypatch.setattr(P, "run_mutants", lambda **kw: real(names=["truncation", "floats"], **kw))
    assert main(["prove", "--out", str(tmp_path), "--jobs", "1", "--shapes", SMALL[0].name(), "--mutants"]) == 0
    out = capsys.readouterr().out
    assert "truncation" in out and "concrete only" in out and "2/2 mutants refuted" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert [m["mutant"] for m in data["mutants"]] == ["truncation", "floats"]
    assert main(["recheck", str(tmp_path), "--jobs", "2"]) == 0   # mutants/*.smt2 re-checked as sat


def test_a_surviving_mutant_fails_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(P, "run_mutants", lambda **kw: [{"mutant": "m", "refuted": False, "refuted_by": [],
                                                         "shape": "", "counterexample": "", "how": "survived"}])
    assert main(["prove", "--out", str(tmp_path), "--jobs", "1", "--shapes", SMALL[0].name(), "--mutants"]) == 1
    assert "SURVIVED: m" in capsys.readouterr().out


def test_list_shapes(capsys):
    assert main(["prove", "--list-shapes"]) == 0
    out = capsys.readouterr().out
    assert f"{len(S.select(['all']))} shapes" in out and S.select(["all"])[0].name() in out


@pytest.mark.parametrize("argv,needle", [
    (["prove", "--shapes", "no-such-shape", "--no-bundle"], "unknown shape 'no-such-shape'"),
    (["recheck", "/nonexistent/bundle"], "is not a directory"),
])
def test_usage_errors_are_one_sentence(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unwritable_out_is_a_usage_error(tmp_path, capsys):
    f = tmp_path / "a-file"
    f.write_text("")
    assert main(["prove", "--out", str(f), "--shapes", SMALL[0].name()]) == 2
    err = capsys.readouterr().err
    assert "is not a directory" in err and "Traceback" not in err


def test_recheck_without_results_is_a_usage_error(tmp_path, capsys):
    assert main(["recheck", str(tmp_path)]) == 2
    assert "no readable results.json" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["prove", "--jobs", "0"], ["prove", "--timeout", "-1"],
                                  ["recheck", ".", "--solver", "yices"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_runs_as_a_process(tmp_path):
    """No traceback through the real entry point either."""
    out = subprocess.run([sys.executable, "-m", "rollsplit", "prove", "--shapes", "nope", "--no-bundle"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "unknown shape" in out.stderr and "Traceback" not in out.stderr


def test_execute_command_answers_seed_004_from_the_invariants(capsys):
    """DOMAIN.md seed 004 through `rollsplit execute`: z3 alone gives the $16,000 after-tax split, uniquely."""
    from rollsplit.cli import main
    assert main(["execute", str(Path(__file__).resolve().parent.parent / "examples" / "seed_004.json")]) == 0
    out = capsys.readouterr()
    answer = json.loads(out.out)
    assert answer["distribution"] == {"amount": 8_000_000, "pretax": 6_400_000, "aftertax": 1_600_000,
                                      "basis_recovered": 1_600_000}
    assert "uniqueness: unique" in out.err


def test_execute_and_formulas_usage_errors(capsys, tmp_path):
    from rollsplit.cli import main
    assert main(["execute", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["formulas", "--check", "many"])
    assert e.value.code == 2 and "not a whole number" in capsys.readouterr().err
