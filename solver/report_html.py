"""REPORT.html of the audit bundle: one self-contained page (its style and script inline, nothing fetched from the
network) that an auditor can walk.

It is rendered from the same data as REPORT.md: the run's results (results.json), the invariants, citations and
predicates of `spec.invariants`, the unsat cores of cores.json (`solver.cores`), the solver agreement of
recheck.json (`rollsplit recheck`) and the conformance vectors bundled with this version (each cites the sentences
of the law it pins). Every link is either to a section of the page or to a file of the bundle, by a path relative
to the page (obligations/..., witnesses/..., mutants/..., counterexamples/..., results.json ...).

Sections: the overview; the index of invariants; one section per invariant (plain English, the words of the law,
the formal statement on an ordinary shape, the shapes x status grid with its filters, each file and its re-check
command, the mutants it refutes, what its proofs rest on); from the law to the proofs (each quoted sentence, its
invariants, its value checks and the vectors that cite it); assumptions, the trusted base and what is not proved;
solver agreement; determinacy with its unsat cores; shapes; lemmas; mutants; formulas; the vectors; sources.
"""

from __future__ import annotations

import json
import re
from html import escape

from rollsplit.solver import obligations as O
from rollsplit.solver import report as R
from rollsplit.solver.cores import PRECONDITION as R_PRE
from rollsplit.spec import invariants as I

REPORT_MD = R.REPORT_MD


def _e(x) -> str:
    return escape(str(x), quote=True)


def _a(href: str, text: str, title: str = "", cls: str = "") -> str:
    t = f' title="{_e(title)}"' if title else ""
    c = f' class="{cls}"' if cls else ""
    return f'<a href="{_e(href)}"{t}{c}>{_e(text)}</a>'


def _file(path: str, text: str | None = None) -> str:
    """A link to a file of the bundle (a grid row's click shows its re-check commands); a path shown as the text
    may wrap anywhere."""
    if not path:
        return "-"
    return f'<a href="{_e(path)}" class="{"f" if text else "f path"}">{_e(text or path)}</a>'


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _status_word(o: dict) -> str:
    if o["status"] == "proved":
        return "proved" + (", closed by simplification alone" if R._trivial(o) else "")
    if o["status"] == "satisfiable":
        return "sat"
    return "NOT " + ("proved" if o["expected"] == "unsat" else "found") + f": {o['status']}"


def _status_class(o: dict) -> str:
    if not R._ok(o):
        return "bad"
    return "simp" if R._trivial(o) else "ok"


# ---- markdown (the report's shared text, FORMULAS.md) to HTML: the subset those texts use --------------------
def _inline(text: str) -> str:
    out = []
    for k, part in enumerate(re.split(r"(`[^`]*`)", text)):
        if k % 2:
            out.append(f"<code>{_e(part[1:-1])}</code>")
            continue
        p = _e(part)
        p = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{_local(m.group(2))}">{m.group(1)}</a>', p)
        p = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", p)
        p = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", p)
        out.append(p)
    return "".join(out)


def _local(href: str) -> str:
    """A link of REPORT.md's text, as seen from REPORT.html: its own sections become in-page anchors."""
    href = href.replace("&amp;", "&")
    if href.startswith(R.REPORT_HTML + "#"):
        return "#" + href.split("#", 1)[1]
    return href if href != R.REPORT_HTML else "#overview"


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def markdown(text: str, shift: int = 1) -> str:
    """Headings, paragraphs, lists, block quotes, fenced code and pipe tables; inline code, bold, italics, links."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + _e("\n".join(lines[i + 1:j])) + "</code></pre>")
            i = j + 1
        elif re.match(r"#{1,6} ", line):
            level = min(6, len(line) - len(line.lstrip("#")) + shift)
            title = line.lstrip("#").strip()
            out.append(f'<h{level} id="md-{_id(title)}">{_inline(title)}</h{level}>')
            i += 1
        elif line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            head, body = _cells(rows[0]), [r for r in rows[1:] if not re.fullmatch(r"[\s|:\-]+", r)]
            out.append('<table class="md"><thead><tr>' + "".join(f"<th>{_inline(c)}</th>" for c in head)
                       + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(r)) + "</tr>" for r in body)
                       + "</tbody></table>")
        elif re.match(r"\s*[-*] ", line):
            items = []
            while i < len(lines) and (re.match(r"\s*[-*] ", lines[i]) or (lines[i].startswith("  ") and items)):
                if re.match(r"\s*[-*] ", lines[i]):
                    items.append(re.sub(r"^\s*[-*] ", "", lines[i]))
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
        elif line.startswith(">"):
            quote = []
            while i < len(lines) and lines[i].startswith(">"):
                quote.append(lines[i][1:].strip())
                i += 1
            out.append("<blockquote>" + markdown("\n".join(quote), shift) + "</blockquote>")
        else:
            para = []
            while (i < len(lines) and lines[i].strip() and not lines[i].startswith(("```", ">", "|"))
                   and not re.match(r"#{1,6} ", lines[i]) and not re.match(r"\s*[-*] ", lines[i])):
                para.append(lines[i].strip())
                i += 1
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
    return "\n".join(out)


# ---- the page -------------------------------------------------------------------------------------------------
class _Page:
    def __init__(self, data: dict, cores: dict | None, recheck: dict | None, notes, formulas_md: str | None):
        self.data, self.cores, self.recheck, self.notes = data, cores, recheck, list(notes or ())
        self.formulas_md = formulas_md
        self.obs = data["obligations"]
        self.recorded = R._recorded(self.obs)
        self.pool = R._shape_pool()
        self.mutants = data.get("mutants")
        self.by_kind = R._by(self.obs, "kind")
        self.shapes = sorted({o["shape"] for o in self.obs if o["shape"] != "-"},
                             key=lambda n: R.ordinariness(n, self.pool))
        self.vectors, self.vector_note = _vectors()
        self.shape_index: dict[str, int] = {}    # the grids' shapes, rendered once in the page's data
        self.prefixes: dict[str, int] = {}       # file paths are prefix + the shape's slug + ".smt2"

    def sid(self, name: str) -> int:
        if name not in self.shape_index:
            self.shape_index[name] = len(self.shape_index)
        return self.shape_index[name]

    def link(self, text: str, path: str, shape: str, cls: str = "") -> dict:
        """A cell's link to a file of the bundle, compact: its path as a prefix shared by a grid and the shape's slug."""
        suffix = O.slug(shape) + ".smt2"
        ref: int | str = path
        if path and path.endswith(suffix) and len(path) > len(suffix):
            ref = self.prefixes.setdefault(path[:-len(suffix)], len(self.prefixes))
        out = {"t": text, "h": ref}
        if cls:
            out["c"] = cls
        return out

    def obligation_link(self, o: dict, text: str | None = None) -> dict | str:
        if not o.get("file"):
            return _status_word(o)
        return self.link(text or _status_word(o), o["file"], o["shape"], _status_class(o))

    def data_script(self) -> str:
        shapes = [[self.describe(n), n, O.slug(n)] for n in sorted(self.shape_index, key=self.shape_index.get)]
        prefixes = sorted(self.prefixes, key=self.prefixes.get)
        return _json_script("report-data", {"shapes": shapes, "prefixes": prefixes})

    def describe(self, name: str) -> str:
        return R.describe_shape(name, self.pool)

    # -- overview --
    def overview(self) -> str:
        obs, data = self.obs, self.data
        bad = [o for o in obs if not R._ok(o)]
        proved = [o for o in obs if R._proved(o)]
        trivial = [o for o in proved if R._trivial(o)]
        survived = [m for m in self.mutants or () if not m["refuted"]]
        verdict = ("Every obligation is proved (unsat) and every witness found (sat)" if not bad
                   else f"{len(bad)} obligation(s) are NOT proved")
        verdict += ("" if self.mutants is None else
                    f"; {len(self.mutants) - len(survived)} of {len(self.mutants)} seeded mutants refuted") + "."
        rows = [("obligations", len(obs)), ("shapes", len(self.shapes)),
                ("statuses", ", ".join(f"{n} {k}" for k, n in sorted(data["summary"].items()))),
                ("proved", f"{len(proved)}, of which {len(trivial)} close by simplification alone (not evidence)"
                 if self.recorded else f"{len(proved)} (this run did not record which close by simplification)"),
                ("checked, not proved", f"{len(data.get('parse_checks') or [])} parse checks (the parser against "
                                        "the contract's structural rules)"),
                ("solver", f"{data['solver']['name']} {data['solver']['version']}"),
                ("per-obligation timeout", f"{data.get('timeout_seconds')} s (a timeout is a failure)"),
                ("wall time", f"{data['wall_seconds']} s with {data['jobs']} jobs on {data['machine']}, "
                              f"Python {data['python']}"),
                ("spec hash", data.get("spec_sha256", ""))]
        files = [_a(REPORT_MD, "REPORT.md") + " (the summary)", _a("results.json", "results.json")
                 + " (every obligation: status, seconds, file, sha256)"]
        if self.formulas_md is not None:
            files.append(_a(R.FORMULAS_MD, R.FORMULAS_MD) + " (closed-form formulas)")
        if self.cores is not None:
            files.append(_a(R.CORES_JSON, R.CORES_JSON) + " (unsat cores)")
        if self.recheck is not None:
            files.append(_a(R.RECHECK_JSON, R.RECHECK_JSON) + " (the last re-check)")
        notes = "".join(f'<p class="note">{_e(n)}</p>' for n in self.notes)
        return (f'<section id="overview"><h1>rollsplit audit bundle</h1>'
                f'<p class="verdict {"bad" if bad or survived else "ok"}">{_e(verdict)}</p>{notes}'
                "<p>What was proved about the reference calculator of how a retirement-plan distribution splits into "
                "pre-tax and after-tax money across rollovers (IRC §72(e)(8), Notice 2014-54), on which request "
                "shapes, under which assumptions, and how to re-check every claim without trusting this project: "
                "each claim is a self-contained SMT-LIB file of this bundle that any SMT solver can run.</p>"
                "<p>Where to start: the <a href=\"#invariants\">invariants</a> in plain English; or a sentence of the "
                "law in <a href=\"#law\">from the law to the proofs</a>; then <a href=\"#assumptions\">what the "
                "proofs assume and what they do not cover</a>.</p>"
                + _table(["", ""], [[_e(k), _e(v)] for k, v in rows], cls="kv")
                + "<p>Files: " + "; ".join(files) + ".</p>"
                + '<p>Re-check the whole bundle from its directory: <code>rollsplit recheck . --solver all</code> '
                "(sha256 of every file against results.json, then each file in a fresh z3 and cvc5 process; it "
                "writes recheck.json and refreshes this page). Any one file: <code>z3 FILE</code>.</p></section>")

    # -- invariants --
    def index(self) -> str:
        by_inv = R._by(self.by_kind.get("invariant", []), "invariant")
        rows = []
        for inv in I.INVARIANTS:
            rs = by_inv.get(inv.id, [])
            ok = sum(R._ok(o) for o in rs)
            mark = f" {R.TRIVIAL_MARK}" if R.always_trivial(rs, self.recorded) else ""
            status = (f"{ok}/{len(rs)} proved" + R._with_trivial(rs, self.recorded)) if rs else "not in this run"
            broken = sum(1 for m in self.mutants or () if m["refuted"] and inv.id in m["refuted_by"])
            cites = "".join(f'<li>{self.quote(c)}</li>' for c in inv.citations)
            rows.append([_a("#" + R.anchor(inv.id), inv.id) + _e(mark), _e(inv.statement), f'<ul class="cites">{cites}</ul>',
                         f'<span class="{"bad" if ok < len(rs) else "ok"}">{_e(status)}</span>'
                         + ("" if self.mutants is None else f"<br>{broken} mutant(s) break it")])
        return ('<section id="invariants"><h2>Invariants</h2>'
                "<p>Each invariant is one rule of the law (or of the wire contract) as a predicate over a request and "
                "its answer, written once in <code>spec/invariants.py</code>: on integers it judges any calculator's "
                "answer (the conformance oracle); on z3 terms it is a proof obligation. For every shape of this run "
                "the reference's answer is proved to satisfy it for every amount in range.</p>"
                + _table(["rule", "in plain English", "the law's words", "status"], rows, cls="index")
                + (f"<p>{R.TRIVIAL_MARK} closed by simplification alone on every shape: the proof restates the "
                   "algorithm's own expression (or was decided in Python), so it is not evidence that the rule holds; "
                   "what carries the weight there is <a href=\"#determinacy\">determinacy</a>.</p>"
                   if any(R.always_trivial(by_inv.get(inv.id, []), self.recorded) for inv in I.INVARIANTS) else "")
                + "</section>")

    def quote(self, c: I.Citation) -> str:
        name = _citation_name(c)
        link = _a(f"#law-{_id(name)}", c.short(), title="this sentence, its invariants and its vectors") if name \
            else _e(c.short())
        return (f"<q>{_e(c.quote)}</q> — {link}" + ("" if c.confirmed else ' <span class="sec">secondary source</span>'))

    def invariant(self, inv) -> str:
        rs = [o for o in self.by_kind.get("invariant", []) if o["invariant"] == inv.id]
        extra = R._by([o for o in self.obs if o["kind"] in ("premise", "sanity") and o["invariant"] == inv.id], "shape")
        rid = R.anchor(inv.id)
        parts = [f'<section id="{rid}" class="inv"><h2>{_e(inv.id)}'
                 + (f" {R.TRIVIAL_MARK}" if R.always_trivial(rs, self.recorded) else "") + "</h2>",
                 f'<p class="stmt">{_e(inv.statement)}</p>',
                 "<h3>The law's words</h3><ul class=\"cites\">"
                 + "".join(f"<li>{self.quote(c)}</li>" for c in inv.citations) + "</ul>"]
        if not rs:
            parts.append("<p>No shape of this run is one it applies to.</p>")
        else:
            ok = sum(R._ok(o) for o in rs)
            parts.append(f'<p class="{"bad" if ok < len(rs) else "ok"}"><strong>Status:</strong> {ok} of {len(rs)} shapes '
                         f"proved{_e(R._with_trivial(rs, self.recorded))}; z3 time "
                         f"{sum(o['seconds'] for o in rs):.2f} s in all.</p>")
            if R.always_trivial(rs, self.recorded):
                parts.append("<p>Every one of these proofs closes by simplification alone: not evidence beyond the "
                             "code restating itself.</p>")
            parts.append(self.formal(inv, rs))
            parts.append(self.inv_grid(inv, rs, extra))
        parts.append(self.inv_mutants(inv))
        parts.append(self.rests_on(inv, rs))
        parts.append('<p class="top"><a href="#invariants">all invariants</a></p></section>')
        return "\n".join(parts)

    def formal(self, inv, rs: list[dict]) -> str:
        rep = R.representative(inv, rs, self.pool)
        sexpr, structural = R.statement(inv.id, rep["shape"])
        words = self.describe(rep["shape"])
        out = ["<h3>Formal statement</h3>"]
        if sexpr is not None and not structural:
            shown = sexpr if len(sexpr) <= R.SMT_SNIPPET_MAX else (
                sexpr[:R.SMT_SNIPPET_MAX] + f"\n; ... {len(sexpr) - R.SMT_SNIPPET_MAX} more characters (the file holds it all)")
            out.append(f"<p>On {_e(words)} (<code>{_e(rep['shape'])}</code>), over a symbolic request of the shape and a "
                       "symbolic answer <code>R.*</code>: the obligation asserts the negation of this, with the "
                       f"reference's answer in place of <code>R.*</code> ({_file(rep['file'], 'the file')}), and z3 "
                       f"answers unsat. Re-check: <code>z3 {_e(rep['file'])}</code></p><pre class=\"smt\">{_e(shown)}</pre>")
        elif sexpr is not None:
            out.append(f"<p>On every shape tried, this rule is <strong>structural</strong>: decided in Python from the "
                       f"shape (which rows exist, where they go) before z3 sees anything; on {_e(words)} z3 receives "
                       f"<code>{_e(sexpr)}</code>, which states nothing about money "
                       f"({_file(rep['file'], 'the file')}).</p>")
        out.append("<details><summary>The predicate in <code>spec/invariants.py</code> (<code>A</code> is the "
                   "arithmetic: the same code judges integers and builds z3 terms)</summary>"
                   f'<pre class="py">{_e(R.predicate_source(inv))}</pre></details>')
        return "\n".join(out)

    def inv_grid(self, inv, rs: list[dict], extra: dict) -> str:
        gid = "grid-" + R.anchor(inv.id)
        sample = set((self.cores or {}).get("invariants", {}).get(inv.id, {}))
        rows = []
        for o in sorted(rs, key=lambda o: R.ordinariness(o["shape"], self.pool)):
            ex = extra.get(o["shape"], [])
            prem = [self.obligation_link(x) for x in ex if x["kind"] == "premise"]
            san = [self.obligation_link(x) for x in ex if x["kind"] == "sanity"]
            status = ("proved simplify" if R._trivial(o) else "proved solver") if R._proved(o) else "failed"
            core = ({"t": "core", "h": f"#core-{_id(inv.id)}-{_id(o['shape'])}"} if o["shape"] in sample else "")
            rows.append([self.sid(o["shape"]), status, o["destinations"],
                         {"t": _status_word(o), "c": _status_class(o)}, o["seconds"],
                         self.obligation_link(o, "obligation"), prem or "-", san or "-", core])
        options = [("", "every status"), ("proved", "proved"), ("solver", "proved, needed the solver"),
                   ("simplify", "closed by simplification alone"), ("failed", "not proved")]
        return ("<h3>Shapes and status</h3><p>Ordinary shapes first. <em>obligation</em>: the claim (expected unsat); "
                "<em>premise</em>: the rule's 'if' part holds for some valid request (expected sat); <em>sanity</em>: "
                "some answer breaks the rule, so it says more than the precondition (expected sat; - where no answer "
                "can break it on that shape). Click a row for its re-check commands.</p>"
                + _grid(gid, ["shape", "rows", "proof", "z3 s", "file", "premise", "sanity", "rests on"], rows,
                        options, self.sizes(rs)))

    def sizes(self, rs: list[dict]) -> list[int]:
        return sorted({o["destinations"] for o in rs})

    def inv_mutants(self, inv) -> str:
        if self.mutants is None:
            return ("<h3>Mutants that break it</h3><p>This run did not try the seeded mutants "
                    "(<code>rollsplit prove --mutants</code>).</p>")
        ms = [m for m in self.mutants if m["refuted"] and inv.id in m["refuted_by"]]
        if not ms:
            return '<h3>Mutants that break it</h3><p class="bad">No seeded mistake breaks this rule.</p>'
        rows = [[_a(f"#mut-{_id(m['mutant'])}", m["mutant"]), _e(m.get("description", "")),
                 _e(self.describe(m["shape"])) if m["shape"] in self.pool else _e(m["shape"]),
                 " ".join(_file(m[k], k.replace("file", "obligation")) for k in ("file", "counterexample") if m.get(k))]
                for m in ms]
        return ("<h3>Mutants that break it</h3><p>Seeded mistakes of the reference whose counterexample, found by z3 and "
                "replayed on the concrete mutant, breaks this rule:</p>"
                + _table(["mutant", "the mistake", "refuted on", "files"], rows))

    def rests_on(self, inv, rs: list[dict]) -> str:
        out = ["<h3>What it rests on</h3>"]
        uses = sorted({u for o in rs for u in o.get("assumes", [])})
        out.append("<p>Lemmas assumed (as instances at the code's own terms): "
                   + (", ".join(_a("#lemmas", u) for u in uses) if uses else "none") + ".</p>")
        det = (self.cores or {}).get("determinacy", {})
        if self.cores is None:
            out.append("<p>Unsat cores were not computed for this report.</p>")
            return "\n".join(out)
        applies = [s for s, c in det.items() if any(p.startswith(inv.id + " holds") for p in c.get("core", []) +
                                                   c.get("left_out", []))]
        used = [s for s in applies if any(p.startswith(inv.id + " holds") for p in det[s].get("core", []))]
        out.append(f"<p><a href=\"#determinacy\">Determinacy</a> (the invariants force one answer): this rule is in "
                   f"z3's unsat core on {len(used)} of the {len(applies)} shapes it applies to; where it is not, the "
                   "other rules already force the answer without it.</p>")
        sample = (self.cores or {}).get("invariants", {}).get(inv.id, {})
        if sample:
            out.append("<p>A sample of this rule's own proofs (the ordinary shape of the formal statement and the ones "
                       "z3 took longest on), with the named assertions z3's unsat core kept; an assertion left out was "
                       "not needed for that proof (a core is one z3 found, not necessarily the smallest):</p>")
            for shape, c in sample.items():
                out.append(f'<div class="core" id="core-{_id(inv.id)}-{_id(shape)}"><p>On {_e(self.describe(shape))}:'
                           f" {_core_text(c)}</p>{_core_list(c)}</div>")
        return "\n".join(out)

    # -- the law --
    def law(self) -> str:
        by_cite: dict[str, list] = {}
        for inv in I.INVARIANTS:
            for c in inv.citations:
                by_cite.setdefault(_citation_name(c), []).append(inv)
        codes: dict[str, list[str]] = {}
        for code, names in getattr(I, "ERROR_CITATIONS", {}).items():
            for n in names:
                codes.setdefault(n, []).append(code)
        vec_by: dict[tuple, list] = {}
        for v in self.vectors:
            for c in v.citations:
                vec_by.setdefault((c.get("source"), c.get("pinpoint"), c.get("quote")), []).append(v)
        blocks = []
        for name, c in sorted(_citations().items(), key=lambda kv: _law_order(kv[1])):
            invs = by_cite.get(name, [])
            vecs = vec_by.get((c.source, c.pinpoint, c.quote), [])
            inv_html = ("<ul>" + "".join(
                f"<li>{_a('#' + R.anchor(inv.id), inv.id)}: {_e(inv.statement)} "
                f"({_a('#grid-' + R.anchor(inv.id), 'its proofs')})</li>" for inv in invs) + "</ul>"
                        if invs else "<p>No invariant cites it" + (": it is a rule of validity (below)." if name in codes
                                                                   else ".") + "</p>")
            code_html = (f"<p>Value checks that cite it (a request breaking them is rejected with this error code): "
                         + ", ".join(f"<code>{_e(x)}</code>" for x in codes[name]) + ".</p>") if name in codes else ""
            vec_links = " ".join(_a(f"#vec-{_id(v.id)}", v.id) for v in vecs)
            vec_html = (f"<details><summary>{len(vecs)} conformance vector(s) cite it</summary><p class=\"vecs\">"
                        f"{vec_links}</p></details>" if vecs else "<p>No conformance vector cites it.</p>")
            blocks.append(f'<div class="law" id="law-{_id(name)}"><blockquote>{_e(c.quote)}</blockquote>'
                          f'<p class="src">{_e(c.source)} {_e(c.pinpoint)}'
                          + ("" if c.confirmed else ' <span class="sec">secondary source: quoted from a treatise or '
                                                    "practitioner, not the primary text</span>")
                          + f"</p><h4>Encoded by</h4>{inv_html}{code_html}<h4>Pinned by</h4>{vec_html}</div>")
        note = f'<p class="note">{_e(self.vector_note)}</p>' if self.vector_note else ""
        return ('<section id="law"><h2>From the law to the proofs</h2>'
                "<p>Each sentence the specification quotes (from Notice 2014-54, the Internal Revenue Code, the "
                "Treasury regulations, the IRS's instructions and the acts that set effective dates; last, the wire "
                "contract's own rules), the invariants that encode it (each with its formal statement and proof "
                "files) and the conformance vectors that cite it: each vector is a request with the one answer the "
                "invariants allow (see <a href=\"#determinacy\">determinacy</a>).</p>" + note
                + "\n".join(blocks) + "</section>")

    # -- assumptions, trusted base, not proved --
    def assumptions(self) -> str:
        bad = [o for o in self.obs if not R._ok(o)]
        failures = ""
        if bad:
            rows = [[_e(o["kind"]), _e(o["invariant"]), f"{_e(self.describe(o['shape']))}", _e(o["status"]),
                     _file(o["file"])] for o in bad]
            failures = ('<h3 id="not-proved-run">Not proved in this run</h3>'
                        + _table(["kind", "invariant", "shape", "status", "file"], rows))
        return ('<section id="assumptions"><h2>Assumptions, the trusted base and what is not proved</h2>'
                + markdown(R._proved_section(self.shapes), shift=1)
                + '<div id="trusted">' + markdown(R._trusted_section(), shift=1) + "</div>"
                + '<div id="not-proved">' + markdown(R._not_proved_section(self.obs), shift=1) + failures + "</div>"
                + markdown(R._honest_section(self.obs, self.shapes), shift=1) + "</section>")

    # -- solver agreement --
    def agreement(self) -> str:
        head = ('<section id="agreement"><h2>Solver agreement</h2><p>Each file re-run in a fresh process by each '
                "solver. <em>as expected</em>: the answer the file's folder expects (unsat for obligations, sat for "
                "witnesses and mutants); <em>unknown</em> and <em>timeout</em>: the solver gave no answer, which is "
                "not a disagreement (cvc5 lacks some of z3's nonlinear integer reasoning); <em>mismatch</em>: the "
                "opposite answer, a disagreement; <em>not run</em>: not among the files chosen (--only, --sample).</p>")
        if not self.recheck:
            return (head + "<p>Not re-checked yet. From the bundle's directory: <code>rollsplit recheck . --solver "
                    "all</code> writes recheck.json and fills this table.</p></section>")
        group = {}
        for o in self.obs:
            if o.get("file"):
                group[o["file"]] = o["invariant"] if o["kind"] in ("invariant", "premise", "sanity") else o["kind"]
        for m in self.mutants or ():
            if m.get("file"):
                group[m["file"]] = "mutants"
        by_solver = R._checks_by_solver(self.recheck)
        solvers = sorted(by_solver)
        order = [inv.id for inv in I.INVARIANTS] + ["determinacy", "validity", "compiled", "witness", "rejects",
                                                     "lemma", "lemma-use", "mutants"]
        counts: dict[tuple, dict] = {}
        for solver, cs in by_solver.items():
            for c in cs:
                key = (group.get(c.get("file"), "other"), solver)
                counts.setdefault(key, {v: 0 for v in R.VERDICTS})
                if c.get("verdict") in R.VERDICTS:
                    counts[key][c["verdict"]] += 1
        files_in = {}
        for g in group.values():
            files_in[g] = files_in.get(g, 0) + 1
        rows = []
        for g in [x for x in order if x in files_in] + sorted(set(files_in) - set(order)):
            label = _a("#" + R.anchor(g), g) if g in I.BY_ID else _e(g)
            cells = [label, str(files_in[g])]
            for solver in solvers:
                n = counts.get((g, solver), {v: 0 for v in R.VERDICTS})
                ran = sum(n.values())
                cells += [_num(n["agrees"], "ok"), _num(n["unknown"], "warn"), _num(n["timeout"], "warn"),
                          _num(n["MISMATCH"], "bad"), _num(n["error"], "bad"), str(files_in[g] - ran)]
            rows.append(cells)
        sub = ["as expected", "unknown", "timeout", "mismatch", "error", "not run"]
        thead = ("<thead><tr><th rowspan=2>claim</th><th rowspan=2>files</th>"
                 + "".join(f'<th colspan="{len(sub)}">{_e(s)}</th>' for s in solvers) + "</tr><tr>"
                 + "".join(f"<th>{x}</th>" for _ in solvers for x in sub) + "</tr></thead>")
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        how = "".join(f"<li><strong>{_e(s)}</strong>: {_e(info.get('how', ''))}; {_e(info.get('written', ''))}"
                      + (f"; {_e(info['selection'])}" if info.get("selection") else "") + "</li>"
                      for s, info in sorted((self.recheck.get("solvers") or {}).items()))
        odd = [c for cs in by_solver.values() for c in cs if c.get("verdict") != "agrees"]
        odd_html = ""
        if odd:
            odd_html = ("<h3>Files without the expected answer</h3>"
                        + _table(["file", "solver", "expected", "answer", "seconds"],
                                 [[_file(c.get("file", "")), _e(c.get("solver")), _e(c.get("expected")),
                                   _e(c.get("answer")), _e(c.get("seconds"))] for c in odd[:500]]))
        return (head + f"<ul>{how}</ul><div class=\"wide\"><table class=\"agree\">{thead}<tbody>{body}</tbody>"
                f"</table></div>{odd_html}</section>")

    # -- determinacy --
    def determinacy(self) -> str:
        det = self.by_kind.get("determinacy", [])
        cores = (self.cores or {}).get("determinacy", {})
        intro = ('<section id="determinacy"><h2>Determinacy</h2><p>For each shape: two answers that both satisfy every '
                 "rule that applies are equal in every field (money, row ids, box 7 codes, the regime): "
                 "<code>valid ∧ rules(R1) ∧ rules(R2) ∧ R1 ≠ R2</code> is unsat, with R1 and R2 fresh. So the "
                 "answer a conformance vector expects is forced by the rules, not chosen by this implementation. "
                 f"Proved for {sum(R._ok(o) for o in det)} of {len(det)} shapes.</p>")
        if not cores:
            table = "<p>Unsat cores were not computed for this report.</p>"
        else:
            used, applies = {}, {}
            for c in cores.values():
                for label in c.get("core", []) + c.get("left_out", []):
                    inv = label.split(" holds for answer")[0] if " holds for answer" in label else None
                    if inv:
                        applies.setdefault(inv, set()).add(id(c))
                for label in c.get("core", []):
                    if " holds for answer" in label:
                        used.setdefault(label.split(" holds for answer")[0], set()).add(id(c))
            rows = [[_a("#" + R.anchor(inv.id), inv.id), str(len(applies.get(inv.id, ()))),
                     str(len(used.get(inv.id, ())))] for inv in I.INVARIANTS if inv.id in applies]
            table = ("<p>What the proofs rest on: each determinacy obligation was solved again with its assertions "
                     "named by their role (each amount's range, each value check, each rule for answer 1 and for "
                     "answer 2, the lemma instances, the two answers differing) and z3 reported the ones its proof "
                     "used (the unsat core: one z3 found, not necessarily the smallest).</p>"
                     + _table(["rule", "shapes it applies to", "in the core on"], rows))
        rows = []
        for o in sorted(det, key=lambda o: R.ordinariness(o["shape"], self.pool)):
            c = cores.get(o["shape"])
            rows.append([self.sid(o["shape"]), "proved" if R._ok(o) else "failed", o["destinations"],
                         {"t": _status_word(o), "c": _status_class(o)}, o["seconds"],
                         self.obligation_link(o, "obligation"),
                         {"d": _core_text(c), "i": _core_items(c)} if c else "-"])
        options = [("", "every status"), ("proved", "proved"), ("failed", "not proved")]
        return (intro + table + _grid("grid-determinacy", ["shape", "rows", "proof", "z3 s", "file", "unsat core"],
                                      rows, options, self.sizes(det)) + "</section>")

    # -- shapes --
    def shape_grid(self) -> str:
        by_shape = R._by([o for o in self.obs if o["shape"] != "-"], "shape")
        parse = R._by(self.data.get("parse_checks") or [], "shape")
        kinds = ["witness", "determinacy", "validity", "compiled", "rejects", "lemma-use"]
        rows = []
        for name in self.shapes:
            rs = by_shape.get(name, [])
            cells: list = []
            for k in kinds:
                cells.append([self.obligation_link(o) for o in rs if o["kind"] == k] or "-")
            inv = [o for o in rs if o["kind"] == "invariant"]
            t = sum(R._trivial(o) for o in inv)
            cells.append(f"{sum(R._ok(o) for o in inv)}/{len(inv)}" + (f" ({t} by simplification)" if t else ""))
            pc = parse.get(name, [])
            cells.append(f"{sum(c['status'] == 'checked' for c in pc)}/{len(pc)}")
            cells.append(round(sum(o["seconds"] for o in rs), 2))
            bad = any(not R._ok(o) for o in rs) or any(c["status"] != "checked" for c in pc)
            status = "failed" if bad else "ok" + (" rejects" if any(o["kind"] == "rejects" for o in rs) else "")
            rows.append([self.sid(name), status, rs[0]["destinations"] if rs else 0, *cells])
        options = [("", "every shape"), ("ok", "everything as expected"), ("failed", "something not proved"),
                   ("rejects", "no request valid (rejects)")]
        return ('<section id="shapes"><h2>Shapes</h2><p>A shape is everything the algorithm branches on in Python: the '
                "rows and their destination classes, the payment, the account, the rule in force, hardship, RMD, "
                "pre-1987 basis, loan offsets and elections; the money stays symbolic. Each shape's own obligations "
                "(the invariants are in each invariant's grid) and the parse checks (checked, not proved).</p>"
                + _grid("grid-shapes", ["shape", "rows", *kinds, "invariants", "parse checks", "z3 s"], rows, options,
                        sorted({o["destinations"] for o in self.obs if o["shape"] != "-"}))
                + "<h3>Time against the number of destinations</h3>"
                + _table((self.data.get("growth") or {}).get("headers", []),
                         [[_e(x) for x in r] for r in (self.data.get("growth") or {}).get("rows", [])])
                + "</section>")

    # -- lemmas --
    def lemmas(self) -> str:
        lemmas = self.by_kind.get("lemma", [])
        uses: dict[str, int] = {}
        for o in self.obs:
            for u in o.get("assumes", []):
                uses[u] = uses.get(u, 0) + 1
        rows = [[f'<span id="lemma-{_id(o["invariant"])}">{_e(o["invariant"])}</span>', _e(R._statement_of(o)),
                 f'<span class="{_status_class(o)}">{_e(_status_word(o))}</span>', _e(o["seconds"]),
                 str(uses.get(o["invariant"], 0)), _file(o["file"], "obligation")] for o in lemmas]
        pre = self.by_kind.get("lemma-use", [])
        return ('<section id="lemmas"><h2>Lemmas</h2><p>Facts about unbounded integers proved once (no range bounds), '
                "over the code of the reference where they speak about it; a shape obligation assumes only their "
                "instances at the code's own terms, and names them in its header.</p>"
                + _table(["lemma", "statement", "status", "z3 s", "assumed by (obligations)", "file"], rows)
                + (f"<p>Where a shape replaces a call by a lemma's conclusion, a lemma-use obligation proves the lemma's "
                   f"precondition at the call: {sum(R._ok(o) for o in pre)} of {len(pre)} proved.</p>" if pre else "")
                + "</section>")

    # -- mutants --
    def mutants_section(self) -> str:
        if self.mutants is None:
            return ('<section id="mutants"><h2>Mutants</h2><p>This run did not try the seeded mutants: '
                    "<code>rollsplit prove --mutants</code>.</p></section>")
        rows = []
        for m in self.mutants:
            by = (", ".join(_a("#" + R.anchor(r), r) if r in I.BY_ID else _e(r) for r in m["refuted_by"])
                  if m["refuted"] else '<span class="bad">SURVIVED</span>')
            files = " ".join(_file(m[k], k.replace("file", "obligation")) for k in ("file", "counterexample") if m.get(k))
            rows.append([f'<span id="mut-{_id(m["mutant"])}">{_e(m["mutant"])}</span>', _e(m.get("description", "")), by,
                         _e(self.describe(m["shape"])) if m["shape"] in self.pool else _e(m["shape"]),
                         _e(m.get("how", "")), files or "-"])
        rules = [inv.id for inv in I.INVARIANTS] + ["VALIDITY", "PARSE", "COMPILED-EQUALS-ALGORITHM", "DETERMINACY"]
        matrix = []
        for rule in rules:
            by = [m["mutant"] for m in self.mutants if m["refuted"] and rule in m["refuted_by"]]
            matrix.append([_a("#" + R.anchor(rule), rule) if rule in I.BY_ID else _e(rule), str(len(by)),
                           ", ".join(_a(f"#mut-{_id(x)}", x) for x in by) or '<span class="bad">none</span>'])
        return ('<section id="mutants"><h2>Mutants: evidence that the proofs can fail</h2><p>Each seeded mistake of '
                "<code>reference/mutants.py</code> runs through the same obligations. It is refuted when z3 finds a "
                "request where it breaks a rule (sat) and that request, replayed on the concrete mutant, really "
                "breaks it.</p>" + _table(["mutant", "the mistake", "refuted by", "on", "how", "files"], rows)
                + "<h3>Rules and the mutants that break them</h3><p>Every rule must be broken by at least one seeded "
                "mistake (the rules broken on the refuting shape are listed).</p>"
                + _table(["rule", "mutants", "which"], matrix) + "</section>")

    # -- formulas, vectors, sources --
    def formulas(self) -> str:
        if self.formulas_md is None:
            return ""
        return ('<section id="formulas"><h2>Closed-form formulas</h2><p>Also in '
                + _a(R.FORMULAS_MD, R.FORMULAS_MD) + ".</p>"
                + markdown(re.sub(r"\A#+ [^\n]*\n", "", self.formulas_md), shift=1) + "</section>")

    def vectors_section(self) -> str:
        items = []
        for v in self.vectors:
            expected = (f"error <code>{_e(v.expected['error'])}</code>" if "error" in v.expected
                        else "an answer (below)")
            cites = ", ".join(_a(f"#law-{_id(n)}", n.lower().replace("_", " ")) for n in
                              (_citation_key_name(c) for c in v.citations) if n)
            request = v.request_text if v.request_text is not None else json.dumps(v.request, separators=(",", ":"))
            items.append(f'<div class="vec" id="vec-{_id(v.id)}"><p><strong>{_e(v.id)}</strong> '
                         f"({_e(v.topic)}.json): {_e(v.description)} Expects {expected}. Cites: {cites or '-'}.</p>"
                         f"<details><summary>request and expected answer</summary><pre>{_e(request)}</pre>"
                         f"<pre>{_e(json.dumps(v.expected, separators=(',', ':')))}</pre>"
                         f"<p>Run it against a calculator: <code>rollsplit conformance run --only {_e(v.id)} -- "
                         "ADAPTER ...</code></p></details></div>")
        from rollsplit.conformance.suite import SUITE_VERSION
        return ('<section id="vectors"><h2>Conformance vectors</h2><p>The vectors of the conformance suite '
                f"{_e(SUITE_VERSION)} bundled with this version of rollsplit, each with the sentences it cites.</p>"
                + "".join(items) + "</section>")

    def sources(self) -> str:
        rows = [[f"<code>{_e(k)}</code>", f"<code>{_e(v)}</code>"]
                for k, v in sorted((self.data.get("sources_sha256") or {}).items())]
        return ('<section id="sources"><h2>Sources</h2><p>sha256 of the sources the obligations were built from; '
                "<code>rollsplit recheck</code> compares them with the installed code and fails a stale bundle.</p>"
                + _table(["file", "sha256"], rows) + "</section>")

    def nav(self) -> str:
        links = [("overview", "Overview"), ("invariants", "Invariants")]
        links += [(R.anchor(inv.id), inv.id) for inv in I.INVARIANTS]
        links += [("law", "From the law to the proofs"), ("assumptions", "Assumptions and trusted base"),
                  ("not-proved", "What is not proved"), ("agreement", "Solver agreement"),
                  ("determinacy", "Determinacy"), ("shapes", "Shapes"), ("lemmas", "Lemmas"), ("mutants", "Mutants")]
        if self.formulas_md is not None:
            links.append(("formulas", "Formulas"))
        links += [("vectors", "Conformance vectors"), ("sources", "Sources")]
        return "<nav><ul>" + "".join(
            f'<li class="{"sub" if a.startswith("inv-") else ""}">{_a("#" + a, t)}</li>' for a, t in links) + "</ul></nav>"

    def render(self) -> str:
        body = [self.overview(), self.index(), *(self.invariant(inv) for inv in I.INVARIANTS), self.law(),
                self.assumptions(), self.agreement(), self.determinacy(), self.shape_grid(), self.lemmas(),
                self.mutants_section(), self.formulas(), self.vectors_section(), self.sources()]
        return PAGE.format(css=CSS, js=JS, nav=self.nav(), body="\n".join(b for b in body if b),
                           data=self.data_script())


def render(data: dict, cores: dict | None = None, recheck: dict | None = None, notes=(), formulas: bool = False,
           formulas_md: str | None = None) -> str:
    """The whole page. `formulas_md`: FORMULAS.md's text when the bundle has it."""
    return _Page(data, cores, recheck, notes, formulas_md if formulas else None).render()


def failed_page(why: str) -> str:
    """The page written when the report could not be rendered: the reason, and where the results are."""
    body = (f'<section id="overview"><h1>rollsplit audit bundle</h1><p class="note">This page could not be written '
            f"({_e(why)}). The results are all in {_a(REPORT_MD, 'REPORT.md')} and "
            f"{_a('results.json', 'results.json')}; every proof file is in obligations/ and witnesses/.</p></section>")
    return PAGE.format(css=CSS, js="", nav="", body=body, data="")


# ---- helpers --------------------------------------------------------------------------------------------------
def _table(headers, rows, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{x}</td>" for x in r) + "</tr>" for r in rows)
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _json_script(sid: str, value) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{sid}">{text}</script>'


def _grid(gid: str, headers: list[str], rows: list[list], options: list[tuple[str, str]], sizes: list[int]) -> str:
    """A filterable grid. Its rows are data ([shape index, status keys, rows of the shape, cell, ...]; a cell is
    text, {"t": text, "c": class, "h": link}, a list of those, or {"d": summary, "i": [items]}), rendered by the
    page's script: a grid of every shape of every invariant is thousands of rows, and data is a tenth the size."""
    opts = "".join(f'<option value="{_e(v)}">{_e(t)}</option>' for v, t in options)
    size_opts = '<option value="">any number</option>' + "".join(f'<option value="{n}">{n}</option>' for n in sizes)
    return (f'<div class="filters" data-grid="{gid}"><label>status <select name="status">{opts}</select></label> '
            f'<label>rows <select name="n">{size_opts}</select></label> '
            '<label>find <input type="search" name="q" placeholder="words of the shape, e.g. Roth IRA"></label> '
            f'<span class="shown">{len(rows)} rows</span></div>'
            f'<p class="cmd" id="{gid}-cmd">Re-check a file: click its row.</p>'
            f'<div class="scroll"><table class="grid" id="{gid}"><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead><tbody></tbody></table></div>"
            + '<noscript><p class="note">The rows of this table are drawn by the page\'s script; results.json holds '
              "the same.</p></noscript>"
            + _json_script(gid + "-rows", rows))


def _num(n: int, cls: str) -> str:
    return f'<span class="{cls}">{n}</span>' if n else "0"


def _core_text(c: dict) -> str:
    if c.get("answer") != "unsat":
        return _e(f"no core: z3 answered {c.get('answer')} within its time")
    return _e(f"{len(c.get('core', []))} of {c.get('parts')} named assertions used")


def _core_items(c: dict | None) -> list[str]:
    """A core in few lines: the rules it used (for both answers, or one), the precondition's parts, the lemmas and
    the rest, then what was left out."""
    if not c or c.get("answer") != "unsat":
        return []
    def summary(labels: list[str]) -> list[str]:
        rules: dict[str, set] = {}
        pre, rest = [], []
        for x in labels:
            m = re.match(r"(.+) holds for answer (\d)$", x)
            if m:
                rules.setdefault(m.group(1), set()).add(m.group(2))
            elif x.startswith(R_PRE + ": "):
                pre.append(x.split(": ", 1)[1])
            else:
                rest.append(x)
        out = []
        if rules:
            out.append("rules: " + ", ".join(r + ("" if len(a) == 2 else f" (answer {min(a)} only)")
                                              for r, a in rules.items()))
        if pre:
            out.append(f"{R_PRE}: " + "; ".join(pre))
        out += rest
        return out
    used = summary(c.get("core", []))
    left = summary(c.get("left_out", []))
    return used + (["left out: " + " | ".join(left)] if left else [])


def _core_list(c: dict) -> str:
    items = _core_items(c)
    if not items:
        return ""
    return ("<details><summary>the assertions</summary><ul>" + "".join(f"<li>{_e(x)}</li>" for x in items)
            + "</ul></details>")


def _citations() -> dict[str, I.Citation]:
    """Every citation of the specification by its name in spec.invariants (the names the vectors are written from)."""
    out = {}
    for name, value in vars(I).items():
        if isinstance(value, I.Citation) and name.isupper():
            out.setdefault(name, value)
    return out


def _citation_name(c: I.Citation) -> str:
    for name, value in _citations().items():
        if value == c:
            return name
    return ""


def _citation_key_name(c: dict) -> str:
    for name, value in _citations().items():
        if (value.source, value.pinpoint, value.quote) == (c.get("source"), c.get("pinpoint"), c.get("quote")):
            return name
    return ""


def _law_order(c: I.Citation) -> tuple:
    s = c.source
    rank = (0 if s.startswith("Notice 2014-54") else 1 if s.startswith("IRC") else 2 if s.startswith("Treas. Reg")
            else 3 if s.startswith("Notice") else 4 if s.startswith("IRS") else 6 if s.startswith("rollsplit") else 5)
    return (rank, s, not c.confirmed, c.pinpoint)


def _vectors():
    """The bundled conformance vectors, or none with a note when they cannot be read."""
    try:
        from rollsplit.conformance import suite
        return suite.load(), ""
    except Exception as e:  # noqa: BLE001 - the page is still written, without the vectors
        return [], f"The conformance vectors could not be read ({type(e).__name__}: {e}); they are not shown."

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>rollsplit audit bundle</title>
<style>{css}</style></head>
<body>{nav}<main>
{body}
</main>
{data}
<script>{js}</script>
</body></html>
"""

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fff; }
nav { position: fixed; top: 0; left: 0; bottom: 0; width: 15rem; overflow-y: auto; background: #f4f5f7;
      border-right: 1px solid #ddd; padding: .5rem 0; font-size: 13px; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li a { display: block; padding: .15rem 1rem; color: #123; text-decoration: none; }
nav li.sub a { padding-left: 2rem; font-family: ui-monospace, monospace; font-size: 12px; }
nav li a:hover { background: #e3e7ee; }
main { margin-left: 16rem; padding: 1rem 2rem 4rem; max-width: 80rem; overflow-wrap: break-word; }
section { border-bottom: 1px solid #e5e5e5; padding-bottom: 1.5rem; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.35rem; margin-top: 2rem; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 13px; }
th, td { border: 1px solid #d9d9d9; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #f0f2f5; }
.scroll { max-height: 36rem; overflow: auto; border: 1px solid #ddd; }
.scroll table { margin: 0; }
.grid thead th { position: sticky; top: 0; }
td.shape small, small.sn { color: #666; font-family: ui-monospace, monospace; font-size: 11px;
                           overflow-wrap: anywhere; }
.ok { color: #176b2c; } .simp { color: #7a5b00; } .bad { color: #b00020; font-weight: 600; } .warn { color: #8a5a00; }
p.verdict { font-size: 1.1rem; font-weight: 600; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: .3rem .6rem; }
.sec { font-size: 11px; background: #eee; padding: 0 .3rem; border-radius: 3px; }
q { font-style: italic; }
blockquote { margin: .5rem 0; padding: .3rem .8rem; border-left: 4px solid #8aa; background: #f7f9f9; }
pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; font-size: 12px; white-space: pre-wrap;
      word-break: break-all; }
code { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
.grid th { white-space: nowrap; }
.wide { overflow-x: auto; }
a.path, td code { overflow-wrap: anywhere; }
table.kv thead { display: none; }
ul.cites { margin: 0; padding-left: 1.1rem; }
.filters { margin: .5rem 0; display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; font-size: 13px; }
.filters input { width: 16rem; }
p.cmd { font-family: ui-monospace, monospace; font-size: 12px; background: #f6f8fa; padding: .3rem .5rem; }
tr.picked { outline: 2px solid #36c; }
.grid tbody tr { cursor: pointer; }
.law { border-top: 1px dashed #ccc; padding-top: .5rem; }
.law h4 { margin: .4rem 0 .2rem; font-size: .95rem; }
p.vecs a { margin-right: .4rem; font-family: ui-monospace, monospace; font-size: 12px; }
.vec p { margin: .3rem 0; }
li.left { color: #666; }
p.top { font-size: 12px; }
:target { scroll-margin-top: 1rem; }
div.core, div.vec, div.law { scroll-margin-top: 1rem; }
@media (max-width: 60rem) { nav { position: static; width: auto; } main { margin-left: 0; } }
"""

JS = """
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function href(ref, shape) {
    return typeof ref === 'number' ? data.prefixes[ref] + data.shapes[shape][2] + '.smt2' : ref;
  }
  function part(spec, shape) {
    if (spec === null || typeof spec !== 'object') return document.createTextNode(String(spec));
    if (spec.d !== undefined) {
      var box = el('span', null, spec.d);
      if (spec.i && spec.i.length) {
        var det = el('details'), ul = el('ul');
        det.appendChild(el('summary', null, 'the assertions'));
        for (var k = 0; k < spec.i.length; k++) ul.appendChild(el('li', null, spec.i[k]));
        det.appendChild(ul);
        box.appendChild(det);
      }
      return box;
    }
    if (spec.h !== undefined) {
      var a = el('a', spec.c ? 'f ' + spec.c : 'f', spec.t);
      var h = href(spec.h, shape);
      a.setAttribute('href', h);
      if (h.charAt(0) === '#') a.className = spec.c || '';
      return a;
    }
    return el('span', spec.c, spec.t);
  }
  function cell(spec, shape) {
    var td = el('td');
    var list = Array.isArray(spec) ? spec : [spec];
    for (var k = 0; k < list.length; k++) {
      if (k) td.appendChild(document.createTextNode(' '));
      td.appendChild(part(list[k], shape));
    }
    return td;
  }
  function render(table) {
    var rows = JSON.parse(document.getElementById(table.id + '-rows').textContent);
    var body = table.tBodies[0], frag = document.createDocumentFragment();
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], s = data.shapes[r[0]], tr = el('tr');
      tr.setAttribute('data-status', r[1]);
      tr.setAttribute('data-n', String(r[2]));
      var td = el('td', 'shape', s[0]);
      if (s[1] !== s[0]) { td.appendChild(el('br')); td.appendChild(el('small', 'sn', s[1])); }
      tr.appendChild(td);
      tr.appendChild(el('td', null, r[2]));
      for (var j = 3; j < r.length; j++) tr.appendChild(cell(r[j], r[0]));
      frag.appendChild(tr);
    }
    body.appendChild(frag);
  }
  function apply(f) {
    var table = document.getElementById(f.getAttribute('data-grid'));
    var status = f.querySelector('[name=status]').value;
    var n = f.querySelector('[name=n]').value;
    var q = f.querySelector('[name=q]').value.trim().toLowerCase();
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!status || r.getAttribute('data-status').split(' ').indexOf(status) >= 0)
            && (!n || r.getAttribute('data-n') === n)
            && (!q || r.cells[0].textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    }
    f.querySelector('.shown').textContent = shown + ' of ' + rows.length + ' shown';
  }
  // a grid's rows are drawn when it comes near the screen (thousands of rows in all: drawing every grid at once
  // would make the page slow to open), when its filters are used, or when a link leads into it
  var grids = document.querySelectorAll('table.grid');
  function filtersOf(table) { return document.querySelector('.filters[data-grid="' + table.id + '"]'); }
  function ensure(table) {
    if (!table || table.getAttribute('data-drawn') || !document.getElementById(table.id + '-rows')) return;
    render(table);
    table.setAttribute('data-drawn', '1');
    var f = filtersOf(table);
    if (f) apply(f);
  }
  window.rollsplitDrawAll = function () { for (var g = 0; g < grids.length; g++) ensure(grids[g]); };
  if ('IntersectionObserver' in window) {
    var io = new IntersectionObserver(function (entries) {
      for (var e = 0; e < entries.length; e++) {
        if (entries[e].isIntersecting) {
          ensure(entries[e].target.querySelector('table.grid'));
          io.unobserve(entries[e].target);
        }
      }
    }, {rootMargin: '1200px 0px'});
    for (var g = 0; g < grids.length; g++) io.observe(grids[g].parentNode);
  } else {
    window.rollsplitDrawAll();
  }
  var filters = document.querySelectorAll('.filters');
  for (var i = 0; i < filters.length; i++) {
    (function (f) {
      var table = document.getElementById(f.getAttribute('data-grid'));
      f.addEventListener('input', function () { ensure(table); apply(f); });
      f.addEventListener('change', function () { ensure(table); apply(f); });
    })(filters[i]);
  }
  for (var j = 0; j < grids.length; j++) {
    (function (table) {
      var box = document.getElementById(table.id + '-cmd');
      if (!box) return;
      table.addEventListener('click', function (ev) {
        var tr = ev.target.closest('tr');
        if (!tr || !tr.parentNode || tr.parentNode.tagName !== 'TBODY') return;
        var picked = table.querySelector('tr.picked');
        if (picked) picked.classList.remove('picked');
        tr.classList.add('picked');
        var files = tr.querySelectorAll('a.f'), lines = [];
        for (var k = 0; k < files.length; k++) {
          var f = files[k].getAttribute('href');
          lines.push('z3 -T:60 ' + f + '    # or: rollsplit recheck . --only ' + f);
        }
        box.textContent = lines.length ? lines.join('\\n') : 'No file on this row.';
        box.style.whiteSpace = 'pre-wrap';
      });
    })(grids[j]);
  }
  function follow() {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) return;
    var table = target.matches('table.grid') ? target : target.closest('table.grid');
    if (table && !table.getAttribute('data-drawn')) { ensure(table); target.scrollIntoView(); }
  }
  window.addEventListener('hashchange', follow);
  follow();
})();
"""
