"""Is this PDF one we published, and is it still the current version? Answered for anyone
holding the file (or its verification code): no sign-in, and nothing said beyond what the
document itself shows."""

import hashlib
import re
from dataclasses import dataclass

from .models import ReportVersion

CODE = re.compile(r"^[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_UPLOAD = 100 * 1024 * 1024


@dataclass
class Verdict:
    status: str  # "current", "superseded" or "unknown"
    message: str
    version: ReportVersion | None = None
    current: ReportVersion | None = None
    sha256: str = ""

    def to_dict(self) -> dict:
        data = {"status": self.status, "message": self.message, "sha256": self.sha256 or None}
        if self.version is not None:
            data["document"] = _describe(self.version)
        if self.current is not None:
            data["current"] = _describe(self.current)
        return data


def _describe(version: ReportVersion) -> dict:
    report = version.report
    return {
        "po": report.po.number,
        "supplier": report.po.supplier.name,
        "report": report.title,
        "version": version.number,
        "code": version.code,
        "published_at": version.published_at.isoformat(),
        "superseded_at": version.superseded_at.isoformat() if version.superseded_at else None,
        "pdf_sha256": version.pdf_sha256 or None,
        "content_sha256": version.content_sha256,
        "correction_reason": version.correction_reason or None,
    }


def _versions():
    return ReportVersion.objects.select_related("report__po__supplier", "report__milestone")


def by_code(code: str) -> Verdict:
    code = (code or "").strip().upper().replace(" ", "")
    if not CODE.match(code):
        return Verdict("unknown", "That is not a verification code: it looks like XXXX-XXXX-XXXX.")
    return _verdict(_versions().filter(code=code).first(), "")


def by_sha256(digest: str) -> Verdict:
    digest = (digest or "").strip().lower()
    if not SHA256.match(digest):
        return Verdict("unknown", "A SHA-256 is 64 hexadecimal characters.")
    version = _versions().filter(pdf_sha256=digest).first()
    return _verdict(version, digest)


def by_file(chunks) -> Verdict:
    """`chunks`: the uploaded file's bytes, in pieces (hashing never holds the whole file)."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_UPLOAD:
            return Verdict("unknown", "The file is larger than any report we publish.")
        digest.update(chunk)
    return by_sha256(digest.hexdigest())


def _verdict(version: ReportVersion | None, digest: str) -> Verdict:
    if version is None:
        return Verdict(
            "unknown",
            "No report published by qcloop has this fingerprint. The file was changed, or it "
            "was not issued here: do not rely on it.",
            sha256=digest,
        )
    what = f"{version.report.title} of PO {version.report.po.number}, version {version.number}"
    if version.is_current:
        return Verdict("current", f"Authentic and current: the {what}.", version, version, digest)
    current = version.report.current
    newer = f"version {current.number}" if current else "a newer version"
    return Verdict(
        "superseded",
        f"Authentic but superseded: the {what} was replaced by {newer}. Use the current one.",
        version,
        current,
        digest,
    )
