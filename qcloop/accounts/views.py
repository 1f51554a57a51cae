"""Sign-in, sign-out and personal API tokens."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.core.tenancy import for_user, get_for_user

from .models import ApiToken
from .services import create_api_token, revoke_api_token


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “ERP nightly import”.")
    days_valid = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Leave empty for no expiry."
    )


@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _, secret = create_api_token(
                user=request.user,
                name=form.cleaned_data["name"],
                days_valid=form.cleaned_data["days_valid"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "secret": secret, "tokens": for_user(ApiToken, request.user)},
    )


@login_required
@require_POST
def revoke_token(request, pk: int):
    token = get_for_user(ApiToken, request.user, pk=pk)
    revoke_api_token(token=token, by=request.user)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("accounts:tokens")
