"""Small PDF documents for the /pdf/sign tests, written by hand (ISO 32000-1 §7.5: header, body,
cross-reference table, trailer), so the input does not come from the library that signs it."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms

from tests.support.required import missing_backend

MEDIA_BOX = (612, 792)  # US Letter
ENSURE_POPPLER = Path(__file__).with_name("ensure_poppler.sh")


def minimal_pdf(pages: int = 1, *, text: str = "Hello MOSIP") -> bytes:
    """A document of ``pages`` pages, each showing ``text`` and its page number (0 pages allowed)."""
    page_ids = [4 + 2 * i for i in range(pages)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % i for i in page_ids), pages),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for number, page_id in enumerate(page_ids, start=1):
        content = f"BT /F1 24 Tf 72 700 Td ({text} - page {number}) Tj ET".encode("latin-1")
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % (*MEDIA_BOX, page_id + 1)
        )
        objects[page_id + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def pdfsig(path, *extra: str) -> str:
    """poppler's pdfsig report of ``path`` (it exits non-zero for an unsigned document)."""
    result = subprocess.run(["pdfsig", *extra, str(path)], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def require_pdfsig() -> None:
    """pdfsig on the PATH: installed once by tests/support/ensure_poppler.sh if missing."""
    if shutil.which("pdfsig") is None:
        subprocess.run(["bash", str(ENSURE_POPPLER)], capture_output=True, timeout=600, check=False)
    if shutil.which("pdfsig") is None:
        missing_backend("pdfsig (poppler-utils)")


@dataclass(frozen=True)
class SignatureParts:
    """The last signature of a document, found from the raw bytes alone (ISO 32000-1 §12.8.1)."""

    byte_range: tuple[int, int, int, int]
    signed_bytes: bytes  # what the ByteRange covers
    cms: cms.ContentInfo


def last_signature(document: bytes) -> SignatureParts:
    ranges = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", document)
    assert ranges, "no /ByteRange in the document"
    a, b, c, d = (int(n) for n in ranges[-1])
    assert a == 0 and a + b < c and c + d == len(document), "the ByteRange must cover all but /Contents"
    contents = document[a + b:c]
    assert contents.startswith(b"<") and contents.endswith(b">")
    der = bytes.fromhex(contents[1:-1].decode("ascii"))
    return SignatureParts((a, b, c, d), document[a:a + b] + document[c:c + d], cms.ContentInfo.load(der))
