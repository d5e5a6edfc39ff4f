"""The visible signature's appearance, as the reference draws it (mosip-cose-pdf.md B.3).

Three lines in Helvetica-Bold 10 pt, leading 12, the first baseline at (5, h - 17), each
word-wrapped to the box width less 10 points.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp.base import BaseStamp, BaseStampStyle

FONT_SIZE = 10
LEADING = 12
#: Helvetica-Bold's average advance is about 0.6 em: an estimate, enough to keep lines inside
#: the box (the appearance is cosmetic; the signature does not depend on it).
CHARACTER_WIDTH = 0.6 * FONT_SIZE
_BREAKS = re.compile(r"(\s|_|-)")  # the reference wraps before and after these


def wrap(text: str, width: float) -> list[str]:
    """Greedy word wrap at whitespace, '_' and '-'; a word wider than the line stays whole."""
    lines: list[str] = []
    current = ""
    for token in filter(None, _BREAKS.split(text)):
        if current and (len(current) + len(token)) * CHARACTER_WIDTH > width:
            lines.append(current.rstrip())
            current = ""
        current = current + token if current else token.lstrip()  # no line starts with a blank
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _literal(text: str) -> bytes:
    """A PDF literal string in WinAnsi (the standard font's encoding); what it cannot show is '?'."""
    printable = "".join(c if c >= " " else " " for c in text)
    encoded = printable.encode("cp1252", errors="replace")
    return b"(" + encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def text_operators(lines: Iterable[str], height: float) -> bytes:
    shown = b" T* ".join(_literal(line) + b" Tj" for line in lines)
    return b"BT /F1 %d Tf %d TL 5 %g Td %s ET" % (FONT_SIZE, LEADING, height - 17, shown)


@dataclass(frozen=True)
class SignatureLines(BaseStampStyle):
    """A pyHanko stamp style drawing ``lines`` (already composed) with no border."""

    lines: tuple[str, ...] = field(default_factory=tuple)
    border_width: int = 0

    def create_stamp(self, writer: BasePdfFileWriter, box: BoxConstraints, text_params: dict) -> BaseStamp:
        return _LinesStamp(writer, self, box)


class _LinesStamp(BaseStamp):
    def _render_inner_content(self) -> list[bytes]:
        self.set_resource(
            ResourceType.FONT,
            generic.pdf_name("/F1"),
            generic.DictionaryObject({
                generic.pdf_name("/Type"): generic.pdf_name("/Font"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
                generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica-Bold"),
                generic.pdf_name("/Encoding"): generic.pdf_name("/WinAnsiEncoding"),
            }),
        )
        width, height = self.box.width, self.box.height
        lines = [wrapped for line in self.style.lines for wrapped in wrap(line, width - 10)]
        return [text_operators(lines, height)]
