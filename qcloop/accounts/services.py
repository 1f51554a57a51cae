"""State changes for people, organisations, engagements and API tokens."""

import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    ApiToken,
    Engagement,
    Membership,
    Organisation,
    OrganisationKind,
    TokenAccess,
    User,
    hash_token,
)

TOKEN_PREFIX = "qcl"
# Writing last_used_at on every request would turn each API read into a write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_organisation(*, name: str, kind: str, country: str, timezone: str = "UTC"):
    """A new buyer, agency or supplier organisation."""
    org = Organisation(
        name=name.strip(), kind=kind, country=country, timezone=timezone, slug=_unique_slug(name)
    )
    org.full_clean()
    org.save()
    if kind == OrganisationKind.AGENCY:
        from qcloop.inspections.library import install_default_checklists

        install_default_checklists(org)
    return org


@transaction.atomic
def add_member(
    *,
    organisation: Organisation,
    email: str,
    full_name: str,
    role: str,
    password: str | None = None,
    timezone: str | None = None,
    phone: str = "",
) -> User:
    """A new user in `organisation` with `role`; without a password they cannot sign in until
    one is set."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"A user with the email {email} already exists."})
    user = User(
        email=email,
        full_name=full_name.strip(),
        timezone=timezone or organisation.timezone,
        phone=phone,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.clean()
    user.save()
    membership.user = user
    membership.save()
    return user


@transaction.atomic
def engage_agency(*, agency: Organisation, buyer: Organisation) -> Engagement:
    """Record that `agency` serves `buyer`."""
    engagement = Engagement(agency=agency, buyer=buyer)
    engagement.clean()
    existing = Engagement.objects.filter(agency=agency, buyer=buyer).first()
    if existing:
        return existing
    engagement.save()
    return engagement


@transaction.atomic
def create_api_token(
    *, user: User, name: str, days_valid: int | None = None, access: str = TokenAccess.WRITE
):
    """A new personal API token. Returns (token, secret): the secret is shown once and then
    exists only as its hash."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that uses it."})
    if access not in TokenAccess.values:
        raise ValidationError({"access": f"Unknown access {access!r}: read or write."})
    if days_valid is not None and days_valid < 1:
        raise ValidationError({"days_valid": "A token must be valid for at least one day."})
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        token_hash=hash_token(secret),
        access=access,
        expires_at=timezone.now() + timedelta(days=days_valid) if days_valid else None,
    )
    return token, secret


@transaction.atomic
def revoke_api_token(*, token: ApiToken, by: User) -> ApiToken:
    if token.user_id != by.pk:
        raise ValidationError("Only the owner of a token can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_for_token(secret: str) -> User | None:
    """The active user behind an API token, or None for an unknown, revoked or expired one."""
    token = active_token(secret)
    return token.user if token else None


def active_token(secret: str) -> ApiToken | None:
    """The active token with this secret (its user active too), or None."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    if not secrets.compare_digest(token.token_hash, hash_token(secret)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
