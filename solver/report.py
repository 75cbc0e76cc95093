"""REPORT.md of the audit bundle: what is proved, under which assumptions, what is not, and how to re-check it.

Everything stated as a result is read from the run's results (results.json's data); the invariants, their
citations and predicates come from `spec.invariants` itself, so the report cannot drift from the code.

Obligations that z3's `simplify` alone closes (results.json: `"trivial": true`, see `solver.prove.
closes_by_simplify`) are counted apart everywhere: they are proved, but they are not evidence of anything
beyond the code restating itself.

REPORT.md is a summary (at most about 300 lines) that links into REPORT.html (`solver.report_html`), where every
invariant has its formal statement, its shapes x status grid, its files and re-check commands, the mutants that
break it and what its proofs rest on (cores.json, `solver.cores`), beside the assumptions, the solver agreement
(recheck.json, written by `rollsplit recheck`) and the trace from each sentence of the law to its invariants and
conformance vectors. The closed-form formulas are FORMULAS.md.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types
from pathlib import Path

import z3
from tabulate import tabulate

from rollsplit.solver import compiled_proof
from rollsplit.solver import obligations as O
from rollsplit.solver import shapes as S
from rollsplit.solver.z3_backend import fresh_result
from rollsplit.spec import invariants as I
from rollsplit.spec import law

SMT_SNIPPET_MAX = 4000   # characters of an invariant's SMT-LIB statement printed inline (the files hold it all)


# the files of the bundle's top level that the reports link to (REPORT.md and REPORT.html are written last)
REPORT_MD, REPORT_HTML, FORMULAS_MD, CORES_JSON, RECHECK_JSON = ("REPORT.md", "REPORT.html", "FORMULAS.md",
                                                                "cores.json", "recheck.json")
MD_MAX_LINES = 300   # REPORT.md is a summary; the detail is REPORT.html's


def write_report(out_dir: Path, data: dict, formulas: str | None = None, cores: dict | None = None) -> Path:
    """Write REPORT.md, REPORT.html, FORMULAS.md (the sympy section, when computed: prove computes it beside the
    proofs) and cores.json (when given) into `out_dir`; a recheck.json there that is about these very results is
    shown in both reports."""
    formulas = _formulas_section() if formulas is None else formulas
    if formulas.strip():
        (out_dir / FORMULAS_MD).write_text(formulas.rstrip() + "\n")
    if cores is not None:
        (out_dir / CORES_JSON).write_text(json.dumps({**cores, "results_sha256": results_digest(data)}, indent=1))
    return _write_both(out_dir, data)


def results_digest(data: dict) -> str:
    """What ties cores.json and recheck.json to one run: sha256 over the files and statuses of results.json."""
    key = [[o.get("file"), o.get("sha256"), o.get("status")] for o in data.get("obligations", [])]
    key += [[m.get("file"), m.get("sha256"), m.get("refuted")] for m in data.get("mutants") or []]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def read_extras(out_dir: Path, data: dict) -> dict:
    """The bundle's cores.json and recheck.json when they are about `data` (else a note says why not shown), and
    whether FORMULAS.md is there."""
    digest = results_digest(data)
    out: dict = {"cores": None, "recheck": None, "notes": [], "formulas": (out_dir / FORMULAS_MD).is_file()}
    for key, name, what in (("cores", CORES_JSON, "the unsat cores"), ("recheck", RECHECK_JSON, "the re-check")):
        try:
            extra = json.loads((out_dir / name).read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError, UnicodeDecodeError):
            out["notes"].append(f"{name} could not be read: {what} are not shown.")
            continue
        if not isinstance(extra, dict) or extra.get("results_sha256") != digest:
            out["notes"].append(f"{name} is about another run of rollsplit prove (its results differ from "
                                f"results.json): {what} are not shown; run the command again.")
            continue
        out[key] = extra
    return out


def _write_both(out_dir: Path, data: dict) -> Path:
    from rollsplit.solver import report_html
    extras = read_extras(out_dir, data)
    try:
        page = report_html.render(data, cores=extras["cores"], recheck=extras["recheck"], notes=extras["notes"],
                                  formulas=extras["formulas"],
                                  formulas_md=(out_dir / FORMULAS_MD).read_text() if extras["formulas"] else None)
    except Exception as e:  # noqa: BLE001 - the proofs' results stand; the page says why it is missing
        page = report_html.failed_page(f"{type(e).__name__}: {e}")
    (out_dir / REPORT_HTML).write_text(page)
    path = out_dir / REPORT_MD
    path.write_text(render(data, recheck=extras["recheck"], formulas=extras["formulas"]))
    return path


def refresh(out_dir: Path) -> Path:
    """Write REPORT.md and REPORT.html of a bundle again from its results.json, cores.json, recheck.json and
    FORMULAS.md (`rollsplit recheck` does this after writing recheck.json). A bundle written before FORMULAS.md
    existed keeps its formulas: they are taken out of its REPORT.md first."""
    data = json.loads((out_dir / "results.json").read_text())
    formulas, old = out_dir / FORMULAS_MD, out_dir / REPORT_MD
    if not formulas.exists() and old.is_file():
        text = old.read_text()
        start = text.find(FORMULAS_HEADING)
        if start >= 0:
            end = text.find("\n## ", start + len(FORMULAS_HEADING))
            formulas.write_text(text[start:end if end >= 0 else len(text)].rstrip() + "\n")
    return _write_both(out_dir, data)


FORMULAS_HEADING = "## Closed-form formulas (sympy)"


def core_sample(data: dict, per_invariant: int = 3) -> dict[str, list[str]]:
    """For each invariant, the shapes whose obligation's unsat core REPORT.html shows: the shape of its formal
    statement, then the proofs that took z3 longest (the least obvious ones)."""
    by_inv = _by([o for o in data["obligations"] if o["kind"] == "invariant" and _proved(o)], "invariant")
    pool = _shape_pool()
    out = {}
    for inv in I.INVARIANTS:
        rs = by_inv.get(inv.id, [])
        if not rs:
            continue
        rep = representative(inv, rs, pool)
        slow = sorted((o for o in rs if o is not rep and not _trivial(o)), key=lambda o: -o["seconds"])
        out[inv.id] = [o["shape"] for o in [rep, *slow][:per_invariant]]
    return out


def compute_cores(data: dict, jobs: int, progress=None) -> dict:
    """cores.json for the run `data`: the determinacy core of every shape with a proved determinacy obligation, and
    `core_sample`'s invariant cores (solver.cores)."""
    from rollsplit.solver import cores
    pool = _shape_pool()
    det = sorted({o["shape"] for o in data["obligations"] if o["kind"] == "determinacy" and _proved(o)})
    sample = core_sample(data)
    names = sorted(set(det) | {n for ns in sample.values() for n in ns})
    shapes = [pool[n] for n in names if n in pool]
    return cores.compute(shapes, sample, jobs=jobs, progress=progress)


def _by(obs: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in obs:
        out.setdefault(o[key], []).append(o)
    return out


def _ok(o: dict) -> bool:
    return o["status"] in O.OK_STATUSES


def _proved(o: dict) -> bool:
    return o["expected"] == "unsat" and o["status"] == "proved"


def _trivial(o: dict) -> bool:
    """Proved, and closed by z3's `simplify` alone (no search): not evidence beyond the code restating itself."""
    return _proved(o) and o.get("trivial") is True


def _recorded(obs: list[dict]) -> bool:
    """Whether the run recorded the simplification check (results.json written before it have no `trivial`)."""
    return any("trivial" in o for o in obs)


def _with_trivial(rs: list[dict], recorded: bool) -> str:
    """' (K by simplification alone)' for proved obligations `rs`, or '' when none or not recorded."""
    k = sum(_trivial(o) for o in rs)
    return f" ({k} by simplification alone)" if recorded and k else ""


TRIVIAL_MARK = "†"   # an invariant every proved obligation of which closes by simplification alone


def render(data: dict, recheck: dict | None = None, formulas: bool = False) -> str:
    """REPORT.md: a summary of at most about `MD_MAX_LINES` lines that links into REPORT.html. `recheck`: the
    bundle's recheck.json (about these results); `formulas`: whether FORMULAS.md is in the bundle."""
    obs = data["obligations"]
    bad = [o for o in obs if not _ok(o)]
    mutants = data.get("mutants")
    survived = [m for m in mutants or () if not m["refuted"]]
    shapes = sorted({o["shape"] for o in obs if o["shape"] != "-"})
    verdict = ("every obligation is proved (unsat) and every witness found (sat)" if not bad
               else f"**{len(bad)} obligation(s) are NOT proved** (listed below)")
    proved = [o for o in obs if _proved(o)]
    trivial = [o for o in proved if _trivial(o)]
    recorded = _recorded(obs)
    closed = (f"proved: {len(proved)}, of which {len(trivial)} close by simplification alone (z3's `simplify` "
              "reduces the formula to `false` without any search) and are not evidence of anything beyond the "
              f"code restating itself; {len(proved) - len(trivial)} needed the solver" if recorded
              else f"proved: {len(proved)}; this run did not record which close by simplification alone")
    out = [
        "# rollsplit audit bundle",
        "",
        f"Result: {verdict}"
        + ("" if mutants is None else f"; {len(mutants) - len(survived)} of {len(mutants)} seeded mutants refuted")
        + ".",
        "",
        closed[0].upper() + closed[1:] + ".",
        "",
        tabulate([["obligations", len(obs)], ["shapes", len(shapes)],
                  ["statuses", ", ".join(f"{n} {k}" for k, n in sorted(data["summary"].items()))],
                  ["closed by simplification alone", f"{len(trivial)} of {len(proved)} proved (not evidence)"
                   if recorded else "not recorded by this run"],
                  ["solver", f"{data['solver']['name']} {data['solver']['version']}"],
                  ["per-obligation timeout", f"{data.get('timeout_seconds')} s (a timeout is a failure)"],
                  ["wall time", f"{data['wall_seconds']} s with {data['jobs']} jobs on {data['machine']}, "
                                f"Python {data['python']}"],
                  ["spec hash", f"`{data.get('spec_sha256', '')}` (sha256 over spec/*.py, see results.json)"]],
                 tablefmt="github", headers=["", ""]),
        "",
        _reading_section(data, recheck, formulas),
        _honest_section(obs, shapes),
        _trusted_section(),
        _recheck_section(obs),
        _not_proved_section(obs),
        _invariants_section(obs),
        _determinacy_section(obs, shapes),
        _witness_section(obs),
        _compiled_section(obs),
        _lemma_section(obs),
    ]
    if mutants is not None:
        out.append(_mutant_section(mutants))
    out.append(_agreement_section(recheck))
    out.append(_growth_section(data))
    return "\n".join(out).rstrip() + "\n"


def _html(anchor: str = "") -> str:
    return f"{REPORT_HTML}#{anchor}" if anchor else REPORT_HTML


def _reading_section(data: dict, recheck: dict | None, formulas: bool) -> str:
    """Where the detail is: REPORT.html's pages, and the bundle's other files."""
    lines = ["## Reading this bundle", "",
             f"This file is a summary. [{REPORT_HTML}]({REPORT_HTML}) (one self-contained page; open it in any "
             "browser, nothing is fetched from the network) holds the detail:", "",
             f"- [every invariant]({_html('invariants')}) in plain English with the words of the law it rests on, its "
             "formal statement, the grid of shapes and their status (closed by simplification alone marked), each "
             "SMT-LIB file with its re-check command, the mutants it refutes and what its proofs rest on (unsat "
             "cores);",
             f"- [from the law to the proofs]({_html('law')}): each sentence quoted from the statute, the regulations "
             "and Notice 2014-54, the invariants that encode it and the conformance vectors that pin it;",
             f"- [assumptions, the trusted base and what is not proved]({_html('assumptions')});",
             f"- [solver agreement]({_html('agreement')}): z3 and cvc5 on every file, per invariant ("
             + ("from this bundle's recheck.json" if recheck else "filled in by `rollsplit recheck`") + ");",
             f"- [determinacy]({_html('determinacy')}), [shapes]({_html('shapes')}), [lemmas]({_html('lemmas')}), "
             + (f"[mutants]({_html('mutants')}), " if data.get("mutants") is not None else "")
             + f"[sources]({_html('sources')}).", "",
             "Beside it: `results.json` (every obligation's status, seconds, file and sha256), `obligations/` and "
             "`witnesses/` (the SMT-LIB files)"
             + (", `mutants/`" if data.get("mutants") is not None else "")
             + (f", [{FORMULAS_MD}]({FORMULAS_MD}) (closed-form formulas of every output, region by region)"
                if formulas else "")
             + f", `{CORES_JSON}` (unsat cores) and, after `rollsplit recheck`, `{RECHECK_JSON}`.", ""]
    return "\n".join(lines)


def _agreement_section(recheck: dict | None) -> str:
    out = ["## Solver agreement", ""]
    if not recheck:
        out += ["Not re-checked yet: `rollsplit recheck DIR --solver all` runs every file with z3 and cvc5 in fresh "
                f"processes, writes `{RECHECK_JSON}` and the agreement table of [{REPORT_HTML}]({_html('agreement')}).",
                ""]
        return "\n".join(out)
    rows = []
    for solver, cs in sorted(_checks_by_solver(recheck).items()):
        count = {v: sum(c.get("verdict") == v for c in cs) for v in VERDICTS}
        rows.append([solver, len(cs), *(count[v] for v in VERDICTS)])
    out += [f"Re-checked by `rollsplit recheck` ({recheck.get('written', '')}); `unknown` and `timeout` are no "
            "answer, never a disagreement; a mismatch is the opposite answer. Per invariant: "
            f"[{REPORT_HTML}]({_html('agreement')}).", "",
            tabulate(rows, ["solver", "files", *VERDICT_NAMES], tablefmt="github"), ""]
    return "\n".join(out)


VERDICTS = ("agrees", "unknown", "timeout", "MISMATCH", "error")
VERDICT_NAMES = ("as expected", "unknown", "timeout", "mismatch", "error")


def _checks_by_solver(recheck: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for c in recheck.get("checks", []):
        if isinstance(c, dict):
            out.setdefault(str(c.get("solver")), []).append(c)
    return out


def _honest_section(obs: list[dict], shapes: list[str]) -> str:
    """What is proved (and how much of it by simplification alone), what is tested, what is neither."""
    recorded = _recorded(obs)
    rows = []
    for kind in ("invariant", "determinacy", "validity", "compiled", "rejects", "lemma", "lemma-use"):
        rs = [o for o in obs if o["kind"] == kind]
        if not rs:
            continue
        p = [o for o in rs if _proved(o)]
        t = sum(_trivial(o) for o in p)
        rows.append([kind, len(rs), len(p), t if recorded else "not recorded",
                     len(p) - t if recorded else "not recorded"])
    inv = _by([o for o in obs if o["kind"] == "invariant"], "invariant")
    always = sorted(k for k, rs in inv.items() if recorded and rs and all(_trivial(o) for o in rs))
    out = ["## What is proved, what is tested, what is neither", "",
           f"**Proved by z3**, for every money value in range of each of the {len(shapes)} shapes of this run ("
           + _coverage(shapes) + "; see *Shapes*). An obligation *closed by simplification alone* is one that "
           "z3's rewriter (`simplify`) reduces to `false` before any search: the claim is the algorithm's own "
           "expression restated, or was decided in Python while the formula was built. It is proved, but it is "
           "not evidence of anything beyond the code restating itself, and it is counted apart here and in every "
           "status below.", "",
           tabulate(rows, ["kind", "obligations", "proved", "closed by simplification alone",
                           "needed the solver"], tablefmt="github"), ""]
    if always:
        out += [f"Invariants closed by simplification alone on every shape of this run (marked {TRIVIAL_MARK} "
                "below; their proofs say only that the algorithm computes what it computes): "
                + ", ".join(f"`{k}`" for k in always) + ".", ""]
    if any(o["kind"] == "compiled" and _trivial(o) for o in obs):
        out += ["A `compiled__*` obligation closed by simplification alone means the generated source, as read "
                "by `solver/compiled_proof.py`'s interpreter, is the algorithm's z3 term up to rewriting: it checks "
                "the translation only as far as that interpreter is trusted (see *Trusted base*).", ""]
    strength = [[k, sum(1 for o in obs if o["kind"] == k), sum(1 for o in obs if o["kind"] == k and _ok(o))]
                for k in ("witness", "premise", "sanity")]
    out += [
        "**How strong the claims are.** The invariants are written apart from the algorithm: they read the law's "
        "facts from `spec/facts.py` (where money may go, what is taxed, box 7, the effective dates, the default "
        "order as the law's reasons), never the algorithm's tables (`spec/law.py`), fill orders (`spec/orders.py`) "
        "or helpers (tests/test_independent_spec.py checks the imports). Validity is stated on its own too "
        "(`spec/validity.py`): the `validity` obligations prove the reference accepts a request exactly when the "
        "contract's rules say it is valid. The invariants judge the answer as the JSON writer writes it (read back "
        "from `to_wire`). Determinacy compares every field of two answers: money, row ids, box 7 codes, the regime. "
        "Each shape also has a witness that its precondition is satisfiable, a *premise* witness that the 'if' part "
        "of each rule stated as an implication can happen, and a *sanity* witness that some answer breaks each rule "
        "about the answer (the rule is not implied by the precondition alone; a rule with nothing to say about a "
        "shape, such as the order of rollovers on a shape with one, gets none there, and every rule must have one "
        "somewhere or the run fails):",
        "",
        tabulate(strength, ["kind (expected sat)", "obligations", "satisfiable"], tablefmt="github"),
        "",
        "**Checked, not proved:** the parser against the contract's structural rules (`spec/validity.py`: two "
        "payments, a repeated id, 60-day rollovers without a payment, a hardship distribution with a rollover, a "
        "direct election under the old rule, a route not yet open on the date, a lifetime RMD from a designated "
        "Roth account after April 1, 2024), one request per case and shape (results.json, `parse_checks`).",
        "",
        "**Tested, not proved** (conformance vectors, Hypothesis properties, the seeded mutants):",
        "",
        "- every request outside the shapes above (more rows, mixes the shapes lack). Such a request is answered "
        "by the generic path (the algorithm on ints): a compiled function answers only when its source is one the "
        "proofs cover (`reference/proved_sources.json`);",
        "- the parser's decisions on money and text (JSON reading, types, ranges, ids) beyond the structural checks;",
        "- the int backend (`spec/arith.py` on Python ints) and the tracing backend of `reference/compiled.py`, "
        "against the z3 backend: by replay and tests, not by proof.",
        "",
        "**Induction over the number of rows: the fill only.** The lemmas FILL-BASE and FILL-STEP prove the fill for "
        "any number of rows; every other claim is proved per shape, up to the counts above (see *Growth*), and no "
        "induction carries it further.",
        "",
        "Provenance is checked, not proved: `rollsplit recheck` compares `sources_sha256` in results.json and the "
        "z3 version with the installed code and fails a stale bundle (unless `--allow-stale`).",
        "",
    ]
    return "\n".join(out)


def _coverage(shapes: list[str]) -> str:
    """What the shapes of this run cover, in words: the default bundle's description only for a run of it."""
    if sorted(shapes) == sorted(s.name() for s in S.select(["all"])):
        return (f"the default bundle: up to {S.MAX_DIRECTS} direct + 1 paid + {S.MAX_SIXTY} sixty-day rows in "
                "rotations of the destination classes; every sequence of classes up to 3 direct rollovers (2 under "
                "the old rule, 2 of a designated Roth account) and 2 sixty-day rollovers; the payment first and in "
                f"the middle; {' and '.join(map(str, S.BEYOND))} direct rollovers in rotations")
    pool = {s.name(): s for s in S.default_shapes() + S.rejecting_shapes() + S.small_shapes()}
    known = [pool[n] for n in shapes if n in pool]
    most = max((len(s.directs) for s in known), default=0)
    return (f"a selection, not the default bundle: at most {most} direct rollovers; only these shapes are proved by "
            "this run")


def _trusted_section() -> str:
    return "\n".join([
        "## Trusted base", "",
        "A proof here is only as good as each of these; none of them is proved:", "",
        "- **z3** (and cvc5 for the re-check): sound answers;",
        "- **the int backend** (`spec/arith.py` on Python ints, which answers requests on the generic path) and "
        "**the tracing backend** (`reference/compiled.py`, which writes the compiled code): that each computes "
        "what the z3 backend (`solver/z3_backend.py`) means;",
        "- **the cache dispatch** is proved per shape (a compiled function taken from the cache for a second request "
        "of the same key), through the `ast` interpreter of `solver/compiled_proof.py`, which is trusted to give the "
        "generated code its meaning;",
        "- **the parser** (`spec/parse.py`): its structural decisions are checked per shape against the contract's "
        "rules, not proved; **the JSON writers** are judged by the invariants (answers are read back from "
        "`to_wire`), the CLI's and `serve`'s printing of that dict is not;",
        "- **the law tables** of the algorithm (`spec/law.py`, `spec/orders.py`) are checked against the "
        "specification's own statement of the law (`spec/facts.py`, `spec/validity.py`) by the proofs; that "
        "statement, the reading of the law that `spec/invariants.py` encodes, is trusted (its citations are "
        "given with each rule).",
        "",
    ])


def _recheck_section(obs: list[dict]) -> str:
    direct_first = [o for o in obs if o["kind"] == "invariant" and o["invariant"] == "DIRECT-FIRST" and o["file"]]
    example = (representative(I.BY_ID["DIRECT-FIRST"], direct_first, _shape_pool())["file"] if direct_first else
               next((o["file"] for o in obs if o["kind"] == "invariant" and o["file"] and not _trivial(o)),
                    next((o["file"] for o in obs if o["kind"] == "invariant" and o["file"]),
                         "obligations/FILE.smt2")))
    return "\n".join([
        "## How to re-check this bundle",
        "",
        "Every obligation is a self-contained SMT-LIB2 file; its header names the invariant, the citation, the "
        "shape and the expected answer. No file needs this project's code.",
        "",
        "```sh",
        "rollsplit recheck audit                 # sha256 of every file against results.json, then z3 on each file",
        "rollsplit recheck audit --solver all    # and cvc5 too (pip install cvc5, or the `audit` extra)",
        f"z3 {example}    # any one file: prints unsat",
        "for f in obligations/*.smt2; do printf '%s ' \"$f\"; z3 -T:60 \"$f\"; done | grep -v ' unsat$'   # prints nothing",
        "for f in witnesses/*.smt2; do printf '%s ' \"$f\"; z3 -T:60 \"$f\"; done | grep -v ' sat$'       # prints nothing",
        "```",
        "",
        "Files under `obligations/` must be `unsat` (no valid request breaks the claim); files under `witnesses/` "
        "and `mutants/` must be `sat` (the precondition is satisfiable; the mutant is wrong on some request).",
        "",
    ])


def _class_rows() -> list[list]:
    rows = []
    for contract in law.CONTRACTS:
        for method in ("direct", "sixty_day"):
            for sig, members in S.classes(contract, method).items():
                rep = members[0]
                fmt = lambda m: m[0] + ("" if m[1] else " (refuses after-tax)") if method == "direct" else m[0]  # noqa: E731
                rows.append([contract, method, fmt(rep), ", ".join(fmt(m) for m in members[1:]) or "-",
                             "receives nothing: rejects obligation" if sig[2] else "proofs"])
    return rows


def _proved_section(shapes: list[str]) -> str:
    doc = inspect.cleandoc(S.__doc__ or "")
    return "\n".join([
        "## What is proved, and under which assumptions",
        "",
        "**The code that runs.** `reference.algorithm.allocate` is written once over the arithmetic interface of "
        "`spec/arith.py` (min, max, if-then-else, floor division). The calculator runs it on Python ints; the "
        "prover runs the same function on z3 integer terms (`solver/z3_backend.py`), so the formulas in the "
        "obligations are the running code, branch for branch. Each witness is additionally replayed: the z3 "
        "model's request goes through the concrete parser and calculator, and the z3 value of every result "
        "field must equal the concrete answer. For speed, the calculator answers valid requests through "
        "`reference/compiled.py`: the same `allocate` run once per shape on a tracing backend that writes each "
        "operation down with its int meaning, compiled to straight-line Python (a shape whose trace would branch "
        "on money is refused; errors always come from the plain run on ints). That translation is proved too, "
        "shape by shape (`compiled__*`, section *The compiled fast path* below).",
        "",
        "**Claim per obligation.** For every request of the shape whose money lies in the wire contract's "
        f"range (every money field an integer in 0..2^53-1 = 0..{law.MAX_CENTS}) and that passes every value "
        "check of the reference (otherwise the request is rejected with an error code, which is its correct "
        "answer), the reference's result satisfies the invariant. Arithmetic is unbounded integer arithmetic "
        "(z3 `Int`), which is what Python ints compute, so no overflow is assumed away.",
        "",
        "**Shapes.** A shape is everything the algorithm branches on in Python: the number of direct rollovers "
        "and their destination classes, a payment or not, the number of 60-day rollovers and their classes, the "
        "contract kind, the regime, qualified Roth, hardship, RMD and pre-1987 basis present, and the kind of "
        "election. Money stays symbolic. This run covers " + _coverage(shapes)
        + f" ({len(shapes)} shapes, listed under *Shapes*). Why one "
        "representative stands for its class (from `solver/shapes.py`):",
        "",
        "> " + doc.replace("\n", "\n> "),
        "",
        "The destination classes (the representative is the one used in the shapes):",
        "",
        tabulate(_class_rows(), ["contract", "method", "representative", "same class", "used for"],
                 tablefmt="github"),
        "",
        "**Lemmas.** Facts about unbounded integers that z3 proves once (section *Lemmas*) are assumed in the "
        "shape obligations only as instances at the code's own terms; every obligation that assumes one names it "
        "in its header (`; assumes ...`) and in results.json (`assumes`).",
        "",
    ])


NOT_PROVED_SHOWN = 25   # failures listed in REPORT.md (REPORT.html lists them all)


def _not_proved_section(obs: list[dict]) -> str:
    out = ["## What is NOT proved", ""]
    bad = [o for o in obs if not _ok(o)]
    if bad:
        shown = bad[:NOT_PROVED_SHOWN]
        out += [f"These {len(bad)} obligation(s) of this run did not come out as expected. `unknown` means z3 "
                "ran out of time or gave up: it is a failure, never a proof.", "",
                tabulate([[o["kind"], o["invariant"], o["shape"], o["status"], o["file"]] for o in shown],
                         ["kind", "invariant", "shape", "status", "file"], tablefmt="github"), ""]
        if len(bad) > len(shown):
            out += [f"... and {len(bad) - len(shown)} more: every one in [{REPORT_HTML}]({_html('not-proved')}) "
                    "and results.json.", ""]
    else:
        out += ["Every obligation of this run is proved. What lies outside the run:", ""]
    no_det = sorted({o["shape"] for o in obs if o["kind"] == "invariant"}
                    - {o["shape"] for o in obs if o["kind"] == "determinacy"})
    if no_det:
        out.append(f"- Determinacy is not proved for {len(no_det)} shape(s) of this run: "
                   + ", ".join(f"`{s}`" for s in no_det[:10]) + (" ..." if len(no_det) > 10 else "") + ".")
    out += [
        "- Requests of any shape this run does not hold: more rows than its shapes have, and destination mixes "
        "it lacks (classes make many mixes equal); they are answered by the generic path, tested, not proved.",
        "- The step from JSON text to a `Request` (`spec/parse.py`: structure, types, dates, ids, the structural "
        "error codes) is tested (conformance vectors, hypothesis), not proved; the proofs start from a parsed "
        "request and cover the value checks.",
        "- The compiled fast path on shapes that are not the bundle's (see *The compiled fast path*), and the "
        "meaning `solver/compiled_proof.py` gives the generated Python (a small `ast` interpreter, tested against "
        "Python itself on concrete values).",
        "- The law itself: the invariants encode our reading of the statute and the Notice; citations marked "
        "*secondary* below come from a treatise or practitioner source, not the primary text.",
        "- The solver: the proofs trust z3 (and the re-check trusts z3 or cvc5) to be sound.",
        "",
    ]
    return "\n".join(out)


def _helpers(fn, seen: set) -> list:
    """`fn` and the spec.invariants functions it calls, in first-use order (for the formal statement)."""
    out = []
    if fn in seen or not isinstance(fn, types.FunctionType) or fn.__module__ != I.__name__:
        return out
    seen.add(fn)
    out.append(fn)
    for name in fn.__code__.co_names:
        g = getattr(I, name, None)
        if isinstance(g, types.FunctionType):
            out += _helpers(g, seen)
    return out


@functools.lru_cache(maxsize=1)
def _shape_pool() -> dict:
    """Every shape this version knows by name: the bundle's, the small ones and those the mutants are tried on."""
    from rollsplit.solver.prove import mutant_shapes
    return {s.name(): s for s in S.select(["all"]) + S.small_shapes() + mutant_shapes()}


def describe_shape(name: str, pool: dict | None = None) -> str:
    """A shape in words: 'a payment and 2 direct rollovers (to a traditional IRA, a Roth IRA); RMD'. The name is
    returned as it is for a shape this version does not know."""
    from rollsplit.reference.explain import DESTINATION_SHORT as DEST
    shape = (pool if pool is not None else _shape_pool()).get(name)
    if shape is None:
        return name
    parts = []
    if shape.paid:
        where = {None: "", 0: " (listed first)"}.get(shape.paid_at, " (listed between the direct rollovers)")
        parts.append("a payment" + where)
    n = len(shape.directs)
    if n:
        dests = ", ".join(DEST.get(t, t) + ("" if a else " that refuses after-tax money") for t, a in shape.directs)
        parts.append(f"{n} direct rollover{'s' if n > 1 else ''} (to {dests})")
    k = len(shape.sixty)
    if k:
        parts.append(f"{k} 60-day rollover{'s' if k > 1 else ''} (to {', '.join(DEST.get(t, t) for t in shape.sixty)})")
    text = " and ".join(parts) if len(parts) <= 2 else ", ".join(parts[:-1]) + " and " + parts[-1]
    extra = []
    if shape.contract == "designated_roth":
        extra.append("qualified distribution from a designated Roth account" if shape.qualified_roth
                     else "from a designated Roth account")
    if shape.regime == law.OLD:
        extra.append("old rule (Notice 2009-68)")
    for flag, words in (("hardship", "hardship distribution"), ("rmd", "an RMD (may be $0)"),
                        ("pre1987", "pre-1987 basis (may be $0)")):
        if getattr(shape, flag):
            extra.append(words)
    if shape.loan_offset:
        extra.append("qualified plan loan offset" if shape.loan_offset == "qualified" else "plan loan offset")
    for method, election in (("direct", shape.direct_election), ("60-day", shape.sixty_election)):
        if election:
            extra.append(f"{method} rollovers in an elected order" if election == "order"
                         else f"elected pre-tax amounts for {method} rollovers")
    return (text or "no disbursement") + ("; " + "; ".join(extra) if extra else "")


def ordinariness(name: str, pool: dict | None = None) -> tuple:
    """How ordinary a shape is, smaller first: 1 or 2 direct rollovers to IRAs and a payment, no election, no
    hardship or loan offset, a pre-tax and after-tax account under the current rule, requests that are valid; then
    few rows. An RMD and pre-1987 basis count little: most shapes allow them (as amounts that may be $0)."""
    shape = (pool if pool is not None else _shape_pool()).get(name)
    if shape is None:
        return (99, 99, name)
    odd = sum([not 1 <= len(shape.directs) <= 2, not shape.paid, shape.paid_at is not None,
               shape.direct_election is not None, shape.sixty_election is not None, shape.hardship,
               shape.loan_offset is not None, shape.contract != "pretax_aftertax", shape.regime != law.NEW,
               len(shape.sixty) > 1, any(not a or t not in ("traditional_ira", "roth_ira") for t, a in shape.directs),
               2 * (shape in _rejecting())]) + 0.25 * (shape.rmd + shape.pre1987)
    return (odd, S.size(shape), name)


@functools.lru_cache(maxsize=1)
def _rejecting() -> frozenset:
    return frozenset(S.rejecting_shapes())


@functools.lru_cache(maxsize=None)
def _run(shape_name: str):
    return O.run(_shape_pool()[shape_name])


@functools.lru_cache(maxsize=None)
def statement(inv_id: str, shape_name: str) -> tuple[str | None, bool]:
    """The invariant over a symbolic request of the shape and a symbolic result (fresh z3 Ints `R.*`), as SMT-LIB,
    and whether it is structural (`true` after z3's rewriting: decided in Python from the shape)."""
    try:
        r = _run(shape_name)
        res, _ = fresh_result(r.sr.request, "R")
        expr = I.BY_ID[inv_id].holds(r.A, r.sr.request, res)
        return expr.sexpr(), z3.is_true(z3.simplify(expr))
    except Exception:  # noqa: BLE001 - an unknown shape or invariant: the python source is still given
        return None, False


def representative(inv, rows: list[dict], pool: dict, tries: int = 40) -> dict:
    """The obligation whose statement REPORT.html shows first: the most ordinary shape (see `ordinariness`) where
    z3 had work to do (not closed by simplification alone) and the statement is not structurally `true`."""
    ranked = sorted(rows, key=lambda o: (not _proved(o) or _trivial(o), ordinariness(o["shape"], pool)))
    for o in ranked[:tries]:
        sexpr, structural = statement(inv.id, o["shape"])
        if sexpr is not None and not structural:
            return o
    return ranked[0]


def predicate_source(inv) -> str:
    return "\n\n".join(inspect.getsource(f).rstrip() for f in _helpers(inv.holds, set()))


def _structural(sexpr: str) -> bool:
    """An SMT-LIB statement that is `true` after z3's rewriting (e.g. `true`, `(and true true)`): decided in
    Python, nothing about money left for z3."""
    try:
        return z3.is_true(z3.simplify(z3.And(*z3.parse_smt2_string(f"(assert {sexpr})"))))
    except z3.Z3Exception:   # it names variables (undeclared here): a statement about money
        return False


def always_trivial(rs: list[dict], recorded: bool) -> bool:
    return recorded and bool(rs) and all(_trivial(o) for o in rs)


def _invariants_section(obs: list[dict]) -> str:
    out = ["## Invariants", "",
           "Each invariant is one predicate in `spec/invariants.py`, evaluated on ints (the conformance oracle) and "
           "on z3 terms (these proofs). Status counts the shapes it applies to. Its formal statement, every shape's "
           f"file with its re-check command, the mutants that break it and what its proofs rest on are in "
           f"[{REPORT_HTML}]({_html('invariants')}).", ""]
    by_inv = _by([o for o in obs if o["kind"] == "invariant"], "invariant")
    pool = _shape_pool()
    recorded = _recorded(obs)
    summary = []
    for inv in I.INVARIANTS:
        rs = by_inv.get(inv.id, [])
        ok = sum(_ok(o) for o in rs)
        mark = f" {TRIVIAL_MARK}" if always_trivial(rs, recorded) else ""
        summary.append([f"[{inv.id}]({_html(anchor(inv.id))}){mark}", inv.statement, inv.citation(),
                        f"{ok}/{len(rs)} proved{_with_trivial(rs, recorded)}" if rs else "not in this run"])
    out += [tabulate(summary, ["id", "statement", "citation", "status"], tablefmt="github"), ""]
    if any(always_trivial(by_inv.get(inv.id, []), recorded) for inv in I.INVARIANTS):
        out += [f"{TRIVIAL_MARK} closed by simplification alone on every shape: the obligation restates the "
                "algorithm's own expression (or the check was decided in Python), so its proof is not evidence "
                "that the rule holds, only that the code computes what it computes.", ""]
    for inv in I.INVARIANTS:
        rs = by_inv.get(inv.id, [])
        out += [f"### {inv.id}" + (f" {TRIVIAL_MARK}" if always_trivial(rs, recorded) else ""), ""]
        if not rs:
            out += [f"**Status:** no shape of this run is one it applies to. [Statement and citations]"
                    f"({_html(anchor(inv.id))}).", ""]
            continue
        failed = [o for o in rs if not _ok(o)]
        rep = representative(inv, rs, pool)
        shown = ", ".join(f"`{o['shape']}` ({o['status']})" for o in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        out += [f"**Status:** {sum(_ok(o) for o in rs)} of {len(rs)} shapes proved{_with_trivial(rs, recorded)}"
                + (f"; NOT proved on {shown}{more}" if failed else "")
                + f"; z3 time {sum(o['seconds'] for o in rs):.2f} s in all. The formal statement (shown on: "
                f"{describe_shape(rep['shape'], pool)}), every shape and its file: "
                f"[{REPORT_HTML}#{anchor(inv.id)}]({_html(anchor(inv.id))}); re-check: `z3 {rep['file']}`.", ""]
    return "\n".join(out)


def anchor(inv_id: str) -> str:
    """The id of an invariant's section in REPORT.html."""
    return "inv-" + inv_id.lower()


def _determinacy_section(obs: list[dict], shapes: list[str]) -> str:
    det = [o for o in obs if o["kind"] == "determinacy"]
    ok = sum(_ok(o) for o in det)
    uses = sorted({u for o in det for u in o.get("assumes", [])})
    return "\n".join([
        "## Determinacy", "",
        "For each shape: two results that both satisfy every applicable invariant are equal in every field: "
        "money, row ids, box 7 codes and the regime (`valid ∧ inv(R1) ∧ inv(R2) ∧ R1 ≠ R2` is unsat, with R1 and "
        "R2 fresh, not the reference's). So a conformance vector's expected answer is forced by the invariants, not "
        "chosen by our implementation.",
        "",
        f"Proved for {ok} of {len(det)} shapes that have a determinacy obligation"
        f" (of {len(shapes)} shapes in the run; rejecting shapes have no result). "
        f"Lemma instances assumed: {', '.join(uses) or 'none'}. Which invariants each proof used (z3's unsat core, "
        f"the assertions named by their role): [{REPORT_HTML}]({_html('determinacy')}).",
        "",
    ])


def _compiled_section(obs: list[dict]) -> str:
    comp = [o for o in obs if o["kind"] == "compiled"]
    if not comp:
        return ""
    lines = ["## The compiled fast path", "",
             "Requests are answered by `reference/compiled.py`, the algorithm traced once per shape into straight-line "
             "Python. For each shape, `solver/compiled_proof.py` compiles it with the very function requests go "
             "through, reads the generated source with Python's `ast` (a small interpreter of exactly the constructs "
             "the tracer writes: `+ - *`, `//` by a positive divisor, comparisons, `x if c else y`, `and`/`or`/`not`, "
             "dict and list displays; anything else is refused) and proves, for every money value in range: the "
             "compiled code declines (and the plain run reports the error) exactly when a value check of the "
             "algorithm fails, and otherwise every field of its Result equals the algorithm's run on z3 terms. "
             "A counterexample is replayed on both concrete paths before it is reported.", "",
             f"Proved for {sum(_ok(o) for o in comp)} of {len(comp)} shapes{_with_trivial(comp, _recorded(obs))} "
             "(`compiled__*.smt2`, expected unsat). "
             "The proof runs the compiled code with ids other than those it was compiled from, so an id baked into "
             "the code cannot pass. " + compiled_proof.COVERAGE, ""]
    return "\n".join(lines)


def _witness_section(obs: list[dict]) -> str:
    wit = [o for o in obs if o["kind"] == "witness"]
    ok = [o for o in wit if _ok(o)]
    rej = [o for o in obs if o["kind"] == "rejects"]
    lines = ["## Non-vacuity", "",
             "An obligation `valid ∧ ¬inv` is trivially unsat if `valid` is. For each shape, the witness file asserts "
             "`valid` (with every amount and the basis positive where possible) and must be sat. Each model was "
             "turned into a wire-contract request (in the witness file's header), accepted by the concrete parser "
             "and calculator, and the z3 value of the symbolic result equalled the concrete answer field for field.",
             "",
             f"Witnesses found and replayed: {len(ok)} of {len(wit)} shapes.",
             ""]
    if rej:
        lines += [f"{len(rej)} shape(s) send money where none may go; for them the claim is the opposite: no request "
                  f"of the shape is valid (`rejects__*`, expected unsat): {sum(_ok(o) for o in rej)} proved.", ""]
    if len(ok) < len(wit):
        lines += ["Missing or unreplayed witnesses:", "",
                  tabulate([[o["shape"], o["status"], (o.get("detail") or {}).get("replay", {}).get("why", "")]
                            for o in wit if not _ok(o)], ["shape", "status", "why"], tablefmt="github"), ""]
    return "\n".join(lines)


def _lemma_section(obs: list[dict]) -> str:
    lemmas = [o for o in obs if o["kind"] == "lemma"]
    pre = [o for o in obs if o["kind"] == "lemma-use"]
    if not lemmas:
        return ""
    lines = ["## Lemmas", "",
             f"{sum(_ok(o) for o in lemmas)} of {len(lemmas)} lemmas proved once on free unbounded integers (no range "
             "bounds), over the code of the reference where they speak about it; shape obligations assume only their "
             "instances at the code's own terms, each named in the file's header (`; assumes ...`). Statements, "
             f"files and where each is assumed: [{REPORT_HTML}]({_html('lemmas')}).", ""]
    if pre:
        lines += [f"Where a shape replaces a call by a lemma's conclusion, a `lemma-use` obligation proves the lemma's "
                  f"precondition at the call: {sum(_ok(o) for o in pre)} of {len(pre)} proved.", ""]
    return "\n".join(lines)


def _statement_of(o: dict) -> str:
    f = o.get("file")
    return o.get("statement") or (f"see `{f}`" if f else "")


def _mutant_section(mutants: list[dict]) -> str:
    from rollsplit.solver.prove import unbroken_rules
    survived = [m["mutant"] for m in mutants if not m["refuted"]]
    unbroken = unbroken_rules(mutants)
    return "\n".join([
        "## Mutants: evidence that the proofs can fail", "",
        "Each seeded mistake of `reference/mutants.py` runs through the same obligations. A mutant is refuted when "
        "z3 finds a request where it breaks an invariant (sat) and that request, replayed on the concrete mutant, "
        "really breaks it. The float mutant does not run on z3 terms; it is refuted by its recorded request, "
        "replayed concretely.", "",
        f"Refuted: {len(mutants) - len(survived)} of {len(mutants)}"
        + (f"; **SURVIVED:** {', '.join(survived)}" if survived else "")
        + (f". Rules no mutant breaks: **{', '.join(unbroken)}**" if unbroken else
           ". Every rule is broken by at least one of them")
        + f". Each mistake, its counterexample and the rules it breaks: [{REPORT_HTML}]({_html('mutants')}).", ""])


def _rule_matrix(mutants: list[dict]) -> str:
    """Each rule and the mutants whose replayed counterexample breaks it: a rule no mutant breaks has not shown
    it can fail (`rollsplit prove --mutants` fails then)."""
    rules = [inv.id for inv in I.INVARIANTS] + ["VALIDITY", "PARSE", "COMPILED-EQUALS-ALGORITHM", "DETERMINACY"]
    rows = []
    for rule in rules:
        by = [m["mutant"] for m in mutants if m["refuted"] and rule in m["refuted_by"]]
        rows.append([rule, len(by), ", ".join(by) or "**none**"])
    return "\n".join(["### Rules and the mutants that break them", "",
                      "Every rule must be broken by at least one seeded mistake, refuted with a replayed "
                      "counterexample (the invariants broken on the refuting shape are listed; a mutant is tried "
                      "shape by shape until one refutes it).", "",
                      tabulate(rows, ["rule", "mutants", "which"], tablefmt="github"), ""])


def _growth_section(data: dict) -> str:
    g = data.get("growth") or {}
    return "\n".join(["## Time against the number of destinations", "",
                      "Solver seconds summed over the obligations of all shapes with that many destinations "
                      "(direct + paid + 60-day); lemmas excluded.", "",
                      tabulate(g.get("rows", []), g.get("headers", []), tablefmt="github"), ""])


def _shape_section(obs: list[dict]) -> str:
    rows = []
    for shape, rs in sorted(_by([o for o in obs if o["shape"] != "-"], "shape").items(),
                            key=lambda kv: (kv[1][0]["destinations"], kv[0])):
        ok = sum(_ok(o) for o in rs)
        rows.append([f"`{shape}`", rs[0]["destinations"], len(rs), ok, len(rs) - ok,
                     round(sum(o["seconds"] for o in rs), 2)])
    return "\n".join(["## Shapes", "",
                      tabulate(rows, ["shape", "destinations", "obligations", "proved/sat", "not", "solver s"],
                               tablefmt="github"), ""])


def formulas_section() -> str:
    """The closed-form formulas of solver.formulas. The report process is handed this function by name (a
    pool pickles it), so tests replace `_formulas_section`, which it looks up at call time."""
    return _formulas_section()


def _formulas_section() -> str:
    from rollsplit.solver import formulas
    return formulas.report_section().rstrip() + "\n"


def _sources_section(data: dict) -> str:
    rows = sorted(data.get("sources_sha256", {}).items())
    return "\n".join(["## Sources", "",
                      "sha256 of the sources the obligations were built from (results.json holds the same, and the "
                      "sha256 of every bundle file).", "",
                      tabulate(rows, ["file", "sha256"], tablefmt="github"), ""])
