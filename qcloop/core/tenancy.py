"""The tenancy gate: one `for_user` read scope per model.

Every page and API route reads domain objects through `for_user(Model, user)` or
`get_for_user(Model, user, ...)`, never through an unscoped `Model.objects`. Each app's
`selectors.py` registers the gate of each of its models with `@gate(Model)`. A model without a
gate cannot be read at all, and the test suite checks that every domain model has one.

An object outside the user's scope answers 404, never 403: a hint that it exists is a leak.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

_gates: dict[type[Model], Callable] = {}


def gate(model: type[Model]):
    """Register the function that scopes `model` for an authenticated user."""

    def register(scope: Callable) -> Callable:
        if model in _gates:
            raise ImproperlyConfigured(f"{model.__name__} already has a tenancy gate")
        _gates[model] = scope
        return scope

    return register


def gated_models() -> set[type[Model]]:
    return set(_gates)


def for_user(model: type[Model], user) -> QuerySet:
    """The objects of `model` that `user`'s organisation is party to."""
    try:
        scope = _gates[model]
    except KeyError:
        raise ImproperlyConfigured(f"{model.__name__} has no tenancy gate") from None
    if user is None or not user.is_authenticated or not user.is_active:
        return model._default_manager.none()
    return scope(user)


def get_for_user(model: type[Model], user, **lookup) -> Model:
    """One object within the user's scope, or Http404 whether it exists or not."""
    try:
        return for_user(model, user).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from None
