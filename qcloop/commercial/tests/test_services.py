"""The recommendation from a PO's real history, quotes issued and accepted, fee schedules and
retainers, through the services."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qcloop.accounts.models import Role
from qcloop.commercial.models import FeeSchedule, Quote, Retainer
from qcloop.commercial.risk import Service
from qcloop.commercial.services import (
    accept_quote,
    issue_quote,
    recommend_service,
    save_fee_schedule,
    save_retainer,
)
from qcloop.orders.services import update_purchase_order
from qcloop.testing import next_po_of, submit_inspection_of

pytestmark = pytest.mark.django_db
D = Decimal
ALL = ["IPC", "DUPRO", "PSI", "CLI"]


def coordinator(world):
    return world.user(Role.COORDINATOR)


def test_the_first_po_with_a_supplier_gets_dupro_and_psi_the_next_psi_only(world):
    first = recommend_service(by=world.user(Role.BUYER_MANAGER), po=world.po)
    # First PO (3); a lamp for the US lists UL and FCC, neither a safety regime here; FOB
    # 48,250 USD is under 50,000: score 3, DUPRO + PSI.
    assert (first.service, first.score) == (Service.DUPRO_PSI, 3)
    assert [r.trigger for r in first.reasons] == ["first_po"]
    second = next_po_of(world).po
    assert recommend_service(by=coordinator(world), po=second).service == Service.PSI_ONLY


def test_flags_retailer_and_fob_add_up_to_full_monitoring(world):
    po = next_po_of(world).po
    po = update_purchase_order(
        by=world.user(Role.BUYER_MANAGER),
        po=po,
        changes={"hero_sku": True, "retailer_compliance": "Target", "fob_value": D("60000")},
    )
    # hero 2 + retailer 2 + FOB 2 = 6 >= 5.
    answer = recommend_service(by=coordinator(world), po=po)
    assert answer.service == Service.FULL and answer.score == 6
    assert {r.trigger for r in answer.reasons} == {
        "hero_sku",
        "retailer_compliance",
        "fob_above_threshold",
    }


def test_a_published_failure_and_its_open_capa_raise_the_next_po(world):
    from qcloop.reports.models import Report
    from qcloop.reports.services import approve

    psi = submit_inspection_of(world, "PSI", defects=[("critical", 1, "Exposed live wire")])
    approve(by=world.qc_lead, report=Report.objects.get(milestone=psi), lead_summary="Failed")
    psi.refresh_from_db()
    assert psi.result == "fail"
    answer = recommend_service(by=coordinator(world), po=next_po_of(world).po)
    weights = {r.trigger: r.weight for r in answer.reasons}
    assert weights["past_failures"] == 1 and weights["open_capas"] >= 1
    assert f"PSI of PO {world.po.number}" in next(
        r.fact for r in answer.reasons if r.trigger == "past_failures"
    )
    assert answer.service == Service.DUPRO_PSI


def test_a_foreign_currency_fob_is_compared_only_with_a_rate(world):
    po = update_purchase_order(
        by=world.user(Role.BUYER_MANAGER),
        po=next_po_of(world).po,
        changes={"currency": "EUR", "fob_value": D("48000")},
    )
    unrated = recommend_service(by=coordinator(world), po=po)
    assert unrated.score == 0 and "no EUR rate" in unrated.notes[0]
    save_fee_schedule(
        by=coordinator(world), agency=world.agency, values={"exchange_rates": "EUR=1.08"}
    )
    # 48,000 x 1.08 = 51,840 USD > 50,000.
    rated = recommend_service(by=coordinator(world), po=po)
    assert [r.trigger for r in rated.reasons] == ["fob_above_threshold"]


def test_suppliers_and_inspectors_see_no_prices(world):
    for role in (Role.SUPPLIER_USER, Role.INSPECTOR):
        with pytest.raises(PermissionDenied):
            recommend_service(by=world.user(role), po=world.po)


def test_an_issued_quote_keeps_its_figures_when_fees_change(world):
    quote = issue_quote(by=coordinator(world), po=world.po, milestones=ALL)
    # 280 + 300 + 380 + 230 = 1,190; 25 % off = 892.50.
    assert (quote.separate_total, quote.bundle_total) == (D("1190.00"), D("892.50"))
    assert quote.reference == f"Q-{world.po.number}-1" and quote.service == "dupro_psi"
    bundle = next(o for o in quote.options if o["name"] == "bundle")
    assert (bundle["saving"], bundle["saving_percent"]) == ("297.50", "25.00")
    accept_quote(by=world.user(Role.BUYER_MANAGER), quote=quote, option="bundle")
    save_fee_schedule(by=coordinator(world), agency=world.agency, values={"psi_fee": "500"})
    quote.refresh_from_db()
    assert quote.separate_total == D("1190.00") and quote.accepted_option == "bundle"
    assert quote.fees["fees"]["PSI"] == "380.00"
    # A new quote has the new fee: 280 + 300 + 500 + 230 = 1,310.
    again = issue_quote(by=coordinator(world), po=world.po, milestones=ALL)
    assert again.number == 2 and again.separate_total == D("1310.00")
    with pytest.raises(ValidationError) as accepted:
        accept_quote(by=world.user(Role.BUYER_MANAGER), quote=quote, option="separate")
    assert "status" in accepted.value.message_dict


def test_the_recommended_milestones_are_quoted_unless_told(world):
    quote = issue_quote(by=world.qc_lead, po=world.po)
    # DUPRO + PSI: 300 + 380 = 680, too few milestones for the bundle.
    assert quote.milestones == ["DUPRO", "PSI"] and quote.separate_total == D("680.00")
    assert quote.bundle_total is None


def test_who_may_issue_and_accept(world):
    for role in (Role.BUYER_MANAGER, Role.INSPECTOR, Role.SUPPLIER_USER):
        with pytest.raises(PermissionDenied):
            issue_quote(by=world.user(role), po=world.po)
    quote = issue_quote(by=coordinator(world), po=world.po)
    for role in (Role.BUYER_VIEWER, Role.COORDINATOR):
        with pytest.raises(PermissionDenied):
            accept_quote(by=world.user(role), quote=quote, option="separate")
    with pytest.raises(ValidationError) as error:
        accept_quote(by=world.user(Role.BUYER_MANAGER), quote=quote, option="bundle")
    assert "option" in error.value.message_dict  # not offered for two milestones
    assert Quote.objects.get().status == "issued"


def test_bad_milestones_and_validity_name_the_field(world):
    for kwargs, field in (
        ({"milestones": ["FRI"]}, "milestones"),
        ({"valid_days": 400}, "valid_days"),
    ):
        with pytest.raises(ValidationError) as error:
            issue_quote(by=coordinator(world), po=world.po, **kwargs)
        assert field in error.value.message_dict
    assert not Quote.objects.exists()


def test_a_country_schedule_beats_the_default(world):
    save_fee_schedule(by=coordinator(world), agency=world.agency, values={"psi_fee": "390"})
    save_fee_schedule(
        by=coordinator(world),
        agency=world.agency,
        values={"country": "cn", "psi_fee": "350", "bundle_discount": "30"},
    )
    quote = issue_quote(by=coordinator(world), po=world.po, milestones=ALL)
    # The factory is in CN: 280 + 300 + 350 + 230 = 1,160; 30 % off = 812.00.
    assert (quote.separate_total, quote.bundle_total) == (D("1160.00"), D("812.00"))
    assert quote.fees["country"] == "CN"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"country": "XX"}, "country", "Unknown country"),
        ({"bundle_discount": "45"}, "bundle_discount", "between 20 and 30 %, not 45 %"),
        ({"psi_fee": "-10"}, "psi_fee", "cannot be negative"),
        ({"ipc_fee": "abc"}, "ipc_fee", "must be a number"),
        ({"currency": "XYZ"}, "currency", "Unknown currency"),
        ({"exchange_rates": "EUR=0"}, "exchange_rates", "above 0"),
    ],
)
def test_bad_fees_name_the_field_and_change_nothing(world, values, field, words):
    schedule = save_fee_schedule(by=coordinator(world), agency=world.agency, values={})
    with pytest.raises(ValidationError) as error:
        save_fee_schedule(
            by=coordinator(world), agency=world.agency, values=values, schedule=schedule
        )
    assert words in " ".join(error.value.message_dict[field])
    schedule.refresh_from_db()
    assert (schedule.country, schedule.psi_fee, schedule.bundle_discount) == ("", D("380"), D("25"))
    assert FeeSchedule.objects.count() == 1


def test_only_coordinators_and_admins_set_fees(world, other_world):
    for user in (world.qc_lead, world.user(Role.BUYER_MANAGER), coordinator(other_world)):
        with pytest.raises(PermissionDenied):
            save_fee_schedule(by=user, agency=world.agency, values={})
    save_fee_schedule(by=world.user(Role.ADMIN), agency=world.agency, values={"country": "VN"})
    with pytest.raises(ValidationError) as twice:
        save_fee_schedule(by=coordinator(world), agency=world.agency, values={"country": "VN"})
    assert "country" in twice.value.message_dict


def test_a_percentage_retainer_of_six_pos_a_year_is_refused(world):
    values = {"plan": "percentage", "percentage": "5", "monthly_fee": "1500", "pos_per_year": "6"}
    with pytest.raises(ValidationError) as error:
        save_retainer(by=coordinator(world), agency=world.agency, buyer=world.buyer, values=values)
    assert "10+ POs a year, not 6" in error.value.message_dict["pos_per_year"][0]
    assert not Retainer.objects.exists()


def test_retainer_clients_see_their_terms_beside_the_bundle(world, other_world):
    with pytest.raises(ValidationError) as stranger:
        save_retainer(
            by=coordinator(world),
            agency=world.agency,
            buyer=other_world.buyer,
            values={"plan": "bundled"},
        )
    assert "buyer" in stranger.value.message_dict
    values = {"plan": "percentage", "percentage": "1", "monthly_fee": "600", "pos_per_year": "24"}
    save_retainer(by=coordinator(world), agency=world.agency, buyer=world.buyer, values=values)
    quote = issue_quote(by=coordinator(world), po=world.po, milestones=ALL)
    # 1 % of 48,250 = 482.50; 600 x 12 / 24 = 300 a PO: 782.50, saving 1,190 - 782.50 = 407.50.
    assert quote.retainer_total == D("782.50")
    retainer = next(o for o in quote.options if o["name"] == "retainer")
    assert (retainer["saving"], retainer["saving_percent"]) == ("407.50", "34.24")
    save_retainer(
        by=coordinator(world), agency=world.agency, buyer=world.buyer, values={"plan": "bundled"}
    )
    assert issue_quote(by=coordinator(world), po=world.po).retainer_total == D("0.00")
