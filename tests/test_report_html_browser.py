"""The vendors' HTML report in a real headless browser (issue 15): Debian's chromium through selenium
(tests/browser.py: skipped with its reason when there is none, failed when ROLLSPLIT_REQUIRE_BROWSER=1).

Two implementations run the whole suite in one run (`conformance run -i ... -i ... --html`): the reference and a
calculator that truncates the pro rata cents. The page loads from file:// without a console error and without
fetching anything, its filters by topic, feature and status hide the right rows, a failing cell opens its diff
with dollars and its citations, and a screenshot is saved under the test's tmp_path."""

from __future__ import annotations

import json
import sys

import pytest
from browser import browser, console_errors  # noqa: F401 - `browser` is a fixture

from rollsplit.cli import main

PY = sys.executable


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    html, jl = root / "matrix.html", root / "run.jsonl"
    code = main(["conformance", "run", "-i", f"{PY} -m rollsplit serve",
                 "-i", f"{PY} -m rollsplit.conformance.testing.mutant_adapter truncation",
                 "--report-json", str(jl), "--html", str(html)])
    assert code == 1 and html.exists()
    rows = [json.loads(line) for line in (root / "run-2.jsonl").read_text().splitlines()[1:-1]]
    return {"html": html, "rows": rows}


def _visible_rows(driver) -> list[dict]:
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#matrix tbody tr')).filter(r => !r.hidden).map(r => ({
            id: r.dataset.id, topic: r.dataset.topic,
            statuses: Array.from(r.querySelectorAll('td.cell')).map(c => c.dataset.status)}));""")


def _select(driver, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element("id", element_id)).select_by_value(value)


def test_the_page_loads_without_errors_and_fetches_nothing(browser, page, tmp_path):  # noqa: F811
    browser.get(page["html"].as_uri())
    assert not console_errors(browser)
    assert browser.title == "rollsplit conformance"
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    names = [e.text for e in browser.find_elements("css selector", "#impls tbody tr td:first-child")]
    assert names[0].startswith("rollsplit ") and names[1] == "mutant:truncation 0"
    assert len(_visible_rows(browser)) == len(page["rows"])
    assert browser.find_element("id", "count").text == f"{len(page['rows'])} of {len(page['rows'])} vectors shown"
    browser.save_screenshot(str(tmp_path / "matrix.png"))
    assert (tmp_path / "matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_filters_hide_the_right_rows(browser, page):  # noqa: F811
    browser.get(page["html"].as_uri())
    rows = page["rows"]
    _select(browser, "f-topic", "rounding")
    shown = _visible_rows(browser)
    assert {r["topic"] for r in shown} == {"rounding"} and len(shown) == sum(r["topic"] == "rounding" for r in rows)
    _select(browser, "f-topic", "")
    _select(browser, "f-feature", "rmd")
    assert [r["id"] for r in _visible_rows(browser)] == [r["id"] for r in rows if "rmd" in r["features"]]
    _select(browser, "f-feature", "")
    _select(browser, "f-status", "failed")
    failing = [r["id"] for r in rows if r["status"] == "failed"]
    shown = _visible_rows(browser)
    assert failing and [r["id"] for r in shown] == failing
    assert all(r["statuses"] == ["passed", "failed"] for r in shown)
    _select(browser, "f-status", "differs")
    assert [r["id"] for r in _visible_rows(browser)] == failing
    _select(browser, "f-status", "errored")
    assert _visible_rows(browser) == [] and browser.find_element("id", "count").text.startswith("0 of ")
    _select(browser, "f-status", "")
    browser.find_element("css selector", "#topics tr.topicrow[data-topic='large_values']").click()
    assert {r["topic"] for r in _visible_rows(browser)} == {"large_values"}
    assert not console_errors(browser)


def test_a_failing_cell_opens_its_diff_and_citations(browser, page, tmp_path):  # noqa: F811
    browser.get(page["html"].as_uri())
    _select(browser, "f-status", "failed")
    first = next(r for r in page["rows"] if r["status"] == "failed")
    cell = browser.find_element("css selector", f"#matrix tr[data-id='{first['id']}'] td.cell.failed")
    assert not browser.find_element("id", "detail").is_displayed()
    browser.execute_script("arguments[0].scrollIntoView()", cell)
    cell.click()
    detail = browser.find_element("id", "detail")
    assert detail.is_displayed()
    assert browser.find_element("id", "detail-title").text == f"{first['id']}: failed by mutant:truncation 0"
    diffs = browser.find_elements("css selector", "#detail-diffs tr")[1:]
    assert len(diffs) == len(first["diffs"])
    path, expected, got = (td.text for td in diffs[0].find_elements("tag name", "td"))
    d = first["diffs"][0]
    assert path == d["path"] and expected.startswith(f"{d['expected']} ($") and got.startswith(f"{d['got']} ($")
    assert "PRORATA-ROUNDING" in browser.find_element("id", "detail-broken").text
    citations = browser.find_element("id", "detail-citations").text
    assert citations and first["citations"][0]["pinpoint"] in citations
    assert browser.find_element("id", "detail-request").text.startswith('{"date":')
    browser.save_screenshot(str(tmp_path / "failing-cell.png"))
    browser.find_element("id", "close").click()
    assert not detail.is_displayed()
    assert not console_errors(browser)
