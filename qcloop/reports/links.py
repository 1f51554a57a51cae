"""Signed links to one version's PDF, for recipients who have no qcloop account.

A recipient on the buyer's list is often not a qcloop user, so a link to the sign-in protected
PDF is of no use to them. Instead the mail carries a capability: the version's id and the
recipient's address, signed with the site's secret key and timestamped. Whoever holds the link
gets that one PDF, for QCLOOP_REPORT_LINK_DAYS days, and nothing else; there is no session and
no other object behind it. The address is in the token so that a link forwarded and leaked can
be traced to the mail it came from (it is signed, not encrypted: the recipient may read it)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing

from .models import ReportVersion

# A salt of its own: no other signed value of the site (sessions, password resets, other
# tokens) can pass for a PDF link, nor the other way round.
SALT = "qcloop.reports.pdf-link"
DEFAULT_LINK_DAYS = 30


def link_days() -> int:
    return getattr(settings, "QCLOOP_REPORT_LINK_DAYS", DEFAULT_LINK_DAYS)


def signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def pdf_token(version: ReportVersion, email: str, using: signing.TimestampSigner | None = None):
    """The token of the link that gives `email` the PDF of `version`."""
    return (using or signer()).sign_object({"v": version.pk, "e": email.strip().lower()})


def version_for_token(token: str) -> ReportVersion | None:
    """The version a token gives access to, or None when it is not one of ours, was altered,
    has expired or names a version that no longer exists (all alike to the holder)."""
    try:
        claim = signer().unsign_object(token, max_age=timedelta(days=link_days()))
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    version_id = claim.get("v") if isinstance(claim, dict) else None
    if not isinstance(version_id, int) or not isinstance(claim.get("e"), str):
        return None
    return (
        ReportVersion.objects.select_related("report__po", "report__milestone")
        .filter(pk=version_id)
        .first()
    )
