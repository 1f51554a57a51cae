"""Sign-in, sign-out and personal API tokens."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.core.tenancy import for_user, get_for_user

from . import throttle
from .models import ApiToken, TokenAccess
from .services import create_api_token, revoke_api_token


class LoginView(auth_views.LoginView):
    """Sign-in, throttled (accounts/throttle.py): while an account or an address is locked the
    password is not checked at all, so no guess can succeed, and the answer says when to try."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        email = request.POST.get("username", "")
        wait = throttle.seconds_locked(email, throttle.client_address(request))
        if wait:
            # An unbound form: a bound one would check the password while it validates.
            form = self.get_form_class()(request, initial={"username": email})
            minutes = max(1, -(-wait // 60))
            refusal = (
                f"Too many failed sign-ins. Try again in {minutes} minute"
                f"{'s' if minutes > 1 else ''}, or reset the password with your administrator."
            )
            context = self.get_context_data(form=form, refusal=refusal)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        email = self.request.POST.get("username", "")
        if email:
            throttle.record_failure(email, throttle.client_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        throttle.clear(form.get_user().email)
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    pass


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “ERP nightly import”.")
    days_valid = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Leave empty for no expiry."
    )
    access = forms.ChoiceField(
        choices=TokenAccess.choices,
        initial=TokenAccess.READ,
        required=False,  # least privilege when not said
        help_text="Read only is enough for reporting and BI tools.",
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
                access=form.cleaned_data["access"] or TokenAccess.READ,
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
