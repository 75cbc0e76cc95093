"""REPORT.html of the audit bundle, in a real headless browser, and the report's text around it.

- a small bundle (`rollsplit prove --shapes small`) writes REPORT.html, a REPORT.md within its line budget that links
  into it, FORMULAS.md and cores.json; `rollsplit recheck` writes recheck.json and the page's agreement table;
- in headless Chromium: no console error, every link resolves (the bundle's files, the page's anchors), the shapes x
  status grid filters by status, by rows and by words, a row click gives its re-check commands, the law page leads
  from a sentence of Notice 2014-54 to its invariant, its proof files and its vectors; a screenshot is saved;
- a solver's `unknown` is called unknown (or timeout), never a disagreement, in the page and in recheck's text;
- every table that prove and recheck print fits in 120 columns; progress lines show the total and the time left;
- the formal statement is shown on an ordinary shape; determinacy cores name the assertions by their role.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

import rollsplit.solver.report as report_module
from rollsplit.cli import main
from rollsplit.progress import eta
from rollsplit.solver import cores as C
from rollsplit.solver import obligations as O
from rollsplit.solver import recheck as RC
from rollsplit.solver import report_html
from rollsplit.solver import shapes as S
from rollsplit.spec import invariants as I
from rollsplit.tables import fit

from browser import broken_links, browser, console_errors  # noqa: F401 - `browser` is a fixture

FORMULAS = ("## Closed-form formulas (sympy)\n\nA stand-in for the sympy section (tested in test_sympy_formulas.py).\n\n"
            "| output | formula |\n|---|---|\n| distribution.amount | `D` |\n| d0.pretax | `min(P, d0)` |\n")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A small bundle with a re-check by z3 of a sample of its files."""
    out = tmp_path_factory.mktemp("audit")
    mp = pytest.MonkeyPatch()
    mp.setattr(report_module, "_formulas_section", lambda: FORMULAS)   # the sympy section takes half a minute
    try:
        assert main(["prove", "--out", str(out), "--shapes", "small", "--jobs", "2"]) == 0
        assert main(["recheck", str(out), "--jobs", "2", "--sample", "40"]) == 0
    finally:
        mp.undo()
    return out


def test_the_bundle_holds_the_reports(bundle):
    for name in ("REPORT.html", "REPORT.md", "FORMULAS.md", "cores.json", "recheck.json", "results.json"):
        assert (bundle / name).is_file(), name
    data = json.loads((bundle / "results.json").read_text())
    cores = json.loads((bundle / "cores.json").read_text())
    recheck = json.loads((bundle / "recheck.json").read_text())
    assert cores["results_sha256"] == recheck["results_sha256"] == report_module.results_digest(data)
    det = {o["shape"] for o in data["obligations"] if o["kind"] == "determinacy"}
    assert set(cores["determinacy"]) == det
    assert {c["solver"] for c in recheck["checks"]} == {"z3"} and len(recheck["checks"]) == 40
    html = (bundle / "REPORT.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script src" not in html   # nothing fetched
    assert "Content-Security-Policy" in html and "default-src 'none'" in html   # and the browser enforces it


def test_report_md_is_a_summary_that_links_into_the_page(bundle):
    md = (bundle / "REPORT.md").read_text()
    assert len(md.splitlines()) <= report_module.MD_MAX_LINES
    html = (bundle / "REPORT.html").read_text()
    ids = set(re.findall(r'id="([^"]+)"', html))
    anchors = set(re.findall(r"REPORT\.html#([\w-]+)", md))
    assert {"invariants", "law", "assumptions", "agreement", "determinacy"} <= anchors
    assert anchors <= ids, anchors - ids
    for inv in I.INVARIANTS:   # the sections tests and readers rely on are still there
        assert f"### {inv.id}" in md and report_module.anchor(inv.id) in ids
    for section in ("## What is proved, what is tested, what is neither", "## Trusted base", "## What is NOT proved",
                    "## Solver agreement", "rollsplit recheck", "FORMULAS.md"):
        assert section in md, section


def test_the_page_in_a_headless_browser(bundle, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page = bundle / "REPORT.html"
    browser.get(page.as_uri())
    assert browser.title == "rollsplit audit bundle"
    assert not console_errors(browser)
    # the grids draw their rows as they come near the screen; draw every one, then follow every link
    browser.execute_script("rollsplitDrawAll()")
    assert not console_errors(browser)
    assert not broken_links(browser, page)
    # nothing is wider than the window (wide tables scroll in their own box)
    assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # the links into the bundle are relative, and there is one to every SMT-LIB file of the run
    hrefs = set(browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));"))
    data = json.loads((bundle / "results.json").read_text())
    assert {o["file"] for o in data["obligations"] if o["file"]} <= hrefs

    # the shapes x status grid of an invariant that has both kinds of proof: filter by status, rows and words
    grid_id, statuses = _mixed_grid(browser)
    filters = browser.find_element(By.CSS_SELECTOR, f'.filters[data-grid="{grid_id}"]')
    table = browser.find_element(By.ID, grid_id)
    browser.execute_script("arguments[0].scrollIntoView()", filters)
    total = len(table.find_elements(By.CSS_SELECTOR, "tbody tr"))
    Select(filters.find_element(By.NAME, "status")).select_by_value("simplify")
    shown = _shown(table)
    assert 0 < len(shown) == statuses.count("simplify") < total
    assert all("simplify" in r.get_attribute("data-status") for r in shown)
    assert filters.find_element(By.CLASS_NAME, "shown").text == f"{len(shown)} of {total} shown"
    Select(filters.find_element(By.NAME, "status")).select_by_value("solver")
    assert all("solver" in r.get_attribute("data-status") for r in _shown(table))
    Select(filters.find_element(By.NAME, "status")).select_by_value("")
    assert len(_shown(table)) == total
    n = table.find_element(By.CSS_SELECTOR, "tbody tr").get_attribute("data-n")
    Select(filters.find_element(By.NAME, "n")).select_by_value(n)
    assert _shown(table) and all(r.get_attribute("data-n") == n for r in _shown(table))
    Select(filters.find_element(By.NAME, "n")).select_by_value("")
    words = filters.find_element(By.NAME, "q")
    words.send_keys("hardship")
    assert _shown(table) and all("hardship" in r.text.lower() for r in _shown(table))
    words.clear()
    words.send_keys("no shape is called this")
    assert not _shown(table) and filters.find_element(By.CLASS_NAME, "shown").text == f"0 of {total} shown"
    words.clear()
    words.send_keys(" ")   # input events after clear(): every row again
    assert len(_shown(table)) == total
    # a row click gives its re-check commands
    row = _shown(table)[0]
    browser.execute_script("arguments[0].scrollIntoView()", row)
    row.find_element(By.CSS_SELECTOR, "td").click()
    box = browser.find_element(By.ID, grid_id + "-cmd").text
    assert "z3 -T:60 obligations/inv__" in box and "rollsplit recheck . --only obligations/" in box

    # from a sentence of Notice 2014-54 to its invariant, its proof files and its vectors
    direct = next(c for c in I.BY_ID["DIRECT-FIRST"].citations if c.source == "Notice 2014-54")
    law = browser.find_element(By.ID, "law-" + report_html._id(report_html._citation_name(direct)))
    assert direct.quote in law.text
    law.find_element(By.LINK_TEXT, "DIRECT-FIRST")
    law.find_element(By.LINK_TEXT, "its proofs")
    law.find_element(By.TAG_NAME, "summary").click()
    vector = law.find_element(By.CSS_SELECTOR, "p.vecs a")
    target = vector.get_attribute("href").split("#", 1)[1]
    assert browser.find_element(By.ID, target).find_element(By.TAG_NAME, "strong").text == vector.text

    # the agreement table counts z3's answers; nothing is called a disagreement
    agreement = browser.find_element(By.ID, "agreement").text
    assert "as expected" in agreement and "disagreement" not in agreement.split("mismatch")[0].lower() \
        or "not a disagreement" in agreement
    assert not console_errors(browser)
    shot = tmp_path / "REPORT.png"
    browser.get(page.as_uri() + "#" + report_module.anchor("DIRECT-FIRST"))
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def _mixed_grid(browser) -> tuple[str, list[str]]:
    """An invariant grid with rows closed by simplification alone and rows that needed the solver."""
    grids = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.grid[id^=grid-inv-]')).map(t => "
        "[t.id, Array.from(t.tBodies[0].rows).map(r => r.getAttribute('data-status'))]);")
    for gid, statuses in grids:
        kinds = [s.split()[-1] for s in statuses]
        if "simplify" in kinds and "solver" in kinds:
            return gid, kinds
    raise AssertionError("no invariant of the small bundle has both kinds of proof")


def _shown(table) -> list:
    from selenium.webdriver.common.by import By
    return [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]


def test_unknown_is_no_answer_never_a_disagreement(bundle, tmp_path, capsys):
    """cvc5's unknowns (and timeouts) are listed as no answer, in recheck's text and in the page."""
    files = sorted(str(p.relative_to(bundle)) for p in (bundle / "obligations").glob("inv__*.smt2"))[:3]
    rep = RC.Report(directory=bundle, files=len(files))
    rep.solvers = {"z3": "z3 -T:60 FILE (one process per file)", "cvc5": "cvc5 --tlimit=60000 FILE"}
    rep.checks = [RC.Check(f, "z3", "unsat", "unsat", 0.1) for f in files]
    rep.checks += [RC.Check(files[0], "cvc5", "unsat", "unsat", 0.1),
                   RC.Check(files[1], "cvc5", "unsat", "unknown", 0.2),
                   RC.Check(files[2], "cvc5", "unsat", "timeout", 60.0)]
    assert [c.verdict for c in rep.checks[3:]] == ["agrees", "unknown", "timeout"]
    assert rep.ok and RC.print_report(rep) == 0
    out = capsys.readouterr().out
    assert "Disagreement" not in out and "MISMATCH" not in out
    assert "No answer from cvc5 on 2 file(s)" in out and "not a disagreement" in out
    assert "every file solved answered as expected" not in out and "every file re-checked as expected" not in out
    assert "except 2 without an answer from cvc5" in out
    assert max(len(line) for line in out.splitlines() if not line.startswith(("  ", f"{rep.files} files"))) <= 120
    rep.strict = True
    assert not rep.ok and RC.print_report(rep) == 1
    assert "each a failure with --strict" in capsys.readouterr().out
    rep.strict = False
    # into a copy of the bundle: recheck.json, then the page
    import shutil
    b = tmp_path / "b"
    shutil.copytree(bundle, b)
    rep.directory = b
    notes = RC.save(rep)
    assert "REPORT.md and REPORT.html now show the solver agreement" in notes[0]
    saved = json.loads((b / "recheck.json").read_text())
    assert {c["verdict"] for c in saved["checks"] if c["solver"] == "cvc5"} == {"agrees", "unknown", "timeout"}
    html = (b / "REPORT.html").read_text()
    agreement = html[html.index('id="agreement"'):html.index('id="determinacy"')]
    assert "<th>unknown</th>" in agreement and "<th>timeout</th>" in agreement and "<th>mismatch</th>" in agreement
    assert "cvc5" in agreement and "not a disagreement" in agreement
    md = (b / "REPORT.md").read_text()
    assert "| cvc5 " in md and "never a disagreement" in md


def test_a_later_recheck_replaces_only_the_answers_it_gave(bundle, tmp_path):
    import shutil
    b = tmp_path / "b"
    shutil.copytree(bundle, b)
    before = json.loads((b / "recheck.json").read_text())["checks"]
    one = before[0]["file"]
    rep = RC.Report(directory=b, files=1, solvers={"z3": "z3 -T:60 FILE"},
                    checks=[RC.Check(one, "z3", before[0]["expected"], "unknown", 1.0)])
    RC.save(rep)
    after = json.loads((b / "recheck.json").read_text())["checks"]
    assert len(after) == len(before)
    assert {c["file"]: c["verdict"] for c in after}[one] == "unknown"
    assert sum(c["verdict"] == "agrees" for c in after) == len(before) - 1


def test_a_recheck_of_other_results_is_not_shown(bundle, tmp_path):
    import shutil
    b = tmp_path / "b"
    shutil.copytree(bundle, b)
    other = json.loads((b / "recheck.json").read_text())
    other["results_sha256"] = "0" * 64
    (b / "recheck.json").write_text(json.dumps(other))
    report_module.refresh(b)
    html = (b / "REPORT.html").read_text()
    assert "recheck.json is about another run of rollsplit prove" in html
    assert "Not re-checked yet" in html


def test_printed_tables_fit_in_120_columns(bundle, capsys):
    data = json.loads((bundle / "results.json").read_text())
    from rollsplit.solver.commands import MUTANT_HEADERS, mutant_rows
    mutants = [{"mutant": "old_rule_per_destination", "refuted": True, "shape": S.small_shapes()[0].name(),
                "refuted_by": ["DIRECT-FIRST", "SIXTY-DAY-SECOND", "NO-TAXABLE-CASH-WHEN-COVERED", "ELECTION-HONORED"],
                "counterexample": "mutants/" + "x" * 150 + ".json", "how": "z3: sat, model replayed on the mutant"}]
    tables = [fit(mutant_rows(mutants), MUTANT_HEADERS),
              fit([[o["kind"], o["invariant"], o["shape"], o["status"], o["seconds"]] for o in data["obligations"]],
                  ["obligation", "invariant", "shape", "result", "seconds"]),
              fit([["cvc5", "cvc5 Python API in fresh worker processes (solver.recheck.WORKER)", 10, 9, 1, 0, 0, 0, 1.5]],
                  ["solver", "run as", "files", "as expected", "unknown", "timeout", "mismatch", "error", "solver s"])]
    for t in tables:
        assert max(len(line) for line in t.splitlines()) <= 120, t
    assert "old_rule_per_destination" in tables[0] and "DIRECT-FIRST," in tables[0]   # wrapped, not cut
    # prove's own output: every line of its tables
    assert main(["prove", "--no-bundle", "--shapes", "small", "--jobs", "2", "--verbose"]) == 0
    out = capsys.readouterr().out.splitlines()
    table_lines = [line for line in out if not re.match(r"\d+ obligations over", line)]
    assert max(len(line) for line in table_lines) <= 120


def test_progress_shows_the_total_and_the_time_left():
    assert eta(0, 10, 0.1) == "0/10 (0%), 0 s, time left not known yet"
    assert eta(3, 10, 30) == "3/10 (30%), 30 s, about 1 min 10 s left"
    assert eta(3, 10, 30, fraction=0.5) == "3/10 (50%), 30 s, about 30 s left"
    assert eta(10, 10, 95) == "10/10 (100%), 1 min 35 s, done"
    import rollsplit.solver.prove as P
    stream = io.StringIO()
    P.run_all([S.small_shapes()[6]], jobs=1, progress=stream)
    lines = stream.getvalue().splitlines()
    assert lines and lines[-1].startswith("[prove] ") and "(100%)" in lines[-1] and "done" in lines[-1]


def test_formulas_shows_progress_and_prints_tables_that_fit(monkeypatch, capsys):
    import rollsplit.solver.formulas as F
    wide = FORMULAS + "| remaining.basis | `" + " + ".join(f"round_half_up(d{i}, basis, balance)" for i in range(8)) + "` |\n"

    def fake(progress=None, **kw):
        for done in range(3):
            progress(done, 2, "a step")
        return wide
    monkeypatch.setattr(F, "report_section", fake)
    assert main(["formulas"]) == 0
    captured = capsys.readouterr()
    assert "[formulas] 2/2 (100%)" in captured.err and "done" in captured.err
    assert "round_half_up(d7" in captured.out and "remaining.basis" in captured.out   # wrapped, not cut
    assert max(len(line) for line in captured.out.splitlines()) <= 120


def test_the_formal_statement_is_shown_on_an_ordinary_shape():
    """Among every shape of the default bundle, DIRECT-FIRST is stated on 1 or 2 direct rollovers and a payment,
    without elections, on a formula that is not structurally true."""
    pool = report_module._shape_pool()
    rows = [{"shape": s.name(), "status": "proved", "expected": "unsat", "trivial": False, "destinations": S.size(s),
             "file": "", "seconds": 0.0} for s in S.select(["all"]) if I.BY_ID["DIRECT-FIRST"].applies(
                 O.run(s).sr.request)]
    rep = report_module.representative(I.BY_ID["DIRECT-FIRST"], rows, pool)
    shape = pool[rep["shape"]]
    assert 1 <= len(shape.directs) <= 2 and shape.paid and not shape.direct_election and not shape.sixty_election
    assert (shape.contract, shape.regime) == ("pretax_aftertax", "notice_2014_54") and len(shape.sixty) <= 1
    assert not shape.hardship and not shape.loan_offset and not shape.qualified_roth
    sexpr, structural = report_module.statement("DIRECT-FIRST", rep["shape"])
    assert sexpr and not structural
    # the first row of the grid is an ordinary shape too (not, as in listing order, one without direct rollovers)
    first = min(rows, key=lambda o: report_module.ordinariness(o["shape"], pool))
    assert pool[first["shape"]].directs


def test_determinacy_cores_name_the_assertions_by_their_role():
    shape = S.small_shapes()[5]
    rec = C.shape_cores((shape, {"PRORATA-ROUNDING"}, 20.0))
    det = rec["determinacy"]
    assert det["answer"] == "unsat" and not rec.get("error")
    names = det["core"] + det["left_out"]
    assert len(names) == det["parts"] and not any(n.startswith("assertion ") for n in names)
    assert "the two answers differ in some field" in det["core"]
    assert any(n.endswith("holds for answer 1") for n in det["core"])
    assert any(n.startswith(C.PRECONDITION + ": ") for n in names)
    inv = rec["invariants"]["PRORATA-ROUNDING"]
    assert inv["answer"] == "unsat" and "PRORATA-ROUNDING is broken (the claim, negated)" in inv["core"]


def test_without_a_browser_the_page_tests_skip_unless_a_browser_is_required(monkeypatch):
    import browser as B
    monkeypatch.setattr(B, "_which", lambda names: None)
    assert "chromium is not installed" in B.missing() or "selenium" in B.missing()
    monkeypatch.delenv(B.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no headless browser: chromium is not installed"):
        B.unavailable("chromium is not installed")
    monkeypatch.setenv(B.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="ROLLSPLIT_REQUIRE_BROWSER=1"):
        B.unavailable("chromium is not installed")
