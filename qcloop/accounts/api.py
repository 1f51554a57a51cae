"""Who is calling the API, and the pieces every app's router shares.

Two ways in: a personal API token (`Authorization: Bearer qcl_...`) for integrations, and the
browser's session login (CSRF-checked on unsafe methods) for pages and the docs. Either way the
caller is `request.user`, and everything they read goes through the tenancy gate."""

from django.core.exceptions import ValidationError
from django.db.models import Model
from ninja import Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from qcloop.core.tenancy import for_user

from .models import TokenAccess
from .services import active_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# --- authentication ------------------------------------------------------------------------


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer qcl_...`: acts with the rights of the token's user."""

    def authenticate(self, request, token: str):
        found = active_token(token)
        if found is None:
            # A token was offered and it is wrong, revoked or expired: refuse outright rather
            # than fall back to a session cookie, which may be someone else's in this browser.
            raise AuthenticationError(message="Invalid, expired or revoked API token.")
        if found.access == TokenAccess.READ and request.method not in SAFE_METHODS:
            raise HttpError(403, "This API token is read-only: make a read-and-write token.")
        # The services and the tenancy gate read request.user, as for a session.
        request.user = found.user
        return found.user


class BrowserSessionAuth(SessionAuth):
    """Django's session login, for the browser; unsafe methods need the CSRF token."""

    def __call__(self, request):
        # Without a signed-in session there is nothing to forge, so no CSRF check: a client
        # with neither token nor session gets 401, not a confusing 403 about CSRF.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


# --- shared schemas ------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


ERROR_SCHEMAS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


def errors(*codes: int) -> dict:
    """The error answers a route can give, for its `response=` and so for the OpenAPI document."""
    return {code: ERROR_SCHEMAS[code] for code in codes}


# --- ids in payloads -----------------------------------------------------------------------


class PayloadIds:
    """Turns the ids in a request body into objects, each through the caller's tenancy gate.

    An id the caller cannot see is an error on its field, whether or not it exists: the API
    never hints at another tenant's records. Errors are collected so that one answer names
    every bad id."""

    def __init__(self, user):
        self.user = user
        self.errors: dict[str, str] = {}

    def pick(self, model: type[Model], pk: int | None, field: str):
        if pk is None:
            return None
        found = for_user(model, self.user).filter(pk=pk).first()
        if found is None:
            self.errors[field] = f"No {model._meta.verbose_name} {pk} that you can use."
        return found

    def check(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def own_organisation(user, kind: str):
    """The caller's organisation when it is of `kind`: the default party in a payload."""
    membership = user.membership
    if membership is not None and membership.kind == kind:
        return membership.organisation
    return None


# --- /api/me -------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    country: str
    timezone: str


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    timezone: str
    organisation: OrganisationOut | None
    role: str | None
    role_label: str | None


router = Router(tags=["accounts"])


@router.get("/me", response={200: MeOut, **errors(401)})
def me(request):
    """Who am I: the signed-in user, their organisation and their role in it."""
    user = request.user
    membership = user.membership
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "timezone": user.timezone,
        "organisation": membership.organisation if membership else None,
        "role": membership.role if membership else None,
        "role_label": membership.get_role_display() if membership else None,
    }
