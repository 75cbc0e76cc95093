"""The conformance suite checks itself, covers the contract, and is exported reproducibly with stable ids."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import z3

from rollsplit.conformance import export, suite, verify
from rollsplit.solver.regions import explore, prove_cover, wire_request
from rollsplit.solver.z3_backend import Shape
from rollsplit.spec.errors import ERROR_CODES

VECTORS = suite.load()


def test_bundled_suite_verifies():
    assert verify.verify() == []


def test_every_error_code_and_topic_is_covered():
    expected_codes = {v.expected["error"] for v in VECTORS if "error" in v.expected}
    assert expected_codes == set(ERROR_CODES)
    assert {v.topic for v in VECTORS} == set(export.TOPICS)
    assert len(VECTORS) < 3000   # the suite stays fast to run


def test_every_region_of_the_coverage_table_has_a_vector():
    text = (suite.HERE / "COVERAGE.md").read_text()
    region_tags = {t for v in VECTORS for t in v.tags if t.startswith("region:")}
    lines = [l for l in text.splitlines() if l.startswith("| ") and "/notice_" in l]
    assert len(lines) == len(export.SHAPES)
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[3] == cells[4], f"a region without a vector: {line}"
        shape = cells[1]
        assert int(cells[3]) == len({t for t in region_tags if t.startswith(f"region:{shape}#")})
    assert f"Error codes covered: {len(ERROR_CODES)} of {len(ERROR_CODES)}." in text


def test_worked_examples_state_the_figures_of_the_sources():
    # DOMAIN.md figures, written here from the sources (not taken from the reference)
    by_origin = {v.origin: v for v in VECTORS if v.topic == "examples"}
    faq = by_origin["example:irs-faq-seed"].expected["result"]["distribution"]
    assert (faq["pretax"], faq["aftertax"]) == (4_000_000, 1_000_000)
    seed = by_origin["example:seed-004"].expected["result"]
    assert (seed["distribution"]["aftertax"], seed["disbursements"][1]["taxable"]) == (1_600_000, 400_000)
    ex1 = by_origin["example:irs-faq-example-1"].expected["result"]
    assert ex1["taxable_income"] == 0 and [r["pretax"] for r in ex1["disbursements"]] == [8_000_000, 0, 0]


def test_large_values_need_big_integers():
    products = [v for v in VECTORS if "Overflow64" in v.flags]
    assert any(v.request["disbursements"][0]["amount"] * v.request["basis"] > 2**64 for v in products)
    assert any("Float53" in v.flags for v in VECTORS) and any("RoundingTie" in v.flags for v in VECTORS)


@pytest.fixture
def suite_copy(tmp_path) -> Path:
    d = tmp_path / "vectors"
    shutil.copytree(suite.VECTORS_DIR, d, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return d


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(suite.dump(data))


def test_verify_catches_a_wrong_expected_answer(suite_copy):
    def change(data):
        data["vectors"][0]["expected"]["result"]["taxable_income"] += 1
    _edit(suite_copy / "examples.json", change)
    problems = verify.verify(suite_copy)
    assert any("SHA-256" in p for p in problems)
    assert any("examples-0001" in p and "not the reference's" in p for p in problems)


def test_verify_catches_duplicate_ids_undefined_flags_and_bad_schema(suite_copy):
    def change(data):
        data["vectors"][1]["id"] = data["vectors"][0]["id"]
        data["vectors"][2]["flags"] = ["NoSuchFlag"]
        data["vectors"][0]["features"] = ["turbo"]
    _edit(suite_copy / "rounding.json", change)
    problems = verify.verify(suite_copy)
    assert any("schema" in p for p in problems)
    def change2(data):
        data["vectors"][1]["id"] = data["vectors"][0]["id"]
        data["vectors"][2]["flags"] = ["NoSuchFlag"]
    _edit(suite_copy / "rounding.json", lambda d: d)  # keep the schema problem out of the next check
    shutil.copy(suite.VECTORS_DIR / "rounding.json", suite_copy / "rounding.json")
    _edit(suite_copy / "rounding.json", change2)
    problems = verify.verify(suite_copy)
    assert any("is also used" in p for p in problems)
    assert any("NoSuchFlag" in p and "not defined" in p for p in problems)


def test_verify_catches_a_missing_file(suite_copy):
    (suite_copy / "rmd.json").unlink()
    assert any("rmd.json, which is missing" in p for p in verify.verify(suite_copy))


SMALL = [("prorata", Shape(directs=())), ("prorata", Shape(paid=False))]


def _fresh_export(directory: Path) -> dict[str, bytes]:
    # a new process each time: that is what a re-run is (z3 keeps state within one process)
    code = ("import sys; from pathlib import Path; from rollsplit.conformance import export; "
            "export.export(Path(sys.argv[1]), shapes=export.SHAPES[:1], log=lambda s: None)")
    subprocess.run([sys.executable, "-c", code, str(directory)], check=True, capture_output=True, timeout=120)
    return {p.name: p.read_bytes() for p in directory.glob("*.json")}


def test_export_is_reproducible_byte_for_byte(tmp_path):
    first = _fresh_export(tmp_path / "a")
    assert first and first == _fresh_export(tmp_path / "b")


def test_export_keeps_ids_stable(tmp_path):
    a = tmp_path / "a"
    export.export(a, shapes=SMALL[:1], log=lambda s: None)
    # re-export over `a` with one more shape placed first: old ids keep their content, new ids come after
    before = {v.origin: v for v in suite.load(a)}
    export.export(a, shapes=[SMALL[1], SMALL[0]], log=lambda s: None)
    after = {v.origin: v for v in suite.load(a)}
    for origin, v in before.items():
        assert after[origin] == v
    top = max(int(v.id.rsplit("-", 1)[1]) for v in before.values() if v.topic == "prorata")
    new = [v for o, v in after.items() if o not in before]
    assert new and all(int(v.id.rsplit("-", 1)[1]) > top for v in new)
    assert verify.verify(a) == []
    # dropping the first shape retires its ids; they are never handed out again
    export.export(a, shapes=[SMALL[1]], log=lambda s: None)
    manifest = json.loads((a / suite.MANIFEST).read_text())
    gone = {v.id for o, v in before.items() if o.startswith("region:") or o.startswith("boundary:")}
    assert gone and gone <= set(manifest["retired_ids"])
    export.export(a, shapes=SMALL, log=lambda s: None)
    assert not gone & {v.id for v in suite.load(a)}


def test_a_vector_whose_origin_is_renamed_keeps_its_id():
    """A shape's name that says more (an order election's order) renames the origins of its vectors; the same
    request keeps its id and answer, and two vectors of one request keep both their ids."""
    req = {"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 200, "basis": 100,
           "disbursements": [{"id": "me", "method": "paid", "amount": 200}]}
    from rollsplit.reference import calculate
    answer = {"result": calculate(req)}
    old_vectors = [{"id": "prorata-0001", "origin": "region:old-name#a", "request": req, "expected": answer,
                    "description": "old", "tags": [], "citations": []},
                   {"id": "prorata-0002", "origin": "region:old-name#b", "request": req, "expected": answer,
                    "description": "old", "tags": [], "citations": []}]
    old = {v["origin"]: v for v in old_vectors}
    fresh = [{"origin": f"region:new-name#{h}", "request": req, "description": "new", "tags": [], "citations": []}
             for h in "ab"]
    out = export.assign_ids("prorata", fresh, old, set())
    assert [(v["id"], v["origin"]) for v in out] == [("prorata-0001", "region:new-name#a"),
                                                     ("prorata-0002", "region:new-name#b")]


def test_regions_cover_the_shape_and_the_proof_can_fail():
    shape = Shape(directs=(("traditional_ira", True), ("roth_ira", True)))
    found = explore(shape)
    assert found.coverage == "proved" and len(found.regions) > 5
    assert prove_cover(found.valid, found.regions[1:]).startswith("not proved")
    sr = found.symbolic
    for region in found.regions:
        sub = [(sr.variables[k], z3.IntVal(v)) for k, v in region.witness.items()]
        assert all(z3.is_true(z3.simplify(z3.substitute(x, *sub))) for x in region.literals)
        assert wire_request(shape, region.witness)["disbursements"][0]["to"] == "traditional_ira"
    assert found.boundaries, "each comparison gets a witness at equality"


# ---- old rule: the cover proved by abstraction (largest remainder is nonlinear) ----------------------
OLD_SHAPE = Shape(regime="notice_2009_68")                                    # 1 direct + paid: 2 rows
OLD_SHAPE_3 = Shape(regime="notice_2009_68", directs=(("traditional_ira", True), ("roth_ira", True)))


@pytest.fixture(scope="module")
def old_regions():
    found = explore(OLD_SHAPE, boundaries=False, complete=False)
    assert found.regions and found.valid is not None
    return found


def _forced_unknown(found, regions):
    import copy
    f = copy.copy(found)
    f.regions = list(regions)
    f.coverage, f.cover_proof = "unknown while enumerating (forced by the test)", ""
    return f


def _assert_sound_regions(found, sr):
    """Every region has a witness that is a valid request satisfying its literals, and no two regions share a
    key. Each region fixes every atom, so regions are disjoint and a proved cover lists every feasible
    combination exactly once: the set of keys of a proved cover is unique."""
    keys = [r.key for r in found.regions]
    assert len(keys) == len(set(keys))
    for r in found.regions:
        assert len(r.literals) == len(found.atoms)
        sub = [(sr.variables[k], z3.IntVal(v)) for k, v in r.witness.items()]
        assert all(z3.is_true(z3.simplify(z3.substitute(x, *sub))) for x in r.literals)
        assert z3.is_true(z3.simplify(z3.substitute(found.valid, *sub)))


@pytest.fixture(scope="module")
def old_cover(old_regions):
    """The abstraction's cover of the fixture's regions. The direct enumeration stops at z3's first unknown,
    which depends on the solver's state (what ran before in this process), so it may have found every region
    or fewer: the abstraction keeps those, in place, and adds what is missing."""
    from rollsplit.solver.regions import complete_cover
    f = _forced_unknown(old_regions, old_regions.regions)
    complete_cover(f)
    return f


def test_old_rule_cover_is_proved_by_abstraction_keeping_the_regions_found(old_regions, old_cover):
    f = old_cover
    assert f.coverage == "proved"
    assert f.cover_proof.startswith("abstracted") and "LR2-CONTRACT" in f.cover_proof
    n = len(old_regions.regions)
    assert [r.key for r in f.regions[:n]] == [r.key for r in old_regions.regions]   # nothing moved or dropped
    _assert_sound_regions(f, old_regions.symbolic)


def test_old_rule_abstract_cover_finds_a_missing_region_instead_of_proving(old_regions, old_cover):
    from rollsplit.solver.regions import complete_cover
    every = sorted(r.key for r in old_cover.regions)
    for drop in (0, len(old_cover.regions) - 1):
        kept = [r for i, r in enumerate(old_cover.regions) if i != drop]
        f = _forced_unknown(old_regions, kept)
        assert prove_cover(f.valid, kept).startswith("not proved")   # sat or unknown: a region is missing
        complete_cover(f)
        assert f.coverage == "proved"
        assert sorted(r.key for r in f.regions) == every   # the dropped region is found again, nothing else
        _assert_sound_regions(f, old_regions.symbolic)


def test_old_rule_abstract_cover_is_not_proved_without_the_lemmas(old_regions, old_cover, monkeypatch):
    # With no facts about the products the abstraction admits requests in no region (a remainder
    # ordering the real split cannot have); one round, short timeouts: it must not say proved.
    from rollsplit.solver import regions
    monkeypatch.setattr(regions, "abstraction_facts", lambda sr, calls: ([], set()))
    monkeypatch.setattr(regions, "ABSTRACT_ROUNDS", 1)
    f = _forced_unknown(old_regions, old_cover.regions)   # every region: any model of the abstraction is spurious
    regions.complete_cover(f, timeout_ms=2_000)
    assert f.coverage != "proved" and f.coverage.startswith("unknown while enumerating (forced by the test); ")
    assert f.regions == old_cover.regions


@pytest.mark.parametrize("shape", [OLD_SHAPE, OLD_SHAPE_3], ids=["2 rows", "3 rows"])
def test_abstraction_facts_hold_at_concrete_requests(shape):
    """The facts the abstract cover proof assumes are instances of lemmas valid for all integers: at any
    concrete money values (in range or not, valid request or not) each one evaluates to true."""
    from hypothesis import given, settings, strategies as st

    import rollsplit.reference.algorithm as alg
    from rollsplit.solver.regions import _recording_largest_remainder, abstraction_facts
    from rollsplit.solver.z3_backend import Z3Arith, symbolic_request

    sr = symbolic_request(shape)
    calls: list = []
    with _recording_largest_remainder(calls):
        alg.allocate(Z3Arith(record=False), sr.request)
    facts, used = abstraction_facts(sr, calls)
    rows = len(sr.request.disbursements)
    assert {"PRORATA-BOUNDS", "LR-ROW", f"LR{rows}-SUM", f"LR{rows}-K", f"LR{rows}-CONTRACT"} <= used
    names = sorted(sr.variables)
    money = st.one_of(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 2**53 - 1))

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(st.lists(money, min_size=len(names), max_size=len(names)))
    def check(values):
        sub = [(sr.variables[n], z3.IntVal(v)) for n, v in zip(names, values)]
        for fact in facts:
            assert z3.is_true(z3.simplify(z3.substitute(fact, *sub))), fact
    check()


def test_every_error_vector_cites_the_rules_behind_its_code():
    from rollsplit.spec import invariants
    from rollsplit.spec.errors import ERROR_CODES
    assert set(invariants.ERROR_CITATIONS) == set(ERROR_CODES)
    errors = [v for v in suite.load() if "error" in v.expected]
    assert {v.expected["error"] for v in errors} == set(ERROR_CODES)
    for v in errors:
        cited = {(c["source"], c["pinpoint"], c["quote"]) for c in v.citations}
        for name in invariants.ERROR_CITATIONS[v.expected["error"]]:
            c = getattr(invariants, name)
            assert (c.source, c.pinpoint, c.quote) in cited, (v.id, name)


@pytest.mark.parametrize("topic, mutant", [("elections", "ignored_election"), ("eligibility", "aftertax_into_457b"),
                                           ("pre1987", "ignored_pre1987")])
def test_each_targeted_vector_fails_the_mistake_it_targets(topic, mutant):
    from rollsplit.reference.mutants import calculate_with
    targeted = [v for v in suite.load() if "Targeted" in v.flags and v.topic == topic]
    assert len(targeted) >= 3
    for v in targeted:
        answer = calculate_with(mutant, v.request)
        if "error" in v.expected:
            assert answer.get("error", {}).get("code") != v.expected["error"], v.id
        else:
            assert answer != v.expected["result"], v.id


def test_vectors_name_the_features_their_request_uses():
    """As spec.features.FEATURES describes them: hardship belongs to `rmd`, `qualified_roth` to `designated_roth`
    (a calculator without the feature must skip such a vector, never be judged on it)."""
    checks = {"rmd": lambda r: r.get("rmd") or r.get("hardship"),
              "designated_roth": lambda r: r.get("contract") == "designated_roth" or "qualified_roth" in r,
              "pre1987_basis": lambda r: r.get("pre1987_basis"),
              "sixty_day": lambda r: r.get("rollovers_60_day")}
    seen = dict.fromkeys(checks, 0)
    for v in suite.load():
        if not isinstance(v.request, dict):
            continue
        for feature, uses in checks.items():
            if uses(v.request):
                assert feature in v.features, (v.id, feature)
                seen[feature] += 1
    assert all(seen.values()), seen
    hardship = [v for v in suite.load() if isinstance(v.request, dict) and v.request.get("hardship")]
    assert hardship and all("rmd" in v.features for v in hardship)
