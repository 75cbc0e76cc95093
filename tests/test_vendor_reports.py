"""Reports a vendor can read, submit, compare and look at (issue 15): failure blocks with the request, a
description for a person, dollars beside cents and the reason of an expected error; run metadata in every report;
a level only for the whole bundled suite; the known-failure file; diff, compare, show, check; several
implementations in one run; the HTML report's data and the badge. (The HTML page in a browser:
tests/test_report_html_browser.py.)"""

from __future__ import annotations

import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rollsplit.cli import main
from rollsplit.conformance import describe, metadata, reports, suite
from rollsplit.conformance.report_html import page_data, render_html

PY = sys.executable
SERVE = [PY, "-m", "rollsplit", "serve"]
MUTANT = [PY, "-m", "rollsplit.conformance.testing.mutant_adapter"]
ECHO = [PY, "-m", "rollsplit.conformance.testing.fake_adapter", "--echo"]
VECTORS = suite.load()
BY_ID = {v.id: v for v in VECTORS}
MANIFEST_SHA = metadata.bundled_sha256()


def cli(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- descriptions ---------------------------------------------------------------------------------------------
def test_every_generated_vector_has_a_description_in_words_and_dollars():
    generated = [v for v in VECTORS if v.origin.split(":")[0] in ("region", "boundary", "value-check")]
    assert len(generated) > 400
    for v in generated:
        text = describe.plain_description(v)
        assert "of shape" not in text and "Region " not in text and "#" not in text, (v.id, text)
        assert "/" not in text.replace("401(k)", "").replace("(a)", ""), (v.id, text)   # no internal shape names
        assert re.search(r"\$\d", text) and text.endswith("."), (v.id, text)
    edges = [describe.plain_description(v) for v in generated if v.origin.startswith("boundary:")]
    assert sum("At the edge between two behaviours: " in t for t in edges) > len(edges) // 2


def test_a_region_description_says_what_sets_it_apart():
    region = next(v for v in VECTORS if v.origin.startswith("region:") and v.request.get("rmd")
                  and v.expected["result"]["disbursements"][-1]["pretax"] > 0)
    text = describe.plain_description(region)
    assert text.startswith("From an account") and "What sets this case apart: " in text
    assert "required minimum distribution of $" in text and "RMD" in text


def test_a_value_check_description_names_the_error_and_why():
    v = next(v for v in VECTORS if v.origin.startswith("value-check:") and v.expected["error"] == "basis_exceeds_balance")
    text = describe.plain_description(v)
    assert "rejected with basis_exceeds_balance (basis is larger than the balance" in text
    assert "The basis" in text and "every earlier check passing" in text


def test_maintainers_wording_is_left_out():
    assert "seed" not in describe.plain_description(BY_ID["examples-0002"])


def test_money_is_formatted_from_integer_cents():
    assert describe.cents_and_dollars(6000000) == "6000000 ($60,000.00)"
    assert describe.cents_and_dollars(2**53 - 1) == "9007199254740991 ($90,071,992,547,409.91)"
    assert describe.cents_and_dollars(-5) == "-5 (-$0.05)"
    assert describe.cents_and_dollars(True) == "true" and describe.cents_and_dollars("G") == '"G"'


# ---- failure blocks and the JSON report -------------------------------------------------------------------------
def test_a_failure_block_shows_request_description_and_dollars(tmp_path, capsys):
    jl = tmp_path / "r.jsonl"
    code, out, _ = cli(["conformance", "run", "--only", "examples-0002", "--report-json", jl, "--"]
                       + MUTANT + ["aftertax_first"], capsys)
    assert code == 1
    assert "FAILED examples-0002: Law-firm alert: $60,000 directly" in out
    assert '    request: {"date":"2025-06-30","plan":"401a","contract":"pretax_aftertax","balance":10000000,' in out
    assert "disbursements[0].pretax: expected 6000000 ($60,000.00), got 4400000 ($44,000.00)" in out
    row = json_lines(jl)[1]
    assert row["request"] == BY_ID["examples-0002"].request and row["features"] == ["core"]
    assert row["description"].startswith("Law-firm alert: ")
    assert {"path": "disbursements[0].pretax", "expected": 6000000, "got": 4400000,
            "expected_dollars": "$60,000.00", "got_dollars": "$44,000.00"} in row["diffs"]
    assert row["citations"] == list(BY_ID["examples-0002"].citations)


def test_an_expected_error_shows_its_reason_and_rule(tmp_path, capsys):
    jl = tmp_path / "r.jsonl"
    code, out, _ = cli(["conformance", "run", "--only", "validation-0010", "--report-json", jl, "--"] + ECHO, capsys)
    assert code == 1
    assert "expected error 'invalid_request', got a result" in out
    assert "why it is rejected: The direct rollover disbursements[0] is missing the required field 'to'." in out
    assert "invalid_request means: wrong shape or type" in out
    assert 'the rule: rollsplit wire contract v1, Error: "invalid_json, invalid_request' in out
    row = json_lines(jl)[1]
    assert row["expected_error"]["code"] == "invalid_request"
    assert row["expected_error"]["reason"].startswith("The direct rollover")
    assert row["expected_error"]["citations"][0]["pinpoint"] == "wire contract v1, Error"


# ---- metadata and levels ---------------------------------------------------------------------------------------
def test_every_report_carries_the_run_metadata(tmp_path, capsys):
    jl, xml = tmp_path / "r.jsonl", tmp_path / "r.xml"
    code, out, _ = cli(["conformance", "run", "--report-json", jl, "--junit", xml, "--"] + SERVE, capsys)
    assert code == 0
    rows = json_lines(jl)
    head, last = rows[0]["metadata"], rows[-1]["metadata"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", head["date"])
    assert head["rollsplit_version"] == head["runner"]["version"] and head["runner"]["report_format"] == 2
    assert head["suite"] == {"name": "rollsplit-conformance", "version": suite.SUITE_VERSION,
                             "vectors": len(VECTORS), "manifest_sha256": MANIFEST_SHA, "bundled": True}
    assert head["contract_version"] == suite.CONTRACT_VERSION
    assert head["adapter"]["command"] == SERVE and head["adapter"]["protocol"] == "persistent"
    assert head["adapter"]["handshake"]["implementation"]["name"] == "rollsplit"
    assert head["features_from"] == "the handshake" and "core" in head["features"]
    assert last["level"] == "extended" == rows[-1]["conformance_level"] and head["scope"] is None
    props = {p.get("name"): p.get("value") for p in ET.parse(xml).getroot().iter("property")}
    assert props["suite_manifest_sha256"] == MANIFEST_SHA and props["conformance_level"] == "extended"
    assert props["adapter_command"].endswith("-m rollsplit serve") and props["rollsplit_version"]
    assert json.loads(props["adapter_handshake"])["protocol"] == 1 and props["date"] == head["date"]
    assert f"manifest SHA-256 {MANIFEST_SHA}" in out and "adapter: " in out and "run: " in out
    assert out.splitlines()[-1] == f"{len(VECTORS)} passed, 0 failed, 0 errored, 0 skipped"


def test_a_level_only_for_the_whole_bundled_suite(tmp_path, capsys):
    jl = tmp_path / "r.jsonl"
    code, out, _ = cli(["conformance", "run", "--only", "examples", "--report-json", jl, "--"] + SERVE, capsys)
    assert code == 0 and "conformance level:" not in out
    assert ("no conformance level (this run is 8 of the 648 vectors of the bundled suite, selected by --only "
            "examples; a level is given only for the whole bundled suite)") in out.replace(str(len(VECTORS)), "648")
    assert json_lines(jl)[-1]["conformance_level"] is None
    copy = tmp_path / "one"
    copy.mkdir()
    shutil.copy(suite.VECTORS_DIR / "examples.json", copy)
    code, out, err = cli(["conformance", "run", "--vectors", copy, "--"] + SERVE, capsys)
    assert code == 0 and f"this run is the 8 vectors of the vector files in {copy}, not the bundled suite" in out
    whole = tmp_path / "whole"
    shutil.copytree(suite.VECTORS_DIR, whole, ignore=shutil.ignore_patterns("__*"))
    code, out, _ = cli(["conformance", "run", "--vectors", whole, "--"] + SERVE, capsys)
    assert code == 0 and "conformance level: extended" in out   # an exact copy of the bundled suite is the suite


def test_one_shot_without_features_warns_before_running(capsys):
    code, out, err = cli(["conformance", "run", "--oneshot", "--only", "examples-0001", "--", PY, "-m", "rollsplit",
                          "allocate", "--json"], capsys)
    assert code == 0
    first = err.splitlines()[0]
    assert first.startswith("rollsplit conformance run: warning: a one-shot adapter has no handshake, so this run "
                            "assumes it implements every feature: core, sixty_day,")
    assert "--features core,form_1099r" in first
    code, out, err = cli(["conformance", "run", "--oneshot", "--features", "core,form_1099r", "--only", "examples-0001",
                          "--", PY, "-m", "rollsplit", "allocate", "--json"], capsys)
    assert code == 0 and "warning" not in err


# ---- known failures and diff ---------------------------------------------------------------------------------
def test_write_expectations_then_a_green_run_then_diff(tmp_path, capsys):
    known, before, after = tmp_path / "known.txt", tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    mutant = MUTANT + ["ignored_pre1987"]
    code, out, err = cli(["conformance", "run", "--report-json", before, "--write-expectations", known, "--"] + mutant,
                         capsys)
    assert code == 1 and "wrote the 11 known failures" in err
    ids = [line.split()[0] for line in known.read_text().splitlines() if line and not line.startswith("#")]
    failed = [r["id"] for r in json_lines(before)[1:-1] if r["status"] == "failed"]
    assert ids == failed and all(i.startswith("pre1987-") for i in ids)
    assert f"manifest SHA-256 {MANIFEST_SHA}" in known.read_text()
    code, out, _ = cli(["conformance", "run", "--expected-failures", known, "--report-json", after, "--"] + mutant,
                       capsys)
    assert code == 0 and "11 of the failures were expected" in out
    code, out, err = cli(["conformance", "diff", before, after], capsys)
    assert code == 0 and "0 regressed, 0 fixed, 0 new, 0 removed" in out
    code, out, _ = cli(["conformance", "run", "--report-json", after, "--"] + SERVE, capsys)
    code, out, err = cli(["conformance", "diff", before, after], capsys)
    assert code == 0 and out.splitlines()[-1] == "0 regressed, 11 fixed, 0 new, 0 removed"
    assert "conformance level: core -> extended" in out
    code, out, err = cli(["conformance", "diff", after, before], capsys)
    assert code == 1 and "11 regressed, 0 fixed" in out and "pre1987-" in out and "11 vectors regressed" in err
    code, out, _ = cli(["conformance", "diff", "--json", after, before], capsys)
    data = json.loads(out)
    assert code == 1 and data["regression"] and [r["id"] for r in data["regressed"]] == failed


def test_diff_lists_new_and_removed_vectors(tmp_path, capsys):
    full = tmp_path / "full.jsonl"
    cli(["conformance", "run", "--report-json", full, "--"] + SERVE, capsys)
    lines = full.read_text().splitlines()
    older = tmp_path / "older.jsonl"   # a report of a suite release without the first two vectors, with one more
    extra = json.loads(lines[3])
    extra["id"] = "retired-0001"
    older.write_text("\n".join([lines[0], json.dumps(extra)] + lines[3:]) + "\n")
    code, out, _ = cli(["conformance", "diff", older, full], capsys)
    assert code == 0 and "new vectors (not in the first report): 2" in out and "removed vectors" in out
    assert out.splitlines()[-1] == "0 regressed, 0 fixed, 2 new, 1 removed"


def test_diff_refuses_what_is_not_a_report(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    code, _, err = cli(["conformance", "diff", bad, bad], capsys)
    assert code == 2 and "is not JSON" in err
    code, _, err = cli(["conformance", "diff", tmp_path / "none.jsonl", bad], capsys)
    assert code == 2 and "cannot read" in err


# ---- several implementations, compare, HTML data and badge ---------------------------------------------------------
def test_two_implementations_in_one_run(tmp_path, capsys):
    jl, html, badge = tmp_path / "run.jsonl", tmp_path / "m.html", tmp_path / "badge.json"
    code, out, err = cli(["conformance", "run", "--only", "examples,rounding", "-i", f"{PY} -m rollsplit serve",
                          "-i", " ".join(MUTANT + ["truncation"]), "--report-json", jl, "--html", html,
                          "--badge", badge], capsys)
    assert code == 1
    assert (tmp_path / "run-1.jsonl").exists() and (tmp_path / "run-2.jsonl").exists() and not jl.exists()
    assert "== implementation 1 of 2: " in out and "== implementation 2 of 2: " in out
    assert "2 implementations side by side" in out and "(2) mutant:truncation 0:" in out
    assert json.loads((tmp_path / "badge-1.json").read_text())["color"] == "lightgrey"   # a partial run: no level
    page = html.read_text()
    assert "mutant:truncation" in page and "rollsplit 0" in page and "<script src" not in page
    assert "default-src 'none'" in page


def test_compare_reports_as_text_html_and_badges(tmp_path, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    cli(["conformance", "run", "--report-json", a, "--"] + SERVE, capsys)
    cli(["conformance", "run", "--report-json", b, "--"] + MUTANT + ["floats"], capsys)
    html, badge = tmp_path / "c.html", tmp_path / "badge.json"
    code, out, err = cli(["conformance", "compare", a, b, "--html", html, "--badge", badge], capsys)
    assert code == 0 and "large_values" in out and "(1) rollsplit" in out and "(2) mutant:floats 0" in out
    assert json.loads((tmp_path / "badge-1.json").read_text()) == {
        "schemaVersion": 1, "label": "rollsplit conformance", "message": f"extended, {len(VECTORS)}/{len(VECTORS)} passed",
        "color": "brightgreen"}
    second = json.loads((tmp_path / "badge-2.json").read_text())
    assert set(second) == {"schemaVersion", "label", "message", "color"} and second["color"] in ("red", "green")
    data = page_data([reports.read_report(a), reports.read_report(b)])
    assert [i["name"] for i in data["implementations"]][1] == "mutant:floats 0"
    assert len(data["vectors"]) == len(VECTORS) and "large_values" in data["topics"] and "rmd" in data["features"]
    failing = [v for v in data["vectors"] if v["cells"][1]["s"] == "failed"]
    assert failing and all(v["cells"][0]["s"] == "passed" for v in failing)
    detail = data["details"][failing[0]["cells"][1]["d"]]
    assert detail["diffs"] and re.search(r"\(\$[\d,]+\.\d\d\)", detail["diffs"][0]["expected"])
    assert detail["request"].startswith('{"date":') and detail["citations"]


def test_the_html_keeps_the_data_inside_its_script():
    report = reports.Report("x", {"suite_version": "2", "implementation": {"name": "</script><b>x", "version": "1"}},
                            [{"id": "a-0001", "topic": "t", "status": "failed", "description": "<!-- & -->",
                              "reason": "</script>", "diffs": []}], None)
    report.by_id = {"a-0001": report.rows[0]}
    page = render_html([report])
    assert page.count("</script>") == 2 and "<!--" not in page.split("<script id=")[1]


# ---- show ------------------------------------------------------------------------------------------------------
def test_show_prints_one_vector(capsys):
    code, out, _ = cli(["conformance", "show", "examples-0002"], capsys)
    assert code == 0
    assert out.startswith("examples-0002 (topic examples; flags WorkedExample; features core)")
    assert 'request: {"date":"2025-06-30"' in out and "expected answer: a result under IRS Notice 2014-54" in out
    assert "$60,000.00" in out and "citations:" in out and "Notice 2014-54 §III ¶2" in out
    assert "what it pins:" in out and "DIRECT-FIRST" in out and "(disbursements[0].pretax)" in out
    code, out, _ = cli(["conformance", "show", "--json", "validation-0010"], capsys)
    data = json.loads(out)
    assert code == 0 and data["expected"] == {"error": "invalid_request"} and data["description_for_people"]


def test_show_an_unknown_or_retired_id(capsys):
    code, _, err = cli(["conformance", "show", "examples-0099"], capsys)
    assert code == 2 and "did you mean examples-" in err
    retired = suite.load_file(suite.VECTORS_DIR / suite.MANIFEST)["retired_ids"][0]
    code, _, err = cli(["conformance", "show", retired], capsys)
    assert code == 2 and "was retired" in err


# ---- check --------------------------------------------------------------------------------------------------
def _records(tmp_path: Path, name: str, count: int) -> Path:
    import subprocess
    path = tmp_path / f"{name}.jsonl"
    path.write_text(subprocess.run([PY, "-m", "rollsplit.conformance.testing.make_records", name, "--count",
                                    str(count)], capture_output=True, text=True, check=True).stdout)
    return path


def test_check_records_of_the_reference_pass(tmp_path, capsys):
    path = _records(tmp_path, "reference", 700)
    jl = tmp_path / "r.jsonl"
    code, out, err = cli(["conformance", "check", path, "--report-json", jl, "--jobs", "2"], capsys)
    assert code == 0 and out.splitlines()[-1] == "700 passed, 0 failed, 0 errored, 0 skipped"
    assert "no conformance level (this run is 700 records of your own system" in out
    rows = json_lines(jl)
    assert rows[0]["metadata"]["records"]["count"] == 700 and rows[0]["metadata"]["suite"] is None
    assert [r["id"] for r in rows[1:-1]] == [f"line-{n}" for n in range(1, 701)]


def test_check_finds_a_mistake_with_the_same_blocks_and_any_number_of_workers(tmp_path, capsys):
    path = _records(tmp_path, "truncation", 300)
    with path.open("a") as f:
        f.write("not a record\n\n{\"request\": {}}\n")
    one, two, xml, html = (tmp_path / "1.jsonl", tmp_path / "2.jsonl", tmp_path / "r.xml", tmp_path / "r.html")
    code, out, err = cli(["conformance", "check", path, "--report-json", one, "--jobs", "1", "--junit", xml,
                          "--html", html, "--name", "batch", "--version", "7.1"], capsys)
    assert code == 1
    assert "FAILED line-" in out and "breaks PRORATA-ROUNDING" in out and "    request: {" in out
    assert "ERRORED line-301: Line 301 of the records file" in out and "line 301 is not a record: it is not JSON" in out
    assert "line 303 is not a record: it must be a JSON object" in out
    assert "implementation: batch 7.1 (records of your own system)" in out
    code2, _, _ = cli(["conformance", "check", path, "--report-json", two, "--jobs", "2"], capsys)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows[1:-1]]
    assert code2 == 1 and strip(json_lines(one)) == strip(json_lines(two))
    assert ET.parse(xml).getroot().find("testsuite").get("failures") == str(
        sum(r["status"] == "failed" for r in json_lines(one)[1:-1]))
    assert "batch 7.1" in html.read_text()


def test_check_skips_records_needing_undeclared_features(tmp_path, capsys):
    path = _records(tmp_path, "reference", 100)
    code, out, _ = cli(["conformance", "check", path, "--features", "core,form_1099r"], capsys)
    assert code == 0 and "skipped (needs feature" in out and "not declared by --features" in out


def test_check_says_what_it_cannot_read(tmp_path, capsys):
    code, _, err = cli(["conformance", "check", tmp_path / "none.jsonl"], capsys)
    assert code == 2 and "does not exist" in err
    code, _, err = cli(["conformance", "check", tmp_path], capsys)
    assert code == 2 and "is not a file of records" in err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = cli(["conformance", "check", empty], capsys)
    assert code == 1 and "holds no records" in err
    code, _, err = cli(["conformance", "check", empty, "--features", "turbo"], capsys)
    assert code == 2 and "unknown feature turbo" in err


# ---- inspect ----------------------------------------------------------------------------------------------------
def test_inspect_catches_an_edited_level_or_count(tmp_path, capsys):
    real = tmp_path / "real.jsonl"
    cli(["conformance", "run", "--report-json", real, "--"] + MUTANT + ["ignored_pre1987"], capsys)
    code, out, _ = cli(["conformance", "inspect", real], capsys)
    assert code == 0 and "the level core is the level its lines earn" in out and out.endswith("holds together\n")
    forged = tmp_path / "forged.jsonl"
    forged.write_text(real.read_text().replace('"conformance_level": "core"', '"conformance_level": "extended"'))
    code, out, _ = cli(["conformance", "inspect", forged], capsys)
    assert code == 1 and "problem: the report claims the level extended, its lines earn core" in out
    lines = real.read_text().splitlines()
    dropped = tmp_path / "dropped.jsonl"
    dropped.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    code, out, _ = cli(["conformance", "inspect", dropped], capsys)
    assert code == 1 and "the summary says 674 passed, the lines 673" in out and "has no line: " in out


def test_the_junit_failure_holds_the_request_and_the_dollars(tmp_path, capsys):
    xml = tmp_path / "r.xml"
    cli(["conformance", "run", "--only", "examples-0002", "--junit", xml, "--"] + MUTANT + ["aftertax_first"], capsys)
    failure = ET.parse(xml).getroot().find("testsuite/testcase/failure")
    assert failure.get("message").startswith("Law-firm alert: $60,000")
    assert failure.text.startswith('request: {"date":"2025-06-30"') and "($60,000.00)" in failure.text


def test_check_counts_the_lines_it_judges_whatever_the_bytes(tmp_path, capsys):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\xff\xfe{\r\n\x00\x85 not json\rmore\n\n" * 5)
    code, out, _ = cli(["conformance", "check", garbage], capsys)
    last = out.splitlines()[-1]
    assert code == 1 and last.startswith("0 passed, 0 failed, ") and last.endswith(" errored, 0 skipped")
    assert f"this run is {int(last.split(', ')[2].split()[0])} records" in out


def test_the_records_bar_draws_a_line_at_each_tenth_off_a_terminal():
    import io

    from rollsplit.conformance import records
    out = io.StringIO()
    bar = records.Bar(20, out)
    for n in range(1, 21):
        bar(n, {"failed": n // 10, "errored": 0})
    lines = out.getvalue().splitlines()
    # the first record, then one line as each tenth is reached
    assert len(lines) == 11 and lines[-1].startswith("[" + "#" * 30 + "] 100%  20/20 records, 2 failed")
    assert lines[0].startswith("[#" + "." * 29 + "]   5%  1/20 records, 0 failed")
    assert " 50%  10/20 records, 1 failed" in lines[5]


def test_a_situation_names_who_is_paid_and_a_plan_that_refuses_after_tax_money():
    from rollsplit.spec.parse import parse_request
    req = parse_request({"date": "2025-06-30", "plan": "401a", "contract": "pretax_aftertax", "balance": 10_000_000,
                         "basis": 2_000_000, "recipient": "spouse_beneficiary", "disbursements": [
                             {"id": "plan", "method": "direct", "to": "qualified_plan", "accepts_aftertax": False,
                              "amount": 6_000_000},
                             {"id": "me", "method": "paid", "amount": 2_000_000}]})
    text = describe.situation(req)
    assert "a payment of $20,000.00 to the surviving spouse (me)" in text
    assert "a direct rollover of $60,000.00 to a qualified plan that does not take after-tax money (plan)" in text
