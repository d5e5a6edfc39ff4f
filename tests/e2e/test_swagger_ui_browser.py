"""Swagger UI in a real browser against the real server: /swagger-ui.html leads to the page, which renders the
operations of our API document (../v3/api-docs) and loads nothing from another host (no CDN: offline deployments).

The browser is Debian's headless Chromium driven by Selenium through Debian's chromedriver, both named by path,
so Selenium never downloads anything (selenium-manager is not used). They come from
tests/support/ensure_chromium.sh; when they are missing the test runs that script once, then fails under CI=true
or skips on a developer's machine (tests/conftest.py).
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.repo import REPO_ROOT
from tests.support.required import missing_backend
from tests.support.server import requests, server_factory

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
RENDER_TIMEOUT = 30.0
#: Operations the page must list, by the path Swagger UI shows for them.
EXPECTED_PATHS = {"/v1/keymanager/decrypt", "/v1/keymanager/jwtSign"}


def chromium_available() -> bool:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return True
    subprocess.run(["bash", str(REPO_ROOT / "tests" / "support" / "ensure_chromium.sh")], timeout=900, check=False)
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    if not chromium_available():
        missing_backend(f"Chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}: Debian chromium, chromium-driver)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-proxy-server", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1024",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    # A driver path in the Service: Selenium uses it as is, and never runs selenium-manager.
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator:
    with server_factory(tmp_path) as make:
        yield make


def rendered_paths(driver: WebDriver) -> set[str] | None:
    """The operations' paths once Swagger UI has rendered some, None until then; fails at once on its error page."""
    failed = driver.find_elements(By.CSS_SELECTOR, ".loading-container .title")
    if failed and "Failed to load API definition" in failed[0].text:
        errors = " | ".join(element.text for element in driver.find_elements(By.CSS_SELECTOR, ".errors-wrapper"))
        pytest.fail(f"Swagger UI could not load the API document: {failed[0].text} {errors}")
    paths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.opblock .opblock-summary-path'),"
        " e => e.getAttribute('data-path') || e.textContent.replace(/\\u200b/g, ''))"
    )
    return set(paths) or None


def test_swagger_ui_lists_the_api_and_loads_nothing_from_elsewhere(servers, browser: WebDriver) -> None:
    server = servers("swagger-ui", KEYMANAGER_ZK_POOL_SIZE="16").start()
    origin = f"http://127.0.0.1:{server.port}"
    browser.get(f"{server.base}/swagger-ui.html")
    assert browser.current_url == f"{server.base}/swagger-ui/index.html"  # the redirect was followed
    try:
        paths = WebDriverWait(browser, RENDER_TIMEOUT, poll_frequency=0.25).until(rendered_paths)
    except TimeoutException:
        pytest.fail(f"Swagger UI rendered no operation within {RENDER_TIMEOUT:.0f}s; page text:\n"
                    f"{browser.find_element(By.TAG_NAME, 'body').text[:2000]}\nserver log:\n{server.output()}")

    assert EXPECTED_PATHS <= paths, sorted(paths)
    document = requests.get(f"{server.base}/v3/api-docs", timeout=15).json()
    assert paths == set(document["paths"])  # the whole API is listed, nothing else

    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert f"{server.base}/v3/api-docs" in resources  # the relative URL of our initializer, resolved by the page
    assert f"{server.base}/swagger-ui/swagger-ui-bundle.js" in resources
    elsewhere = [url for url in resources if not url.startswith(origin + "/")]
    assert not elsewhere, elsewhere
