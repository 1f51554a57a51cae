"""Accredited lab tests, in plain Python (no Django): which labs and standards qcloop knows,
how a failed test is classed, how measured values are read, and whether a certificate file is
really a PDF.

A lab test replaces checklist items at a milestone (an LM-79 photometric report in place of
the inspector's lux-meter check at the IPC); how its result decides the milestone's is in
`qcloop.inspections.rules.judge_inspection`.
"""

import re
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# --------------------------------------------------------------------------------------------
# Labs

OTHER_LAB = "other"
LABS = {
    "sgs": "SGS",
    "intertek": "Intertek",
    "tuv_sud": "TÜV SÜD",
    "tuv_rheinland": "TÜV Rheinland",
    "bureau_veritas": "Bureau Veritas",
    OTHER_LAB: "Other accredited lab",
}


def lab_display(lab: str, name: str = "", accreditation: str = "") -> str:
    """The lab as a report names it: "SGS", or "Shenzhen Lumen Lab (CNAS L1234)"."""
    if lab != OTHER_LAB:
        return LABS[lab]
    return f"{name} (accreditation {accreditation})"


def check_lab(lab: str, name: str, accreditation: str) -> dict[str, str]:
    """Problems with the lab, by field: a known lab, or another one named with its
    accreditation number (ISO/IEC 17025 labs have one: CNAS L1234, A2LA 1234.01, ...)."""
    if lab not in LABS:
        return {"lab": f"Choose one of {', '.join(LABS.values())}; {lab!r} is not one."}
    problems = {}
    if lab == OTHER_LAB:
        if not name.strip():
            problems["lab_name"] = "Name the accredited lab."
        if not accreditation.strip():
            problems["accreditation_number"] = (
                "Give the lab's accreditation number (e.g. CNAS L1234): only accredited "
                "labs replace checklist items."
            )
    return problems


# --------------------------------------------------------------------------------------------
# Standards


@dataclass(frozen=True)
class Standard:
    """A test standard qcloop knows. `safety`: it protects the user's health or safety (a
    failure is a critical finding); otherwise it measures performance (a major finding)."""

    code: str
    title: str
    categories: tuple[str, ...]
    safety: bool


_LIGHTING = ("lighting",)
_TOYS = ("toys",)
_KITCHEN = ("food_contact", "furniture_home")
STANDARDS: dict[str, Standard] = {
    s.code: s
    for s in (
        Standard(
            "LM-79", "IES LM-79 photometry and electrical measurement of SSL", _LIGHTING, False
        ),
        Standard("LM-80", "IES LM-80 lumen maintenance of LED packages", _LIGHTING, False),
        Standard("IEC 62471", "IEC 62471 photobiological safety of lamps", _LIGHTING, True),
        Standard("EN 60598", "EN 60598 luminaire safety", _LIGHTING, True),
        Standard("EN 71-1", "EN 71-1 toy safety: mechanical and physical", _TOYS, True),
        Standard("EN 71-2", "EN 71-2 toy safety: flammability", _TOYS, True),
        Standard("EN 71-3", "EN 71-3 toy safety: migration of elements", _TOYS, True),
        Standard("ASTM F963", "ASTM F963 toy safety (US)", _TOYS, True),
        Standard("CPSIA lead", "CPSIA total lead in substrate and paint", _TOYS, True),
        Standard("CPSIA phthalates", "CPSIA phthalates in children's products", _TOYS, True),
        Standard("FDA 21 CFR", "FDA 21 CFR food-contact substances", _KITCHEN, True),
        Standard("LFGB", "LFGB food-contact migration (Germany)", _KITCHEN, True),
    )
}


def standards_for(category: str) -> list[Standard]:
    """The standards of a product category first, then the others (a toy lamp is both)."""
    own = [s for s in STANDARDS.values() if category in s.categories]
    return own + [s for s in STANDARDS.values() if category not in s.categories]


def standard_warning(code: str, category: str) -> str | None:
    """A warning for a standard typed in by hand or listed for another category: kept, but
    the QC lead should look twice."""
    standard = STANDARDS.get(code)
    if standard is None:
        return (
            f"{code!r} is not on qcloop's reference list: check the standard's number on the "
            "certificate, and say whether it is a safety standard."
        )
    if category not in standard.categories:
        return f"{code} is listed for {', '.join(standard.categories)}, not for {category}."
    return None


MAJOR, CRITICAL = "major", "critical"


def finding_class(code: str, safety: bool = False) -> str:
    """The class of a failed lab test: critical for a safety standard (lead in paint, a
    toy's small parts, photobiological risk: the lot must not ship), major for a performance
    standard (flux or lumen maintenance below spec). A standard off the list is a safety
    standard when the QC lead says so."""
    standard = STANDARDS.get(code)
    is_safety = standard.safety if standard is not None else safety
    return CRITICAL if is_safety else MAJOR


# --------------------------------------------------------------------------------------------
# Measured values

_MEASURED = re.compile(r"^\s*(?P<name>[^:=]+?)\s*[:=]\s*(?P<value>[-+]?[\d.,]+)\s*(?P<unit>.*)$")
MAX_MEASURED = 50


def parse_measured(text: str) -> list[dict[str, str]]:
    """Measured values, one a line as "Luminous flux: 812 lm" (name, number, unit; a limit in
    brackets may follow the unit). Raises ValueError naming the line that is not one."""
    values = []
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_MEASURED:
        raise ValueError(f"give at most {MAX_MEASURED} measured values, not {len(lines)}")
    for number, line in enumerate(lines, start=1):
        match = _MEASURED.match(line)
        if not match:
            raise ValueError(
                f"line {number} ({line.strip()!r}) is not 'name: value unit', "
                "e.g. 'Luminous flux: 812 lm'"
            )
        raw = match["value"].replace(",", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"line {number}: {match['value']!r} is not a number") from None
        if not value.is_finite():
            raise ValueError(f"line {number}: {match['value']!r} is not a finite number")
        values.append({"name": match["name"], "value": str(value), "unit": match["unit"].strip()})
    return values


def measured_text(values: list[dict[str, str]]) -> str:
    return "\n".join(f"{v['name']}: {v['value']} {v['unit']}".rstrip() for v in values)


# --------------------------------------------------------------------------------------------
# Certificates: is it a PDF?

MAX_CERTIFICATE_BYTES = 20 * 1024 * 1024
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_STREAM = re.compile(rb"<<(?P<dict>(?:(?!>>\s*stream).){0,2000}?)>>\s*stream\r?\n", re.DOTALL)
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


class CertificateError(ValueError):
    """The file is not a certificate qcloop can keep; the message says what is wrong."""


@dataclass(frozen=True)
class PdfFacts:
    version: str  # "1.7"
    pages: int
    size_bytes: int


def check_pdf(data: bytes, max_bytes: int = MAX_CERTIFICATE_BYTES) -> PdfFacts:
    """Whether `data` is a whole PDF, read without a PDF library: the %PDF- header, the
    %%EOF trailer with a startxref pointing at a cross-reference table or stream, and at
    least one page object (also inside compressed object streams). Raises CertificateError
    naming the problem: empty, too large, not a PDF, cut short, no pages."""
    if not data:
        raise CertificateError("the file is empty")
    if len(data) > max_bytes:
        raise CertificateError(
            f"the file has {len(data):,} bytes; a certificate may have at most "
            f"{max_bytes:,} ({max_bytes // (1024 * 1024)} MB)"
        )
    header = re.match(rb"%PDF-(\d\.\d)", data[:1024].lstrip(b"\r\n\t "))
    if header is None:
        raise CertificateError(
            f"the file is not a PDF (it starts with {data[:8]!r}, not %PDF-): send the lab's "
            "certificate as a PDF"
        )
    tail = data[-2048:]
    end = _STARTXREF.search(tail)
    if end is None:
        raise CertificateError(
            "the PDF is incomplete or damaged: it does not end with startxref and %%EOF "
            "(cut short in the upload?)"
        )
    offset = int(end[1])
    if offset >= len(data) or not _is_xref(data[offset : offset + 64]):
        raise CertificateError(
            "the PDF is damaged: its cross-reference offset does not point at a "
            "cross-reference table"
        )
    pages = _count_pages(data)
    if pages == 0:
        raise CertificateError("the PDF has no pages")
    return PdfFacts(version=header[1].decode(), pages=pages, size_bytes=len(data))


def _is_xref(start: bytes) -> bool:
    text = start.lstrip()
    return text.startswith(b"xref") or re.match(rb"\d+\s+\d+\s+obj", text) is not None


def _count_pages(data: bytes) -> int:
    pages = len(_PAGE.findall(data))
    # Object streams (PDF 1.5+) hold page objects compressed: look inside them too.
    for match in _STREAM.finditer(data):
        header = match["dict"]
        if b"/ObjStm" not in header:
            continue
        length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", header)
        start = match.end()
        body = data[start : start + int(length[1])] if length else data[start : start + 10**7]
        if b"/FlateDecode" in header:
            try:
                body = zlib.decompressobj().decompress(body)
            except zlib.error:
                raise CertificateError(
                    "the PDF is damaged: a compressed object stream does not decompress"
                ) from None
        pages += len(_PAGE.findall(body))
    return pages


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with `lines` of text, written by hand with a correct cross-reference
    table: the demo's certificates, and tests that need a real PDF without WeasyPrint."""
    text = "".join(
        f"BT /F1 11 Tf 56 {780 - 16 * n} Td ({_pdf_escape(line)}) Tj ET\n"
        for n, line in enumerate(lines)
    ).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
