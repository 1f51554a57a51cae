"""What an inspector records and what qcloop concludes: hand-checked results, and every bad
input refused with its field named and nothing stored."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from qcloop.inspections.models import (
    ChecklistVersion,
    Defect,
    MeasurementChart,
    MilestoneStatus,
    SwitchingStream,
)
from qcloop.inspections.recording import (
    answer_check,
    record_carton_check,
    record_defect,
    record_loading,
    record_production,
    record_reading,
    submit_inspection,
)
from qcloop.inspections.services import transition_milestone
from qcloop.testing import start_inspection

pytestmark = pytest.mark.django_db


def start(world, kind: str, **sampling):
    return start_inspection(world, kind, **sampling)


def answer_all(world, milestone, result="pass"):
    for item in milestone.checklist.items:
        answer_check(
            by=world.inspector,
            milestone=milestone,
            item_code=item["code"],
            result=result,
            value="1" if item["answer"] == "number" else "",
        )


def count_production(world, milestone, produced=3000, packed=3000):
    record_production(
        by=world.inspector,
        milestone=milestone,
        counted_on=world.po.ex_factory_date - timedelta(days=3),
        produced=produced,
        finished=packed,
        packed=packed,
    )


def test_booking_pins_the_checklist_version_current_then(world):
    psi = start(world, "PSI")
    assert psi.checklist is not None and psi.checklist.template.category == "lighting"
    template = psi.checklist.template
    ChecklistVersion.objects.create(template=template, number=2, items=psi.checklist.items[:3])
    psi.refresh_from_db()
    assert psi.checklist.number == 1  # editing the template changes no past inspection


def test_a_clean_psi_passes(world):
    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector, milestone=psi, quantity=7, description="Scuff", defect_class="major"
    )  # Ac 7 at AQL 2.5: accepted
    psi = submit_inspection(by=world.inspector, milestone=psi)
    assert (psi.status, psi.result) == (MilestoneStatus.SUBMITTED, "pass")
    assert psi.result_detail["per_class"]["major"]["found"] == 7


def test_one_critical_defect_fails_whatever_the_rest(world):
    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector,
        milestone=psi,
        quantity=1,
        description="Live part exposed",
        defect_class="critical",
    )
    psi = submit_inspection(by=world.inspector, milestone=psi)
    assert psi.result == "fail"
    assert any("critical" in reason for reason in psi.result_detail["reasons"])


def test_majors_at_the_rejection_number_fail(world):
    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector, milestone=psi, quantity=8, description="Dent", defect_class="major"
    )  # Re 8
    assert submit_inspection(by=world.inspector, milestone=psi).result == "fail"


def test_a_failed_mandatory_check_fails_or_pends_as_the_checklist_says(world):
    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    pending_item = next(
        i for i in psi.checklist.items if i["mandatory"] and i["on_fail"] == "pending"
    )
    answer_check(by=world.inspector, milestone=psi, item_code=pending_item["code"], result="fail")
    assert submit_inspection(by=world.inspector, milestone=psi).result == "pending"


def test_submission_names_what_is_missing_and_stores_nothing(world):
    psi = start(world, "PSI")
    with pytest.raises(ValidationError) as caught:
        submit_inspection(by=world.inspector, milestone=psi)
    messages = caught.value.message_dict["missing"]
    assert any("Production status" in m for m in messages)
    assert any(m.startswith("Not recorded yet: PSI-") for m in messages)
    psi.refresh_from_db()
    assert (psi.status, psi.result) == (MilestoneStatus.IN_PROGRESS, "")


def test_a_second_submission_is_refused(world):
    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    submit_inspection(by=world.inspector, milestone=psi)
    with pytest.raises(ValidationError, match="already been submitted"):
        submit_inspection(by=world.inspector, milestone=psi)


def test_more_defects_than_units_sampled_is_refused(world):
    psi = start(world, "PSI")
    record_defect(
        by=world.inspector, milestone=psi, quantity=120, description="a", defect_class="minor"
    )
    with pytest.raises(ValidationError) as caught:
        record_defect(
            by=world.inspector, milestone=psi, quantity=6, description="b", defect_class="minor"
        )
    assert "126 minor defects in a sample of 125 units" in caught.value.message_dict["quantity"][0]
    assert Defect.objects.filter(milestone=psi).count() == 1


def test_a_retried_record_is_not_a_duplicate(world):
    psi = start(world, "PSI")
    key = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    first = record_defect(
        by=world.inspector,
        milestone=psi,
        quantity=2,
        description="Stain",
        defect_class="minor",
        uuid=key,
    )
    again = record_defect(
        by=world.inspector,
        milestone=psi,
        quantity=2,
        description="Stain",
        defect_class="minor",
        uuid=key,
    )
    assert first.pk == again.pk and psi.defects.count() == 1


def chart(world) -> MeasurementChart:
    return MeasurementChart.objects.create(
        product=world.product,
        size="one size",
        points=[
            {"code": "H", "name": "Height", "spec": "45", "minus": "0.5", "plus": "1", "unit": "cm"}
        ],
    )


def test_readings_out_of_tolerance_become_one_defect_per_unit(world):
    psi = start(world, "PSI")
    lamp = chart(world)
    for unit, value in [(1, "45.2"), (2, "46.5"), (3, "44.0"), (4, "450 mm")]:
        number, _, unit_name = value.partition(" ")
        record_reading(
            by=world.inspector,
            milestone=psi,
            chart=lamp,
            sample_unit=unit,
            point_code="H",
            value=number,
            unit=unit_name or "cm",
        )
    auto = psi.defects.get(from_measurements=True)
    assert (auto.quantity, auto.defect_class) == (2, "major")  # units 2 and 3
    record_reading(
        by=world.inspector,
        milestone=psi,
        chart=lamp,
        sample_unit=2,
        point_code="H",
        value="45.5",
        unit="cm",
    )  # re-measured: back in tolerance
    assert psi.defects.get(from_measurements=True).quantity == 1


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("45", "kg", "cannot be compared"),
        ("-3", "cm", ""),
        ("4500", "cm", ""),
        ("abc", "cm", "not a number"),
    ],
)
def test_a_reading_in_the_wrong_unit_or_absurd_range_is_refused(world, value, unit, message):
    psi = start(world, "PSI")
    with pytest.raises(ValidationError) as caught:
        record_reading(
            by=world.inspector,
            milestone=psi,
            chart=chart(world),
            sample_unit=1,
            point_code="H",
            value=value,
            unit=unit,
        )
    assert list(caught.value.message_dict) == ["value"]
    assert message in caught.value.message_dict["value"][0]
    assert not psi.readings.exists()


def test_an_invalid_gtin_is_refused(world):
    psi = start(world, "PSI")
    with pytest.raises(ValidationError) as caught:
        record_carton_check(
            by=world.inspector, milestone=psi, carton_number=3, barcode="4006381333932"
        )
    assert "check digit should be 1" in caught.value.message_dict["barcode"][0]
    assert not psi.carton_checks.exists()


def test_carton_marks_and_measures_are_checked_against_the_po_and_spec(world):
    world.product.packaging_spec = {
        "gtin": "4006381333931",
        "carton": {"length_cm": 60, "width_cm": 40, "height_cm": 35, "gross_weight_kg": 12.5},
    }
    world.product.save()
    psi = start(world, "PSI")
    check = record_carton_check(
        by=world.inspector,
        milestone=psi,
        carton_number=12,
        length_cm=Decimal("60.5"),
        width_cm=Decimal("40"),
        height_cm=Decimal("35"),
        gross_weight_kg=Decimal("14.2"),
        marks={"order_number": "PO-A-1001", "destination": "US", "carton_of": "12 of 300"},
        barcode="4006381333931",
        country_of_origin="VN",
    )
    text = " ".join(check.problems)
    assert "300" in text and "weight" in text.lower() and "VN" in text


def test_production_projection_and_flags(world):
    dupro = start(world, "DUPRO")
    counted_on = world.po.production_start + timedelta(days=19)  # 20 production days
    status = record_production(
        by=world.inspector,
        milestone=dupro,
        counted_on=counted_on,
        produced=1000,
        reported_produced=1400,
        packaging_on_site=False,
    )
    # 1000 units in 20 days = 50 a day; 2000 to go -> 40 more days, after the ex-factory date.
    assert status.projected_completion == counted_on + timedelta(days=40)
    flags = " ".join(status.flags)
    assert "days after the ex-factory date" in flags and "Packaging" not in flags
    assert "1400" in flags or "1,400" in flags
    with pytest.raises(ValidationError) as caught:
        record_production(
            by=world.inspector, milestone=dupro, counted_on=counted_on, produced=100, finished=200
        )
    assert list(caught.value.message_dict) == ["finished"]


def test_loading_needs_a_valid_container_number(world):
    cli = start(world, "CLI")
    with pytest.raises(ValidationError) as caught:
        record_loading(
            by=world.inspector, milestone=cli, container_number="CSQU3054384", seal_number="SL-1"
        )
    assert "check digit" in caught.value.message_dict["container_number"][0]
    line = world.po.lines.get()
    record_loading(
        by=world.inspector,
        milestone=cli,
        container_number="csqu 305438-3",
        seal_number="SL-1",
        loaded={line.pk: 240},
    )
    answer_all(world, cli)
    cli = submit_inspection(by=world.inspector, milestone=cli)
    assert cli.loading.container_number == "CSQU3054383"
    assert any("240" in o or "250" in o for o in cli.result_detail["observations"])


def test_a_published_psi_moves_the_suppliers_switching(world):
    psi = start(world, "PSI", aqls={"major": "2.5"})
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector, milestone=psi, quantity=9, description="Dent", defect_class="major"
    )
    psi = submit_inspection(by=world.inspector, milestone=psi)
    transition_milestone(by=world.qc_lead, milestone=psi, to="published")
    stream = SwitchingStream.objects.get(supplier=world.supplier, defect_class="major")
    assert stream.state["recent_normal"] == [False]


def test_recording_needs_the_inspection_in_progress(world):
    with pytest.raises(ValidationError, match="in progress"):
        record_defect(
            by=world.inspector,
            milestone=world.milestones["DUPRO"],
            quantity=1,
            description="x",
            defect_class="minor",
        )


def test_a_class_the_plan_does_not_judge_is_refused(world):
    psi = start(world, "PSI", aqls={"major": "2.5"})
    with pytest.raises(ValidationError) as caught:
        record_defect(
            by=world.inspector, milestone=psi, quantity=1, description="x", defect_class="minor"
        )
    assert list(caught.value.message_dict) == ["defect_class"]


def test_labels_must_speak_the_markets_languages(world):
    from qcloop.orders.models import PurchaseOrder

    PurchaseOrder.objects.filter(pk=world.po.pk).update(destination_market="CA")
    psi = start(world, "PSI")
    check = record_carton_check(
        by=world.inspector, milestone=psi, carton_number=1, languages=["en"]
    )
    assert check.problems == ["Labels lack French, required for CA."]
    check = record_carton_check(
        by=world.inspector, milestone=psi, carton_number=2, languages=["EN", "fr"]
    )
    assert check.problems == []


def test_the_qc_lead_reviews_the_findings_on_the_milestone_page(world):
    from django.test import Client
    from django.urls import reverse

    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector,
        milestone=psi,
        quantity=2,
        description="Loose shade",
        defect_class="major",
        systematic=True,
    )
    submit_inspection(by=world.inspector, milestone=psi)
    client = Client()
    client.force_login(world.qc_lead)
    html = client.get(reverse("inspections:milestone_detail", args=[psi.pk])).content.decode()
    assert 'id="findings"' in html and "Loose shade" in html and "systematic" in html
    assert "Approve and publish" in html


def test_buyers_and_suppliers_see_findings_only_once_published(world):
    from django.test import Client
    from django.urls import reverse

    from qcloop.accounts.models import Role

    psi = start(world, "PSI")
    answer_all(world, psi)
    count_production(world, psi)
    record_defect(
        by=world.inspector, milestone=psi, quantity=1, description="Bent clip", defect_class="minor"
    )
    submit_inspection(by=world.inspector, milestone=psi)
    url = reverse("inspections:milestone_detail", args=[psi.pk])
    for role in (Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        client = Client()
        client.force_login(world.user(role))
        assert "Bent clip" not in client.get(url).content.decode()
    transition_milestone(by=world.qc_lead, milestone=psi, to="published")
    for role in (Role.BUYER_MANAGER, Role.SUPPLIER_USER):
        client = Client()
        client.force_login(world.user(role))
        assert "Bent clip" in client.get(url).content.decode()
