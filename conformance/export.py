"""`rollsplit conformance export`: write the suite's vector files, manifest and coverage table.

Sources: (a) the behaviour regions of the reference for every shape in `SHAPES` (`solver.regions`:
one witness per region, one boundary witness per branch condition, one request per value check that
can reject the shape, and a z3 proof that the regions cover the shape); (b) the worked examples of
the law; (c) one invalid request per fault for every error code; (d) values that break 64-bit
integers, floating point and banker's rounding (`conformance.handwritten`).

Expected answers come from the reference and are judged by `conformance.oracle` (invariants) before
they are written. Ids are stable: a vector whose origin already has an id keeps its id and its
content; new vectors take the next free number of their topic; ids that disappear are retired in
the manifest and never reused. The same inputs give the same files byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rollsplit.conformance import handwritten, suite
from rollsplit.conformance.handwritten import Candidate
from rollsplit.conformance.suite import progress as _progress
from rollsplit.conformance.oracle import diff, judge
from rollsplit.reference import calculate, calculate_text
from rollsplit.reference.explain import money
from rollsplit.solver.z3_backend import Shape
from rollsplit.spec import invariants as inv_module
from rollsplit.spec import law
from rollsplit.spec.errors import ERROR_CODES
from rollsplit.spec.invariants import ERROR_CITATIONS
from rollsplit.locks import try_lock

T, R, Q, B, G, DR = "traditional_ira", "roth_ira", "qualified_plan", "403b", "457b_gov", "designated_roth"
IPR = "in_plan_roth"

# (topic, shape): each shape is explored for regions; together they exercise every rule of the contract.
SHAPES: list[tuple[str, Shape]] = [
    ("prorata", Shape(directs=())),
    ("prorata", Shape()),
    ("prorata", Shape(paid=False)),
    ("ordering", Shape(directs=((T, True), (R, True)))),
    ("ordering", Shape(directs=((G, True), (T, True), (R, True)))),
    ("ordering", Shape(directs=((Q, False), (R, True)))),
    ("ordering", Shape(directs=((R, True), (B, True)), paid=False)),
    ("sixty_day", Shape(sixty=(T,))),
    ("sixty_day", Shape(directs=(), sixty=(R, T))),
    ("sixty_day", Shape(directs=(), sixty=(Q,))),
    ("elections", Shape(directs=((T, True), (R, True)), direct_election="order", direct_order=(1,))),
    ("elections", Shape(directs=((T, True), (R, True)), direct_election="amounts")),
    ("elections", Shape(directs=(), sixty=(T, R), sixty_election="order", sixty_order=(1, 0))),
    ("elections", Shape(directs=(), sixty=(T, R), sixty_election="amounts")),
    ("designated_roth", Shape(contract="designated_roth", directs=((R, True), (DR, True)))),
    ("designated_roth", Shape(contract="designated_roth", qualified_roth=True, directs=((R, True),))),
    ("designated_roth", Shape(contract="designated_roth", directs=(), sixty=(DR,))),
    ("pre1987", Shape(pre1987=True)),
    ("pre1987", Shape(directs=(), pre1987=True)),
    ("rmd", Shape(rmd=True)),
    ("rmd", Shape(rmd=True, sixty=(T,))),
    ("withholding", Shape(directs=(), hardship=True)),
    ("withholding", Shape(directs=((R, True),))),
    ("regime", Shape(regime=law.OLD)),
    ("regime", Shape(regime=law.OLD, directs=(), sixty=(T,))),
    ("regime", Shape(contract="designated_roth", regime=law.OLD, directs=((R, True),))),
    ("eligibility", Shape(directs=((G, True),))),
    ("eligibility", Shape(directs=((Q, False),), paid=False)),
    ("eligibility", Shape(directs=((DR, True),))),
    ("in_plan_roth", Shape(directs=((T, True), (IPR, True)))),
    ("in_plan_roth", Shape(directs=(), sixty=(IPR,))),
    ("loan_offset", Shape(directs=((T, True),), loan_offset="qualified")),
    ("loan_offset", Shape(directs=(), sixty=(T,), loan_offset="offset")),
]

TOPICS: dict[str, str] = {
    "examples": "The worked examples of the law (IRS FAQ, the law-firm alert of DOMAIN.md), with the figures "
                "their sources state.",
    "prorata": "The pro-rata rule of §72(e)(8): basis recovered by a distribution, partial and full.",
    "ordering": "Pre-tax money to direct rollovers first, in the default order (Notice 2014-54 §III).",
    "sixty_day": "60-day rollovers take the payment's pre-tax money first (§402(c)(2) last sentence).",
    "elections": "The participant's choice of where pre-tax money goes: orders and exact amounts.",
    "designated_roth": "Designated Roth contracts: Roth IRA and designated Roth destinations, qualified "
                       "distributions (§402A).",
    "pre1987": "Pre-1987 basis comes out first, tax-free (§72(e)(8)(D)).",
    "rmd": "Required minimum distributions are paid out, after-tax money first, never rolled over.",
    "withholding": "Mandatory 20% withholding (§3405(c)) and hardship distributions.",
    "regime": "Notice 2009-68, the old rule: each disbursement its own distribution, with transition dates.",
    "eligibility": "Where money of each kind may go (§402(c)(2), §457(e)(16), §402A(c)(3)).",
    "validation": "Invalid requests: one fault each, for every error code, and the order in which checks run.",
    "rounding": "Rounding half up on exact values, and the largest-remainder split of Notice 2009-68.",
    "large_values": "Amounts near 2^53 and products above 2^64: big integers required, floats fail.",
    "in_plan_roth": "In-plan Roth rollovers into the plan's own designated Roth account (§402A(c)(4)): pre-tax "
                    "money taxable like a conversion, after-tax money not, no withholding on a direct rollover.",
    "loan_offset": "Plan loan offsets on the payment: part of the distribution and of box 1, rollable (a qualified "
                   "offset by the return's due date), withheld from only up to the cash paid.",
    "effective_dates": "The first day each route of the law was open: rollovers after 2001, after-tax money into "
                       "a 403(b) from 2007, plan-to-Roth-IRA rollovers after 2007, designated Roth accounts from "
                       "2006 (governmental 457(b) from 2011), the last lifetime RMD of a designated Roth account.",
    "recipients": "Contract 1.2: who receives the money (the participant, the surviving spouse, a beneficiary who is "
                  "not the surviving spouse, an alternate payee spouse under a QDRO), the inherited IRAs, and Form "
                  "1099-R box 7's code for the recipient's age or event (1, 2, 3, 4, 7) beside the route's codes.",
}

TOPIC_CITATIONS: dict[str, list[str]] = {
    "prorata": ["IRC_72E8", "N2014_SINGLE"], "ordering": ["N2014_DIRECT", "N2014_CHOICE"],
    "sixty_day": ["IRC_402C2"], "elections": ["N2014_CHOICE"], "designated_roth": ["IRC_402A", "IRC_402A_D4"],
    "pre1987": ["IRC_72E8D"], "withholding": ["IRC_3405", "IRC_402C4"],
    "regime": ["N2009_68"], "eligibility": ["IRC_402C2_AT", "IRC_402A"],
    "rmd": ["REG_RMD", "REG_RMD_2025", "IRC_402C4"],
    "in_plan_roth": ["IRC_402A_C4", "FORM_1099R_IRR"],
    "loan_offset": ["REG_LOAN_OFFSET", "REG_3405_OFFSET", "IRC_402C3C"],
}

# Wycheproof-style flags: each defined once, with the bug it catches.
FLAGS: dict[str, dict[str, str]] = {
    "Region": {"description": "A witness of one behaviour region of the reference: one combination of its "
                              "branch conditions (which mins and maxes bind).",
               "bug": "A branch taken wrongly: a cap that is not applied, a fill that overflows, a max(0, ...) "
                      "that is missing."},
    "Boundary": {"description": "A branch condition at equality, e.g. pre-tax exactly equal to the direct total.",
                 "bug": "Off-by-one comparisons: < written for <=, a cap reached exactly but treated as exceeded."},
    "ValueCheck": {"description": "A request of a shape rejected by one value check, every earlier check passing.",
                   "bug": "A missing or misordered value check; a result where the contract requires an error."},
    "WorkedExample": {"description": "A worked example stated by a source of the law, with its figures.",
                      "bug": "Misreading the rule itself (the old per-destination rule, after-tax first)."},
    "InvalidRequest": {"description": "An invalid request with exactly one fault.",
                       "bug": "Accepting what the contract rejects, or rejecting it with the wrong code."},
    "CheckOrder": {"description": "A request with several faults; the first in the contract's check order wins.",
                   "bug": "Checks run in another order, so implementations disagree on the code."},
    "Overflow64": {"description": "A product of amounts above 2^64.",
                   "bug": "64-bit integer overflow in amount * basis before the division (needs 128-bit or "
                          "big integers)."},
    "Float53": {"description": "Amounts near 2^53 where binary floating point loses cents.",
                "bug": "Money computed in doubles: float(D) * basis / balance misses the exact cent."},
    "RoundingTie": {"description": "An exact half cent, or a value within a hair of one.",
                    "bug": "Banker's rounding (half to even), or rounding an already-rounded float."},
    "Truncation": {"description": "A fraction of a cent of 1/2 or more.",
                   "bug": "Truncating (floor) instead of rounding half up."},
    "Targeted": {"description": "A request built so that one classic mistake changes the answer; the figures "
                               "were worked by hand from the rule and are checked at export.",
                 "bug": "Ignoring an election, letting after-tax money into a governmental 457(b), ignoring "
                        "pre-1987 basis, and the other mistakes named in the description."},
    "LargestRemainder": {"description": "Notice 2009-68 leftover cents split by largest remainder, ties in "
                                        "request order.",
                         "bug": "Rounding each row's share separately, so the rows no longer add up."},
}


@dataclass
class CoverageRow:
    topic: str
    shape: str
    atoms: int
    regions: list[str] = field(default_factory=list)     # region tags
    boundaries: int = 0
    coverage: str = ""


def _fmt(cents: int) -> str:
    return money(cents) if cents < 10**15 else f"{cents} cents"


def _kind(pre: int, after: int) -> str:
    if pre and after:
        return "pre-tax and after-tax"
    return "all pre-tax" if pre else ("all after-tax" if after else "nothing")


def behaviour(request: dict, result: dict) -> str:
    """What a valid request does, in a few words (the description of a region witness)."""
    parts = []
    for d, r in zip(request["disbursements"], result["disbursements"]):
        where = f"{d['id']} ({d['to']})" if d["method"] == "direct" else f"{d['id']} (paid)"
        parts.append(f"{where} {_kind(r['pretax'], r['aftertax'])}")
    for x, r in zip(request.get("rollovers_60_day", []), result["rollovers_60_day"]):
        parts.append(f"{x['id']} (60-day to {x['to']}) {_kind(r['pretax'], r['aftertax'])}")
    parts.append(f"taxable {_fmt(result['taxable_income'])}")
    return "; ".join(parts)


def region_candidates(shapes=SHAPES, jobs: int = 2) -> tuple[list[Candidate], list[CoverageRow]]:
    from rollsplit.solver.regions import explore_isolated, wire_request
    done = []

    def tick(shape: Shape) -> None:
        done.append(shape)
        _progress(f"export: explored shape {len(done)}/{len(shapes)} {shape.name()}")

    summaries = explore_isolated([shape for _, shape in shapes], jobs=jobs, progress=tick)
    _progress("")
    out: list[Candidate] = []
    rows: list[CoverageRow] = []
    for (topic, shape), found in zip(shapes, summaries):
        name = shape.name()
        row = CoverageRow(topic, name, found["atoms"], boundaries=len(found["boundaries"]),
                          coverage=found["coverage"])
        rows.append(row)
        cites = TOPIC_CITATIONS.get(topic, [])
        for r in found["regions"]:
            tag = f"region:{name}#{r['key']}"
            row.regions.append(tag)
            out.append(Candidate(topic, tag, "", ["Region"], wire_request(shape, r["witness"]), tags=[tag],
                                 citations=cites))
        for b in found["boundaries"]:
            tags = [f"region:{name}#{b['region_key']}"] if b["region_key"] else []
            out.append(Candidate(topic, f"boundary:{name}@{b['atom_key']}", "", ["Boundary"],
                                 wire_request(shape, b["witness"]), tags=tags + [f"boundary:{b['atom_key']}"],
                                 citations=cites))
        for code, w in found["errors"].items():
            out.append(Candidate(topic, f"value-check:{name}:{code}", "", ["ValueCheck"], wire_request(shape, w),
                                 tags=[f"error:{code}"], citations=cites))
    return out, rows


def _citation(name: str) -> dict:
    c = getattr(inv_module, name)
    out = {"source": c.source, "pinpoint": c.pinpoint, "quote": c.quote}
    if not c.confirmed:
        out["secondary"] = True
    return out


def expected_for(c: Candidate) -> dict:
    answer = calculate_text(c.request_text) if c.request_text is not None else calculate(c.request)
    if "error" in answer:
        return {"error": answer["error"]["code"]}
    return {"result": answer}


def _describe(c: Candidate, expected: dict) -> str:
    if c.description:
        return c.description
    kind, key = c.origin.split(":", 1)
    shape = key.split("#")[0].split("@")[0]
    if kind == "value-check":
        shape, code = key.rsplit(":", 1)
        return f"A request of shape {shape} that the value check {code} rejects (every earlier check passes)."
    what = behaviour(c.request, expected["result"]) if "result" in expected else f"error {expected['error']}"
    if kind == "boundary":
        return f"Boundary {key.split('@')[1]} of shape {shape} (a branch condition at equality): {what}."
    return f"Region {key.split('#')[1]} of shape {shape}: {what}."


def build_vector(c: Candidate) -> dict:
    expected = expected_for(c)
    meant = [t.split(":", 1)[1] for t in c.tags if t.startswith("error:")]
    if meant and expected.get("error") not in meant:
        raise ExportError(f"{c.origin} is meant to be rejected with {meant[0]}, but the reference answers "
                          f"{expected.get('error') or 'with a result'}")
    if "result" in expected:
        verdict = judge(c.request, expected["result"], expected)
        if not verdict.ok:
            raise ExportError(f"the reference's answer to {c.origin} breaks the invariants:\n{verdict.explain()}")
        if c.check is not None:
            try:
                c.check(expected["result"])
            except AssertionError:
                raise ExportError(f"the reference's answer to {c.origin} differs from the figures its source "
                                  "states") from None
    # a vector expecting an error cites the rules behind its code (spec.invariants.ERROR_CITATIONS) too
    cites = c.citations + [n for n in ERROR_CITATIONS.get(expected.get("error"), ()) if n not in c.citations]
    v: dict[str, Any] = {"id": "", "description": _describe(c, expected),
                         "citations": [_citation(n) for n in cites],
                         "features": suite.features_of(c.request if c.request_text is None else None),
                         "tags": c.tags, "flags": c.flags}
    if c.request_text is not None:
        v["request_text"] = c.request_text
    else:
        v["request"] = c.request
    v["expected"] = expected
    v["origin"] = c.origin
    return v


def _number(vid: str) -> int:
    return int(vid.rsplit("-", 1)[1])


@dataclass
class Retirement:
    """A vector retired by `export(retire_changed=True)`: its id, and why (the answers before and now)."""
    id: str
    origin: str
    description: str
    before: dict
    now: dict

    def reason(self) -> str:
        def short(e: dict) -> str:
            return f"error {e['error']}" if "error" in e else "a result"
        if "error" in self.now or "error" in self.before:
            return f"was {short(self.before)}, now {short(self.now)}"
        diffs = [str(d) for d in diff(
            self.before["result"], self.now["result"])]
        return "; ".join(diffs[:4]) + (f"; and {len(diffs) - 4} more" if len(diffs) > 4 else "")


def assign_ids(topic: str, fresh: list[dict], old: dict[str, dict], retired: set[str],
               retire_changed: list[Retirement] | None = None) -> list[dict]:
    """Keep the id and content of every origin already exported (its citations and features follow the current
    code: a release may correct them); number the new ones after the highest used. A vector whose answer the
    reference no longer gives is an error, unless `retire_changed` is a list: then its id is retired (recorded
    there, with both answers) and its request goes on under a new id."""
    used = [_number(v["id"]) for v in old.values()] + [_number(i) for i in retired if i.startswith(topic + "-")]
    nxt = max(used, default=0) + 1
    out = []
    # a vector whose origin was renamed (a shape's name now says more) but whose request is the same keeps its id:
    # the same request under the same id, never a retired id and a new one for one vector
    origins = {v["origin"] for v in fresh}

    def _request_key(x: dict) -> str:
        return json.dumps([x.get("request"), x.get("request_text")], sort_keys=True)
    renamed: dict[str, list[dict]] = {}
    for o, p in sorted(old.items(), key=lambda item: _number(item[1]["id"])):
        if o not in origins:
            renamed.setdefault(_request_key(p), []).append(p)
    for v in fresh:
        prior = old.get(v["origin"])
        if prior is None and renamed.get(_request_key(v)):
            prior = renamed[_request_key(v)].pop(0)
            prior = {**prior, "origin": v["origin"], "description": v["description"]}
        if prior is not None:
            now = expected_for(Candidate(topic, prior["origin"], "", [], prior.get("request"),
                                         prior.get("request_text")))
            if now != prior["expected"] and retire_changed is not None:
                retire_changed.append(Retirement(prior["id"], prior["origin"], prior["description"],
                                                 prior["expected"], now))
                prior = None
            elif now != prior["expected"]:
                raise ExportError(f"the reference's answer to {prior['id']} ({prior['origin']}) is no longer the "
                                  "expected answer written in the suite; a vector never changes under its id: "
                                  "review the change, then export with --retire-changed and bump the suite's "
                                  "major version")
        if prior is not None:
            # citations and features are what a release may correct under an id (never the request or answer);
            # the features are those of the request kept under the id (a re-exploration may find another witness)
            # the region a kept request lies in is known only when the exploration found that very request again
            # (a region tag names a region of the current exploration; a new branch of the law renames them all)
            # (a region vector's origin is its region: same origin, same region)
            same = (prior.get("request"), prior.get("request_text")) == (v.get("request"), v.get("request_text"))
            keep = same or prior["origin"].startswith("region:")
            tags = v["tags"] if keep else [t for t in prior["tags"] if not t.startswith("region:")]
            out.append({**prior, "citations": v["citations"], "tags": tags,
                        "features": suite.features_of(prior.get("request") if "request_text" not in prior else None)})
        else:
            v["id"] = f"{topic}-{nxt:04d}"
            nxt += 1
            out.append(v)
    return sorted(out, key=lambda v: _number(v["id"]))


# ---- the directory: checked before any long work, written all at once ------------------------------------
MARKER = ".rollsplit-suite"        # short JSON: this directory holds a suite written by export (same bytes each run)
LOCK = ".rollsplit-lock"           # flock'ed while an export writes the directory; removed at the end
STAGING = ".rollsplit-staging-"    # + pid: the new files are written here, then moved into the directory
_MARKER_TEXT = json.dumps({"written_by": "rollsplit conformance export", "suite": suite.SUITE_NAME}, indent=1) + "\n"


class ExportError(Exception):
    """A sentence for the user. `code`: 2 when nothing was done (the directory cannot take the suite), 1 when the
    export itself failed (its work is lost; the directory is as it was)."""

    def __init__(self, text: str, code: int = 1) -> None:
        super().__init__(text)
        self.code = code


def _own_names() -> set[str]:
    return {suite.MANIFEST, "COVERAGE.md", MARKER, LOCK} | {f"{t}.json" for t in TOPICS}


def _exists(p: Path) -> bool:
    return p.exists() or p.is_symlink()


def _is_ours(directory: Path) -> bool:
    """Does `directory` hold a suite that export wrote (its marker, or a manifest of this suite)?"""
    try:
        if json.loads((directory / MARKER).read_text(encoding="utf-8")).get("written_by") == \
                "rollsplit conformance export":
            return True
    except (OSError, ValueError, AttributeError):
        pass
    try:
        manifest = suite.load_file(directory / suite.MANIFEST)
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("suite") == suite.SUITE_NAME


def _few(names) -> str:
    names = sorted(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


@dataclass
class Previous:
    """What the directory held: its retired ids and each topic's vectors by origin (read before any work)."""
    retired: set[str]
    vectors: dict[str, dict[str, dict]]


def survey(directory: Path, force: bool = False) -> Previous:
    """Check that the suite may be written into `directory` and read what an earlier export left there; raises
    ExportError (code 2, nothing changed) when it may not: a `*.json` that is no file of the suite (the suite's
    readers would take it for a vector file; even with `force`), a directory that is not empty and holds no suite
    of ours (unless `force`), a file of the suite there that export did not write, or a file of ours that cannot
    be read."""
    if _exists(directory) and not directory.is_dir():
        raise ExportError(f"{directory} exists and is not a directory", code=2)
    if not directory.is_dir():
        return Previous(set(), {})
    try:
        names = {p.name for p in directory.iterdir() if not p.name.startswith(STAGING)}
    except OSError as e:
        raise ExportError(f"cannot read {directory}: {e.strerror or e}", code=2) from None
    own = _is_ours(directory)
    strange = sorted(n for n in names if n.endswith(".json") and n not in _own_names())
    if strange:
        raise ExportError(f"{directory} holds {_few(strange)}, which {'is' if len(strange) == 1 else 'are'} not "
                          "a file of the suite; every *.json there would be read as a vector file. Nothing was "
                          "changed: move it away, or choose another --dir", code=2)
    foreign = sorted(names - _own_names())
    if foreign and not own and not force:
        raise ExportError(f"{directory} is not empty and holds no suite written by rollsplit conformance export (it "
                          f"holds {_few(foreign)}); nothing was changed. Choose another --dir, or give --force to "
                          "write the suite beside those files (none of them is removed or overwritten)", code=2)
    ours_there = sorted(n for n in names & _own_names() if n not in (LOCK, MARKER))
    if ours_there and not own:
        raise ExportError(f"{directory / ours_there[0]} was not written by rollsplit conformance export and the "
                          "suite would overwrite it; nothing was changed, even with --force. Choose another --dir",
                          code=2)
    for name in sorted(names & _own_names() - {LOCK, MARKER}):
        p = directory / name
        if p.is_symlink() or not p.is_file():
            raise ExportError(f"{p} is not a regular file, and the suite writes a file there; nothing was changed. "
                              "Move it away or choose another --dir", code=2)
    retired: set[str] = set()
    if suite.MANIFEST in names:
        try:
            manifest = suite.load_file(directory / suite.MANIFEST)
            retired = set(manifest.get("retired_ids", []))
        except (OSError, ValueError, AttributeError, TypeError) as e:
            raise ExportError(f"cannot read the suite's manifest in {directory} ({getattr(e, 'strerror', None) or e}), "
                              "so the retired ids, which are never handed out again, are unknown; nothing was "
                              "changed", code=2) from None
    vectors: dict[str, dict[str, dict]] = {}
    for topic in TOPICS:
        if f"{topic}.json" not in names:
            continue
        path = directory / f"{topic}.json"
        try:
            data = suite.load_file(path)
            vectors[topic] = {v["origin"]: v for v in data["vectors"]}
            for v in vectors[topic].values():
                _number(v["id"]), v["expected"]   # every field a re-export reads
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            why = getattr(e, "strerror", None) or (f"no field {e}" if isinstance(e, KeyError) else str(e))
            raise ExportError(f"cannot read {path} as a vector file of the suite ({why}); its ids are kept by a "
                              "re-export, so nothing was changed. Restore it, or choose another --dir", code=2) from None
    return Previous(retired, vectors)


def _take_lock(directory: Path) -> int:
    """An exclusive flock on DIR/.rollsplit-lock (released by the kernel however the holder ends); raises
    ExportError when another export holds it or the directory cannot be written."""
    path = directory / LOCK
    for _ in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ExportError(f"cannot write to {directory}: {e.strerror or e}; nothing was changed", code=2) from None
        who = try_lock(fd)
        if who is not None:
            raise ExportError(f"another rollsplit conformance export{who} is writing {directory}; nothing was "
                              "changed. Wait for it to finish, or choose another --dir", code=2) from None
        try:   # the holder before us removes the file as it finishes: lock the file that is there now
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return fd
        except OSError:
            pass
        os.close(fd)
    raise ExportError(f"cannot lock {directory}: its lock file keeps changing", code=2)




def _release(directory: Path, fd: int, staging: Path | None) -> None:
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        os.unlink(directory / LOCK)   # still holding the lock: a waiter re-checks which file it locked
    except OSError:
        pass
    os.close(fd)


def _check_writable(folder: Path) -> None:
    """Raise ExportError unless a file can be created in `folder` (checked by creating one)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rollsplit-check-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise ExportError(f"cannot write to {folder}: {e.strerror or e}; nothing was changed", code=2) from None


def _publish(directory: Path, staging: Path, coverage_md: Path | None, coverage_text: str | None) -> None:
    """Move the new files into `directory`: the vector files, then the manifest, then the coverage table and the
    marker. Each move is a rename within one file system, so a reader sees a whole old or a whole new file;
    everything was written and checked before the first move."""
    cover_tmp = None
    try:
        if coverage_md is not None and coverage_text is not None:
            fd, name = tempfile.mkstemp(prefix=f".{coverage_md.name}.", suffix=".partial", dir=coverage_md.parent)
            cover_tmp = Path(name)
            with open(fd, "w", encoding="utf-8") as f:
                f.write(coverage_text)
            os.chmod(cover_tmp, 0o644)
        for p in sorted(staging.iterdir(), key=lambda p: (p.name == suite.MANIFEST, p.name)):
            os.replace(p, directory / p.name)
        if cover_tmp is not None:
            os.replace(cover_tmp, coverage_md)
            cover_tmp = None
        (directory / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    finally:
        if cover_tmp is not None:
            try:
                cover_tmp.unlink()
            except OSError:
                pass


def export(directory: Path = suite.VECTORS_DIR, shapes=SHAPES, coverage_md: Path | None = None,
           log: Callable[[str], None] = print, retire_changed: list[Retirement] | None = None,
           force: bool = False) -> int:
    """Write the suite into `directory`; returns the number of vectors. With `retire_changed` (a list), vectors
    whose expected answer changed are retired into it instead of stopping the export (a major suite version).

    Before any exploration: `survey` (may the suite go there; what did an earlier export leave), the directory
    created if missing and locked against a second export, the coverage table's folder checked. The new files are
    written into a staging folder inside `directory` and moved in only when all of them are written (`_publish`):
    a failure leaves the directory as it was. A file export did not write is never removed or overwritten.
    Raises ExportError (a sentence; `code` 2 when nothing was done) and OSError."""
    if coverage_md is not None and coverage_md.is_dir():
        raise ExportError(f"{coverage_md} exists and is not a file (for the coverage table)", code=2)
    if coverage_md is not None and coverage_md.parent != directory and not coverage_md.parent.is_dir():
        raise ExportError(f"{coverage_md.parent} does not exist (for the coverage table)", code=2)
    survey(directory, force)                       # read only: a directory we refuse gets not even a lock file
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {directory}: {e.strerror or e}", code=2) from None
    lock = _take_lock(directory)
    staging = None
    try:
        previous = survey(directory, force)        # again, under the lock
        for d in directory.iterdir():              # what a killed export left: no other export is writing now
            if d.name.startswith(STAGING) and d.is_dir() and not d.is_symlink():
                shutil.rmtree(d, ignore_errors=True)
        if coverage_md is not None and coverage_md.parent != directory:
            _check_writable(coverage_md.parent)
        staging = directory / f"{STAGING}{os.getpid()}"
        try:
            staging.mkdir()
        except OSError as e:
            raise ExportError(f"cannot write to {directory}: {e.strerror or e}; nothing was changed", code=2) from None
        total, table = _write_suite(staging, shapes, previous, retire_changed)
        log(table)
        _publish(directory, staging, coverage_md, COVERAGE_HEADER + table + "\n" if coverage_md is not None else None)
        return total
    finally:
        _release(directory, lock, staging)


def _write_suite(staging: Path, shapes, previous: Previous, retire_changed) -> tuple[int, str]:
    """Explore, judge and write every file of the suite into `staging`; (vectors, coverage table)."""
    retired = set(previous.retired)
    found, rows = region_candidates(shapes)
    candidates = handwritten.candidates() + found
    by_topic: dict[str, list[dict]] = {t: [] for t in TOPICS}
    seen_origins: set[str] = set()
    for n, c in enumerate(candidates, 1):
        if c.origin in seen_origins:   # two shapes can share a witness of the same check: keep the first
            continue
        seen_origins.add(c.origin)
        if n % 25 == 0:
            _progress(f"export: judging vector {n}/{len(candidates)}")
        by_topic[c.topic].append(build_vector(c))
    _progress("")

    total = 0
    for topic, fresh in by_topic.items():
        old = previous.vectors.get(topic, {})
        if not fresh and not old:
            continue
        vectors = assign_ids(topic, fresh, old, retired, retire_changed)
        kept = {x["id"] for x in vectors}
        retired |= {v["id"] for v in old.values() if v["id"] not in kept}   # dropped, or retired as changed
        _unique_descriptions(vectors)
        flags = sorted({f for v in vectors for f in v["flags"]})
        data = {"topic": topic, "description": TOPICS[topic], "contract_version": suite.CONTRACT_VERSION,
                "suite_version": suite.SUITE_VERSION,
                "notes": {f: FLAGS[f] for f in flags}, "vectors": vectors}
        (staging / f"{topic}.json").write_text(suite.dump(data), encoding="utf-8")
        total += len(vectors)

    manifest = suite.manifest_for(staging)
    manifest["retired_ids"] = sorted(retired)
    (staging / suite.MANIFEST).write_text(suite.dump(manifest), encoding="utf-8")
    return total, coverage_table(staging, rows)


def _unique_descriptions(vectors: list[dict]) -> None:
    seen: dict[str, int] = {}
    for v in vectors:
        d = v["description"]
        if d in seen:
            raise ExportError(f"two vectors share the description {d!r}")
        seen[d] = 1


COVERAGE_HEADER = """# Conformance suite coverage

Written by `rollsplit conformance export` (do not edit by hand). For every request shape explored,
the behaviour regions of the reference that z3 found, how many have a vector, the boundary vectors,
and whether z3 proved that the regions cover every valid request of the shape ("proved" only on
unsat). Then every error code of the contract with the number of vectors that expect it.

"""


def coverage_table(directory: Path, rows: list[CoverageRow]) -> str:
    from tabulate import tabulate
    vectors = suite.load(directory)
    tags = {t for v in vectors for t in v.tags}
    shape_rows = []
    for r in rows:
        covered = sum(1 for t in r.regions if t in tags)
        shape_rows.append([r.topic, r.shape, r.atoms, len(r.regions), covered, r.boundaries, r.coverage])
    codes = {c: 0 for c in ERROR_CODES}
    for v in vectors:
        if "error" in v.expected:
            codes[v.expected["error"]] += 1
    by_topic: dict[str, int] = {}
    for v in vectors:
        by_topic[v.topic] = by_topic.get(v.topic, 0) + 1
    parts = [
        "## Behaviour regions\n",
        tabulate(shape_rows, headers=["topic", "shape", "atoms", "regions", "with vector", "boundaries",
                                      "coverage proof"], tablefmt="github"),
        f"\nRegions: {sum(len(r.regions) for r in rows)} found, "
        f"{sum(1 for r in rows for t in r.regions if t in tags)} with a vector; shapes whose cover z3 proved: "
        f"{sum(1 for r in rows if r.coverage == 'proved')} of {len(rows)}.\n",
        "## Error codes\n",
        tabulate(sorted(codes.items()), headers=["error code", "vectors"], tablefmt="github"),
        f"\nError codes covered: {sum(1 for n in codes.values() if n)} of {len(codes)}.\n",
        "## Vectors by topic\n",
        tabulate(sorted(by_topic.items()), headers=["topic", "vectors"], tablefmt="github"),
        f"\nTotal: {len(vectors)} vectors.",
    ]
    return "\n".join(parts)
