"""Sign-in throttling: a password cannot be guessed faster than a person types.

Five wrong passwords for one account within 15 minutes lock that account's sign-in for the
rest of the window (its owner is told when to try again; the password is not even checked
meanwhile, so a guess cannot succeed). Thirty from one address lock that address, whatever
accounts it tries: a spray across many accounts is throttled too. A successful sign-in clears
the account's count."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_ADDRESS = 30
KEPT = timedelta(days=1)


def client_address(request) -> str | None:
    """The caller's address: the one the trusted proxy appended to X-Forwarded-For when qcloop
    runs behind one (anything to its left was written by the client and may be forged)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def seconds_locked(email: str, address: str | None, now=None) -> int:
    """0 when a sign-in may be tried, else how long until it may."""
    now = now or timezone.now()
    since = now - WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    waits = []
    for failures, limit in (
        (recent.filter(email=email.strip().lower()), PER_ACCOUNT),
        (recent.filter(address=address) if address else recent.none(), PER_ADDRESS),
    ):
        times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # Locked until the oldest of the last `limit` failures leaves the window.
            waits.append((times[-1] + WINDOW - now).total_seconds())
    return max(0, int(max(waits, default=0)) + (1 if waits else 0))


def record_failure(email: str, address: str | None) -> None:
    LoginFailure.objects.create(email=email.strip().lower()[:254], address=address)


def clear(email: str) -> None:
    LoginFailure.objects.filter(email=email.strip().lower()).delete()


def forget_old(now=None) -> int:
    deleted, _ = LoginFailure.objects.filter(at__lt=(now or timezone.now()) - KEPT).delete()
    return deleted
