"""POST /pdf/sign against the real server process: the view is declared blocking, so it runs in the
server's thread pool (pyHanko drives its own asyncio loop, which cannot run on the event loop's
thread). Concurrent requests each get a document pdfsig validates; an oversized body is refused."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from entrypoints.http.schemas import PDF_EXAMPLE
from tests.support.pdf import minimal_pdf, pdfsig, require_pdfsig
from tests.support.server import REQUEST_TIME, Server, b64url, b64url_decode, requests, server_factory

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_factory(tmp_path_factory.mktemp("pdf-sign")) as make:
        yield make("pdf-sign", KEYMANAGER_ZK_POOL_SIZE="16").start()


def pdf_request(data: str, **extra: object) -> dict[str, object]:
    return {"applicationId": "KERNEL", "referenceId": "SIGN", "timeStamp": REQUEST_TIME, "data": data,
            "lowerLeftX": 100, "lowerLeftY": 100, "upperRightX": 200, "upperRightY": 60, "reason": "e2e",
            "pageNumber": 0, **extra}


def test_concurrent_signatures_validate(server: Server, tmp_path: Path) -> None:
    require_pdfsig()
    documents = [PDF_EXAMPLE] + [b64url(minimal_pdf(n, text=f"document {n}")) for n in range(1, 6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda data: server.ok("POST", "/pdf/sign", pdf_request(data))["data"], documents))
    for index, (original, answer) in enumerate(zip(documents, answers)):
        signed = b64url_decode(answer)
        assert signed.startswith(b64url_decode(original))
        path = tmp_path / f"signed-{index}.pdf"
        path.write_bytes(signed)
        report = pdfsig(path)
        assert "Signature Validation: Signature is Valid." in report, report
        assert "Signer Certificate Common Name: www.mosip.io (KERNEL-SIGN)" in report, report


def test_protected_document(server: Server, tmp_path: Path) -> None:
    require_pdfsig()
    answer = server.ok("POST", "/pdf/sign", pdf_request(PDF_EXAMPLE, password="e2e-secret"))["data"]
    path = tmp_path / "protected.pdf"
    path.write_bytes(b64url_decode(answer))
    assert "Signature is Valid." in pdfsig(path, "-upw", "e2e-secret")


def test_document_that_is_not_a_pdf(server: Server) -> None:
    body = server.call("POST", "/pdf/sign", pdf_request(b64url(b"not a PDF at all")))
    assert body["response"] is None
    assert [e["errorCode"] for e in body["errors"]] == ["KER-PDG-001"]


def test_fifty_megabyte_body(server: Server) -> None:
    envelope = {"id": "e2e", "version": "1.0", "requesttime": REQUEST_TIME, "metadata": {},
                "request": pdf_request("A" * (50 * 1024 * 1024))}
    response = requests.post(server.base + "/pdf/sign", json=envelope, timeout=60)
    assert response.status_code == 413, response.text[:300]
    assert [e["errorCode"] for e in response.json()["errors"]] == ["KER-KMS-005"]
