"""Escalation pages: the history (per buyer, filtered by PO or supplier), one escalation with
every notification and attempt, acknowledging it and replaying a notification."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from qcloop.accounts.models import Role
from qcloop.core.tenancy import for_user, get_for_user
from qcloop.orders.models import PurchaseOrder, Supplier

from . import links, services
from .models import (
    Channel,
    ChatStyle,
    Escalation,
    EscalationContact,
    Notification,
)
from .selectors import notifications_with_tries


@login_required
def escalation_list(request):
    rows = for_user(Escalation, request.user).select_related("po", "supplier", "milestone")
    po = supplier = None
    if request.GET.get("po", "").isdigit():
        po = get_for_user(PurchaseOrder, request.user, pk=int(request.GET["po"]))
        rows = rows.filter(po=po)
    if request.GET.get("supplier", "").isdigit():
        supplier = get_for_user(Supplier, request.user, pk=int(request.GET["supplier"]))
        rows = rows.filter(supplier=supplier)
    if request.GET.get("open"):
        rows = rows.filter(acknowledged_at__isnull=True)
    return render(
        request,
        "alerts/escalation_list.html",
        {"rows": rows[:300], "po": po, "supplier": supplier, "open": request.GET.get("open")},
    )


@login_required
def escalation_detail(request, pk: int):
    escalation = get_for_user(Escalation, request.user, pk=pk)
    notifications = notifications_with_tries(request.user, escalation)
    return render(
        request,
        "alerts/escalation_detail.html",
        {
            "escalation": escalation,
            "notifications": notifications,
            "may_act": services.may_acknowledge(request.user, escalation),
        },
    )


@login_required
@require_POST
def acknowledge(request, pk: int):
    escalation = get_for_user(Escalation, request.user, pk=pk)
    if services.acknowledge(escalation, by=request.user, via="page"):
        messages.success(request, "Acknowledged: nobody else will be called for it.")
    else:
        messages.info(request, "It was acknowledged already.")
    return redirect("alerts:detail", pk=escalation.pk)


@login_required
@require_POST
def replay(request, pk: int, notification: int):
    escalation = get_for_user(Escalation, request.user, pk=pk)
    target = get_for_user(Notification, request.user, pk=notification, escalation=escalation)
    if services.replay(target, by=request.user):
        messages.success(request, f"Sending again to {target.target}.")
    else:
        messages.info(request, "It is being sent right now.")
    return redirect("alerts:detail", pk=escalation.pk)


def ack_link(request, token: str):
    """From a mail or chat message, no sign-in: GET shows what it is about (link scanners open
    links, so a GET changes nothing); POST acknowledges."""
    content = links.read_ack_token(token)
    notification = None
    if content is not None:
        notification = (
            Notification.objects.select_related("escalation__po")
            .filter(pk=content["n"], escalation_id=content["e"])
            .first()
        )
    if notification is None:
        return render(request, "alerts/ack_link.html", {"invalid": True}, status=404)
    escalation = notification.escalation
    done = None
    if request.method == "POST":
        who = notification.target_name or notification.target
        done = services.acknowledge(escalation, via=f"link sent to {who}")
        escalation.refresh_from_db()
    return render(
        request,
        "alerts/ack_link.html",
        {"escalation": escalation, "done": done, "token": token},
    )


@login_required
def escalation_settings(request):
    """The buyer's escalation contacts, channels and policy. Others are not a buyer: 404."""
    membership = request.user.membership
    if membership is None or not membership.is_buyer:
        raise Http404("Escalation settings are a buyer's.")
    buyer = membership.organisation
    errors, posted = {}, {}
    if request.method == "POST":
        posted = request.POST
        try:
            _change_settings(request.user, request.POST)
        except ValidationError as error:
            errors = error.message_dict
        else:
            messages.success(request, "Saved.")
            return redirect("alerts:settings")
    return render(
        request,
        "alerts/settings.html",
        {
            "buyer": buyer,
            "policy": services.policy_of(buyer),
            "contacts": services.contacts_of(buyer),
            "named": for_user(EscalationContact, request.user).exists(),
            "channels": for_user(Channel, request.user),
            "may_edit": membership.role in (Role.BUYER_MANAGER, Role.ADMIN),
            "errors": errors,
            "posted": posted,
            "chat_styles": ChatStyle.choices,
        },
        status=422 if errors else 200,
    )


def _whole(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        raise ValidationError({field: f"{value!r} is not a whole number."}) from None


def _change_settings(user, data) -> None:
    action = data.get("action")
    if action == "policy":
        services.save_policy(
            by=user,
            ack_minutes=_whole(data.get("ack_minutes", ""), "ack_minutes"),
            late_days=_whole(data.get("late_days", ""), "late_days"),
            email=data.get("email") == "1",
        )
    elif action == "add_contact":
        services.add_contact(
            by=user,
            name=data.get("name", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            level=_whole(data.get("level", "1"), "level"),
        )
    elif action == "remove_contact":
        services.remove_contact(by=user, contact_id=_whole(data.get("id", ""), "id"))
    elif action == "add_channel":
        services.add_channel(
            by=user,
            kind=data.get("kind", ""),
            name=data.get("name", ""),
            url=data.get("url", ""),
            chat_style=data.get("chat_style", ""),
            secret=data.get("secret", ""),
        )
    elif action in ("pause_channel", "resume_channel"):
        services.set_channel_active(
            by=user,
            channel_id=_whole(data.get("id", ""), "id"),
            active=action == "resume_channel",
        )
    else:
        raise ValidationError({"action": f"Unknown action {action!r}."})
