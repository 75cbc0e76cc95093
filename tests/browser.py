"""A real headless browser for the tests of the HTML reports (the audit bundle's REPORT.html and the vendors' report).

Debian's chromium and chromium-driver (`apt-get install -y chromium chromium-driver`), driven by selenium (the `test`
extra). Nothing is downloaded: the driver and the browser are the system's. When one of them is missing the test
is skipped with the reason, unless ROLLSPLIT_REQUIRE_BROWSER=1 (as in CI, .ci/run): then it fails.

    from browser import browser, console_errors, broken_links   # `browser` is a fixture: import it into the module

    def test_page(browser, tmp_path):
        browser.get(page.as_uri())
        assert not console_errors(browser)
        assert not broken_links(browser, page)
        browser.save_screenshot(str(tmp_path / "page.png"))
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REQUIRE = "ROLLSPLIT_REQUIRE_BROWSER"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver", "chromium-driver")


def _which(names) -> str | None:
    for n in names:
        found = shutil.which(n)
        if found:
            return found
    for d in ("/usr/bin", "/usr/lib/chromium"):
        for n in names:
            p = Path(d) / n
            if p.is_file() and os.access(p, os.X_OK):
                return str(p)
    return None


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    if _which(CHROMIUM_NAMES) is None:
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    if _which(DRIVER_NAMES) is None:
        return "chromedriver is not installed (apt-get install -y chromium-driver)"
    return None


def unavailable(reason: str):
    """Skip with `reason`, or fail when the browser is required (ROLLSPLIT_REQUIRE_BROWSER=1)."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but no browser test can run: {reason}")
    pytest.skip(f"no headless browser: {reason}")


def start(width: int = 1400, height: int = 1000):
    """A headless Chromium driven by the system's chromedriver, its console kept for `console_errors`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _which(CHROMIUM_NAMES)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=_which(DRIVER_NAMES)), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (skipped, or failed when required, if there is none)."""
    reason = missing()
    if reason:
        unavailable(reason)
    try:
        driver = start()
    except Exception as e:  # noqa: BLE001 - a browser that does not start is a missing browser, with its reason
        unavailable(f"chromium did not start: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """The page's console messages of level SEVERE (errors, failed loads) since the last call."""
    return [f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def broken_links(driver, page: Path, allow_external: bool = False) -> list[str]:
    """Every link of the page that does not resolve: an in-page anchor (#id) with no element of that id, a relative
    file link to a file that does not exist beside `page`, and (unless allowed) a link off the machine."""
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));")
    ids = set(driver.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id);"))
    bad = []
    for href in sorted(set(hrefs)):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "ftp") or href.startswith("//"):
            if not allow_external:
                bad.append(f"{href}: a link off the machine")
            continue
        if parts.scheme in ("mailto", "javascript", "data"):
            continue
        if not parts.path:
            if parts.fragment and unquote(parts.fragment) not in ids:
                bad.append(f"{href}: no element with this id")
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        if parts.scheme == "file":
            target = Path(unquote(parts.path))
        if not target.exists():
            bad.append(f"{href}: no such file")
    return bad
