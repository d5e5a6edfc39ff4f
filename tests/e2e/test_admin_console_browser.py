"""The administrator's console (issue 17, ADR 0022) in a real browser against a real server process.

Headless Chromium, driven by Selenium through Debian's chromedriver, both named by path (selenium-manager is never
used); tests/support/ensure_chromium.sh installs them when missing, then a missing browser fails under CI=true and
skips elsewhere (as in test_swagger_ui_browser.py). The server is `python -m entrypoints.cli serve` on the embedded
store and keystore, in dev mode (the OIDC sign-in is tested with a stand-in identity provider below).

What is checked is what an operator does: find ROOT and the module keys with their expiry, revoke a base key and
see its status change, change a key policy and see the next key's validity follow it, generate a master key
(and force-regenerate it behind a confirmation), upload a CA certificate and read its trust path, read an audit
record and the chain's verdict, and that nothing is loaded from another origin nor refused by the page's
Content-Security-Policy. With KEYMANAGER_WRITE_SCREENSHOTS=1 the inventory and timeline screenshots are written to
docs/ (committed); otherwise to a temporary directory.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.repo import REPO_ROOT
from tests.support.required import missing_backend
from tests.support.server import Server, requests, server_factory

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 30.0
MODULE_APPS = ("KERNEL", "PRE_REGISTRATION", "REGISTRATION", "REGISTRATION_PROCESSOR", "ID_REPO", "RESIDENT", "PMS")


def chromium_available() -> bool:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return True
    subprocess.run(["bash", str(REPO_ROOT / "tests" / "support" / "ensure_chromium.sh")], timeout=900, check=False)
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def start_browser(directory: Path) -> WebDriver:
    if not chromium_available():
        missing_backend(f"Chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}: Debian chromium, chromium-driver)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-proxy-server", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                     "--force-device-scale-factor=1", f"--user-data-dir={directory / 'chromium-profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations are reported there
    # A driver path in the Service: Selenium uses it as is, and never runs selenium-manager.
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(directory / "chromedriver.log"))
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = start_browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One dev-mode server for the module's tests (each test works on its own application or reference).
    The ceremony makes the default keys: ADMIN_SERVICES, DIGITAL_CARD and COMPLIANCE_TOOLKIT have a policy and
    no master key."""
    with server_factory(tmp_path_factory.mktemp("console")) as make:
        yield make("console", KEYMANAGER_ZK_POOL_SIZE="16").start()


# -- helpers ----------------------------------------------------------------------------------------------------


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str, server: Server | None = None) -> Any:
    try:
        # a table re-rendered under the condition's feet: look again
        return WebDriverWait(driver, WAIT, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text[:3000]
        log = f"\nserver log:\n{server.output()}" if server is not None else ""
        pytest.fail(f"timed out waiting for {what}; page text:\n{body}{log}")


def open_console(driver: WebDriver, server: Server, section: str) -> None:
    driver.get("about:blank")  # a fresh page, not a same-document hash change
    driver.get(f"{server.base}/admin/#{section}")
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true"
             or _message_text(d), "the console to start", server)
    assert _message_text(driver) == "", _message_text(driver)
    wait_for(driver, lambda d: d.find_element(By.ID, section).is_displayed(), f"section {section}")
    settle(driver)


def settle(driver: WebDriver) -> None:
    """Until the page has no request under way (it counts them on <body data-pending>)."""
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-pending") in (None, "0"),
             "the page's requests")


def _message_text(driver: WebDriver) -> str:
    box = driver.find_element(By.ID, "message")
    return driver.find_element(By.ID, "message-text").text if box.is_displayed() else ""


def message(driver: WebDriver, server: Server) -> str:
    return wait_for(driver, lambda d: _message_text(d), "a message", server)


def rows(driver: WebDriver, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


def fill(driver: WebDriver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def set_value(driver: WebDriver, element_id: str, text: str) -> None:
    """A long value (a PEM) set at once, then announced like typing would."""
    driver.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
        " e.dispatchEvent(new Event('input', {bubbles: true}));", element_id, text)


def confirm(driver: WebDriver) -> str:
    dialog = wait_for(driver, lambda d: d.find_element(By.ID, "confirm") if d.find_element(By.ID, "confirm")
                      .is_displayed() else None, "the confirmation dialog")
    text = dialog.text
    driver.find_element(By.ID, "confirm-ok").click()
    return text


def inventory_row(driver: WebDriver, server: Server, app: str, ref: str, status: str | None = None) -> WebElement:
    selector = f"#inventory-table tbody tr[data-app='{app}'][data-ref='{ref}']"
    if status is not None:
        selector += f"[data-status='{status}']"
    return wait_for(driver, lambda d: (d.find_elements(By.CSS_SELECTOR, selector) or [None])[0],
                    f"inventory row {selector}", server)


def filter_inventory(driver: WebDriver, app: str = "", ref: str = "") -> None:
    fill(driver, "filter-app", app)
    fill(driver, "filter-ref", ref)
    before = driver.find_element(By.TAG_NAME, "body").get_attribute("data-keys-loaded")
    driver.find_element(By.CSS_SELECTOR, "#inventory-filter button[type=submit]").click()
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-keys-loaded") != before,
             "the filtered inventory")
    settle(driver)


def api_keys(server: Server, **query: str) -> list[dict[str, Any]]:
    response = requests.get(f"{server.base}/admin/api/keys", params=query, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"] is None, body
    return body["response"]["keys"]


def certificate_not_after(pem: str) -> dt.date:
    return x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc.date()


def ca_certificate(common_name: str) -> str:
    return ca(common_name)[1].public_bytes(serialization.Encoding.PEM).decode()


def ca(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Console Test CA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


# -- dev mode ---------------------------------------------------------------------------------------------------


def test_inventory_shows_root_and_the_module_keys_with_their_expiry(server: Server, browser: WebDriver) -> None:
    open_console(browser, server, "inventory")
    banner = browser.find_element(By.ID, "dev-banner")
    assert banner.is_displayed() and "Authentication disabled" in banner.text  # dev mode is never silent
    for app, kind in (("ROOT", "root"), *((app, "module") for app in MODULE_APPS)):
        row = inventory_row(browser, server, app, "", "current")
        assert row.get_attribute("data-kind") == kind
        expires = row.find_element(By.CSS_SELECTOR, "td.expires").text
        assert expires == certificate_not_after(server.certificate(app)).isoformat(), app
        assert row.find_element(By.CSS_SELECTOR, ".badge").text == "current"

    inventory_row(browser, server, "ROOT", "").find_element(By.CSS_SELECTOR, "button.details").click()
    pem = wait_for(browser, lambda d: d.find_element(By.ID, "details-pem").text, "the certificate")
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert pem.strip() == server.certificate("ROOT").strip()
    browser.find_element(By.ID, "details-chain").click()
    chain = wait_for(browser, lambda d: d.find_element(By.ID, "chain-pem").text, "the chain")
    assert chain.startswith("-----BEGIN PKCS7-----")

    filter_inventory(browser, app="KERNEL")
    shown = {row.get_attribute("data-app") for row in rows(browser, "#inventory-table tbody tr")}
    assert shown == {"KERNEL"}


def test_revoking_a_base_key_changes_its_status(server: Server, browser: WebDriver) -> None:
    ref = "console-revoke"
    server.certificate("REGISTRATION", ref)  # the base key, made on first use
    open_console(browser, server, "inventory")
    filter_inventory(browser, ref=ref)
    row = inventory_row(browser, server, "REGISTRATION", ref, "current")
    assert row.get_attribute("data-kind") == "base"
    row.find_element(By.CSS_SELECTOR, "button.revoke").click()
    text = confirm(browser)
    assert "still decrypts" in text and "REGISTRATION / console-revoke" in text
    assert "Key Revoked" in message(browser, server)
    revoked = inventory_row(browser, server, "REGISTRATION", ref, "revoked")
    assert revoked.find_element(By.CSS_SELECTOR, ".badge").text == "revoked"
    assert not revoked.find_elements(By.CSS_SELECTOR, "button.revoke")
    assert [key["status"] for key in api_keys(server, app="REGISTRATION", ref=ref)] == ["revoked"]


def test_a_policy_change_sets_the_validity_of_the_next_key(server: Server, browser: WebDriver) -> None:
    app, ref = "RESIDENT", "console-policy"
    open_console(browser, server, "policies")
    edit = wait_for(browser, lambda d: (d.find_elements(By.CSS_SELECTOR, f"tr[data-app='{app}'] button.edit") or [None])[0],
                    "the policies", server)
    edit.click()
    fill(browser, "policy-validity", "200")
    fill(browser, "policy-preexpire", "300")  # longer than the validity: refused by the API, shown in the form
    browser.find_element(By.ID, "policy-save").click()
    refusal = wait_for(browser, lambda d: d.find_element(By.ID, "policy-errors").text, "the validation message")
    assert ":" in refusal and refusal.split(":")[0].startswith("KER-"), refusal  # errorCode: message

    fill(browser, "policy-preexpire", "20")
    browser.find_element(By.ID, "policy-save").click()
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-app='{app}'] td.validity").text == "200",
             "the saved policy", server)
    assert browser.find_element(By.CSS_SELECTOR, f"tr[data-app='{app}'] td.preexpire").text == "20"

    server.certificate(app, ref)  # the next key of the application, on another request, maybe another worker
    browser.find_element(By.CSS_SELECTOR, "nav a[data-section='inventory']").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "inventory").is_displayed(), "the inventory")
    filter_inventory(browser, app=app, ref=ref)
    row = inventory_row(browser, server, app, ref, "current")
    issued = dt.date.fromisoformat(row.find_element(By.CSS_SELECTOR, "td.issued").text)
    expires = dt.date.fromisoformat(row.find_element(By.CSS_SELECTOR, "td.expires").text)
    assert (expires - issued).days == 200
    assert certificate_not_after(server.certificate(app, ref)) == expires


def test_generating_and_force_regenerating_a_master_key(server: Server, browser: WebDriver) -> None:
    app = "DIGITAL_CARD"
    assert not api_keys(server, app=app)
    open_console(browser, server, "actions")
    button = wait_for(browser, lambda d: (d.find_elements(By.CSS_SELECTOR, f"#missing-keys button[data-app='{app}']")
                                          or [None])[0], "the missing master keys", server)
    button.click()
    assert f"Master key of {app}" in message(browser, server)
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#missing-keys button[data-app='{app}']"),
             "the key to leave the missing list")
    [made] = api_keys(server, app=app)
    assert (made["kind"], made["status"], made["referenceId"] or "") == ("module", "current", "")

    fill(browser, "master-app", app)
    browser.find_element(By.ID, "master-force").click()
    browser.find_element(By.ID, "master-submit").click()
    text = confirm(browser)
    for consequence in ("stops being current", "still decrypts", "partners must fetch the new certificate"):
        assert consequence in text
    wait_for(browser, lambda d: len(api_keys(server, app=app)) == 2, "the new key", server)
    statuses = sorted(key["status"] for key in api_keys(server, app=app))
    assert statuses == ["current", "revoked"]
    open_console(browser, server, "inventory")
    filter_inventory(browser, app=app)
    assert inventory_row(browser, server, app, "", "current").get_attribute("data-alias") != made["alias"]


def test_uploading_a_ca_certificate_and_reading_its_trust_path(server: Server, browser: WebDriver) -> None:
    common_name = "Console E2E Root CA"
    open_console(browser, server, "truststore")
    fill(browser, "ca-upload-domain", "AUTH")
    set_value(browser, "ca-upload-pem", ca_certificate(common_name))
    browser.find_element(By.ID, "ca-upload-submit").click()
    assert "Upload Success" in message(browser, server)
    cell = wait_for(browser, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "#ca-table td.issued-to")
                                             if common_name in e.text), None), "the uploaded CA", server)
    row = cell.find_element(By.XPATH, "..")
    assert "AUTH" in row.text and "ROOT" in row.text
    row.find_element(By.CSS_SELECTOR, "button.trust-path").click()
    path = wait_for(browser, lambda d: d.find_element(By.ID, "trustpath-pem").text, "the trust path")
    assert path.startswith("-----BEGIN PKCS7-----")

    fill(browser, "partner-id", "no-such-certificate")  # an API error is shown with its code
    browser.find_element(By.CSS_SELECTOR, "#partner-form button[type=submit]").click()
    assert message(browser, server).startswith("KER-PCM-012")


def test_a_csr_certified_by_an_outside_ca_and_its_certificate_uploaded(server: Server, browser: WebDriver) -> None:
    app, ref = "REGISTRATION", "console-csr"
    server.certificate(app, ref)
    open_console(browser, server, "actions")
    fill(browser, "csr-app", app)
    fill(browser, "csr-ref", ref)
    fill(browser, "csr-cn", "Console CSR")
    browser.find_element(By.CSS_SELECTOR, "#csr-form button[type=submit]").click()
    pem = wait_for(browser, lambda d: d.find_element(By.ID, "csr-pem").text, "the CSR", server)
    request = x509.load_pem_x509_csr(pem.encode())
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Console CSR"

    ca_key, ca_cert = ca("Console Outside CA")
    now = dt.datetime.now(dt.UTC)
    issued = (
        x509.CertificateBuilder().subject_name(request.subject).issuer_name(ca_cert.subject)
        .public_key(request.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=400))
        .sign(ca_key, hashes.SHA256())
    )
    fill(browser, "upload-app", app)
    fill(browser, "upload-ref", ref)
    set_value(browser, "upload-pem", issued.public_bytes(serialization.Encoding.PEM).decode())
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    assert "Upload Success" in message(browser, server)
    [key] = [key for key in api_keys(server, app=app, ref=ref) if key["status"] == "current"]
    assert key["thumbprint"].upper() == issued.fingerprint(hashes.SHA256()).hex().upper()
    assert key["expires"].startswith(issued.not_valid_after_utc.date().isoformat())


def test_an_audit_record_and_the_chain_verdict(server: Server, browser: WebDriver) -> None:
    ref = "console-audit"
    server.certificate("REGISTRATION", ref)
    server.ok("PUT", "/revokeKey", {"applicationId": "REGISTRATION", "referenceId": ref})
    open_console(browser, server, "audit")
    fill(browser, "audit-operation", "revokeKey")
    browser.find_element(By.CSS_SELECTOR, "#audit-filter button[type=submit]").click()
    record = wait_for(browser, lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")
                                               if ref in r.text), None), "the revokeKey record", server)
    assert "revokeKey" in record.text and "success" in record.text and "dev" in record.text
    assert {r.get_attribute("data-operation") for r in rows(browser, "#audit-table tbody tr")} == {"revokeKey"}
    browser.find_element(By.ID, "audit-verify").click()
    verdict = wait_for(browser, lambda d: d.find_element(By.ID, "audit-verify-result").text, "the verdict", server)
    assert verdict.startswith("Chain intact") and "head sequence" in verdict


def test_every_section_loads_only_from_the_server_and_breaks_no_policy(server: Server, browser: WebDriver) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    open_console(browser, server, "inventory")
    browser.get_log("browser")  # forget what earlier pages logged
    loaded = {"inventory": "#inventory-table tbody tr", "timeline": "#timeline-svg .bar-row",
              "actions": "#missing-keys li", "policies": "#policies-table tbody tr", "truststore": "#ca-page:not(:empty)",
              "audit": "#audit-table tbody tr"}
    for section, content in loaded.items():
        browser.find_element(By.CSS_SELECTOR, f"nav a[data-section='{section}']").click()
        wait_for(browser, lambda d, s=section: d.find_element(By.ID, s).is_displayed(), section)
        wait_for(browser, lambda d, c=content: d.find_elements(By.CSS_SELECTOR, c) or _message_text(d),
                 f"the {section} section's content", server)
        assert _message_text(browser) == "", (section, _message_text(browser))
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    for name in ("console.js", "console.css", "console.svg", "api/session", "api/keys", "api/policies", "api/audit"):
        assert any(url.split("?")[0].endswith(f"/admin/{name}") for url in resources), (name, "\n".join(resources))
    assert any(url.endswith("/v1/keymanager/getCaCertificates") for url in resources)
    elsewhere = [url for url in resources if not url.startswith(origin + "/")]
    assert not elsewhere, elsewhere
    problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems  # no Content-Security-Policy violation, no script error


def test_screenshots_of_the_inventory_and_the_timeline(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    """Written to docs/ (committed) with KEYMANAGER_WRITE_SCREENSHOTS=1, else to a temporary directory."""
    directory = REPO_ROOT / "docs" if os.environ.get("KEYMANAGER_WRITE_SCREENSHOTS") == "1" else tmp_path
    for ref in ("10001_110011", "10002_110012", "10003_110013"):  # a few base keys, as a registration client makes
        server.certificate("REGISTRATION", ref)
    # a short-lived key whose pre-expiry window opens within 90 days, and a revoked one, so the chart has a story
    policy = {"id": "e2e", "version": "1.0", "requesttime": "2024-05-01T10:15:30.123Z",
              "request": {"validityDays": 75, "preExpireDays": 30, "accessAllowed": ["NA"]}}
    changed = requests.put(f"{server.base}/admin/api/policies/ID_REPO", json=policy, timeout=30).json()
    assert changed["errors"] is None, changed
    server.certificate("ID_REPO", "console-shot")
    server.certificate("REGISTRATION", "console-shot-revoked")
    server.ok("PUT", "/revokeKey", {"applicationId": "REGISTRATION", "referenceId": "console-shot-revoked"})
    browser.set_window_size(1400, 1000)
    open_console(browser, server, "inventory")
    inventory_row(browser, server, "ROOT", "")
    inventory = directory / "console-inventory.png"
    browser.save_screenshot(str(inventory))

    browser.find_element(By.CSS_SELECTOR, "nav a[data-section='timeline']").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline-svg .bar-row"), "the timeline", server)
    Select(browser.find_element(By.ID, "timeline-scope")).select_by_value("live")
    bars = rows(browser, "#timeline-svg .bar-row")
    live = [key for key in api_keys(server) if key["status"] in ("current", "due")]
    assert len(bars) == len(live)
    assert rows(browser, "#timeline-svg line.today") and rows(browser, "#timeline-svg rect.window")
    assert rows(browser, "#timeline-svg rect.pre-expiry")
    upcoming = browser.find_element(By.ID, "timeline-upcoming").text
    assert "ID_REPO / console-shot · base enters its pre-expiry window" in upcoming, upcoming
    timeline = directory / "console-timeline.png"
    browser.save_screenshot(str(timeline))
    for path in (inventory, timeline):
        assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- OIDC mode --------------------------------------------------------------------------------------------------


def test_oidc_sign_in_then_403_on_an_action_the_role_does_not_allow(tmp_path: Path) -> None:
    """Alice signs in through the stand-in identity provider (authorization code + PKCE); with ZONAL_ADMIN she may
    read the inventory and change a policy (a PUT: the session's CSRF token goes with it), but revoking needs
    GLOBAL_ADMIN in this deployment (KEYMANAGER_ROLES_PUTREVOKEKEY): 403, shown with its code, nothing changed."""
    from tests.support.oidc import IdpServer, bearer

    app, ref = "REGISTRATION", "console-oidc"
    with IdpServer(user="alice", roles=["ZONAL_ADMIN"]) as idp, server_factory(tmp_path) as make:
        server = make("oidc", KEYMANAGER_ZK_POOL_SIZE="0", KEYMANAGER_INIT_KEYS="ROOT,REGISTRATION",
                      KEYMANAGER_ROLES_PUTREVOKEKEY="GLOBAL_ADMIN")
        server.env.update(idp.server_env(f"http://127.0.0.1:{server.port}/v1/keymanager/admin/callback"))
        server.start()
        made = requests.get(f"{server.base}/getCertificate", params={"applicationId": app, "referenceId": ref},
                            headers=bearer(idp.token(roles=["ZONAL_ADMIN"])), timeout=30)
        assert made.status_code == 200 and made.json()["errors"] is None, made.text
        assert requests.get(f"{server.base}/admin/api/session", timeout=30).status_code == 401

        browser = start_browser(tmp_path)
        try:
            browser.get(f"{server.base}/admin/")  # no session: to admin/login, the IdP, the callback, back here
            wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true",
                     "the sign-in and the console", server)
            assert browser.current_url.split("#")[0] == f"{server.base}/admin/"
            assert browser.find_element(By.ID, "user-name").text == "Signed in as alice"
            assert not browser.find_element(By.ID, "dev-banner").is_displayed()
            assert browser.find_element(By.ID, "sign-out").is_displayed()
            inventory_row(browser, server, "ROOT", "", "current")

            filter_inventory(browser, app=app, ref=ref)
            inventory_row(browser, server, app, ref, "current").find_element(By.CSS_SELECTOR, "button.revoke").click()
            confirm(browser)
            assert message(browser, server).startswith("KER-ATH-403")
            statuses = [key["status"] for key in requests.get(
                f"{server.base}/admin/api/keys", params={"app": app, "ref": ref},
                headers=bearer(idp.token(roles=["ZONAL_ADMIN"])), timeout=30).json()["response"]["keys"]]
            assert statuses == ["current"]

            browser.find_element(By.CSS_SELECTOR, "nav a[data-section='policies']").click()
            edit = wait_for(browser, lambda d: (d.find_elements(By.CSS_SELECTOR, f"tr[data-app='{app}'] button.edit")
                                                or [None])[0], "the policies", server)
            edit.click()
            fill(browser, "policy-validity", "400")
            fill(browser, "policy-preexpire", "40")
            browser.find_element(By.ID, "policy-save").click()
            wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, f"tr[data-app='{app}'] td.validity").text
                     == "400", "the saved policy (a PUT with the CSRF token)", server)

            browser.find_element(By.ID, "sign-out").click()
            wait_for(browser, lambda d: d.find_elements(By.ID, "signed-out"), "the sign-out", server)
            status = browser.execute_script(
                "return fetch('api/session', {credentials: 'same-origin'}).then(r => r.status)")
            assert status == 401
        finally:
            browser.quit()
