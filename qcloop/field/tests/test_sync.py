"""The field app's sync API: the package a phone downloads, and operations recorded offline
that are applied once, however often they are sent, and never over someone else's change."""

import uuid

import pytest
from django.test import Client

from qcloop.accounts.services import create_api_token
from qcloop.inspections import recording
from qcloop.inspections.models import (
    CheckAnswer,
    Defect,
    DefectClassOverride,
    DefectCode,
    MeasurementChart,
    MeasurementReading,
    ProductionStatus,
)
from qcloop.testing import start_inspection

pytestmark = pytest.mark.django_db
DEVICE = str(uuid.uuid4())


def client_for(user) -> Client:
    _, token = create_api_token(user=user, name="phone")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def op(kind: str, base: int, force: bool = False, **data) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "base_revision": base,
        "force": force,
        "data": data,
    }


def send(api, milestone, ops, device=DEVICE) -> dict:
    response = api.post(
        f"/api/field/milestones/{milestone.pk}/sync",
        {"device": device, "ops": ops},
        "application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def statuses(answer: dict) -> list[str]:
    return [ack["status"] for ack in answer["acks"]]


def package(api, milestone) -> dict:
    response = api.get(f"/api/field/milestones/{milestone.pk}/package")
    assert response.status_code == 200, response.content
    return response.json()


def a_code(world) -> DefectCode:
    return DefectCode.objects.filter(category__in=[world.product.category, "general"]).first()


def a_full_psi(world, pkg: dict) -> list[dict]:
    """What an inspector records at a PSI with no signal: start, every checklist answer, defects
    of each class, a reading, the production counts, a carton, then the submission."""
    base = pkg["revision"]
    code = a_code(world)
    chart = pkg["charts"][0]
    ops = [op("start", base)]
    ops += [
        op(
            "answer",
            base,
            item_code=item["code"],
            result="pass",
            value="1" if item["answer"] == "number" else "",
        )
        for item in pkg["checklist"]["items"]
    ]
    ops += [
        op("defect", base, uuid=str(uuid.uuid4()), code=code.pk, quantity=1),
        op(
            "defect",
            base,
            uuid=str(uuid.uuid4()),
            description="Scratch",
            defect_class="minor",
            quantity=2,
        ),
        op(
            "reading",
            base,
            uuid=str(uuid.uuid4()),
            chart=chart["id"],
            sample_unit=1,
            point_code="H",
            value="45.2",
            unit="cm",
        ),
        op(
            "production",
            base,
            counted_on=str(world.po.ex_factory_date),
            produced=3000,
            finished=3000,
            packed=3000,
        ),
        op("carton", base, uuid=str(uuid.uuid4()), carton_number=1, languages=["en"]),
        op("submit", base),
    ]
    return ops


@pytest.fixture
def chart(world):
    return MeasurementChart.objects.create(
        product=world.product,
        points=[
            {"code": "H", "name": "Height", "spec": "45", "minus": "0.5", "plus": "1", "unit": "cm"}
        ],
    )


@pytest.fixture
def psi(world, chart):
    """A PSI booked and sampled, not yet started: as a phone downloads it the day before."""
    return start_inspection(world, "PSI", start=False)


def test_the_package_holds_everything_needed_offline(world, psi):
    code = a_code(world)
    DefectClassOverride.objects.create(buyer=world.buyer, code=code, defect_class="critical")
    dupro = start_inspection(world, "DUPRO")
    recording.record_defect(
        by=world.inspector,
        milestone=dupro,
        description="Loose wire",
        defect_class="major",
        quantity=1,
    )
    dupro.status = "submitted"
    dupro.save()
    pkg = package(client_for(world.inspector), psi)
    assert pkg["milestone"]["status"] == "booked" and pkg["milestone"]["kind"] == "PSI"
    assert pkg["po"]["number"] == world.po.number
    assert [line["sku"] for line in pkg["po"]["lines"]] == [world.product.sku]
    assert pkg["milestone"]["sampling"]["plan"]["n"] == 125
    assert pkg["milestone"]["sample_draw"]["draws"]
    assert pkg["checklist"]["items"] and pkg["checklist"]["version"] >= 1
    assert [c["points"][0]["code"] for c in pkg["charts"]] == ["H"]
    by_id = {c["id"]: c for c in pkg["defect_codes"]}
    assert by_id[code.pk]["defect_class"] == "critical"  # the buyer's class, not the library's
    assert [p["kind"] for p in pkg["previous"]] == ["DUPRO"]
    assert pkg["previous"][0]["defects"][0]["description"] == "Loose wire"
    assert pkg["capas"] == []
    assert pkg["state"]["revision"] == pkg["revision"]
    assert pkg["state"]["photos"] == [] and pkg["state"]["missing"]


def test_only_my_milestones_are_listed_and_downloaded(world, other_world, psi):
    mine = client_for(world.inspector).get("/api/field/milestones").json()
    assert [m["id"] for m in mine] == [psi.pk]
    assert mine[0]["po_number"] == world.po.number
    outsider = client_for(other_world.inspector)
    assert outsider.get("/api/field/milestones").json() == []
    assert outsider.get(f"/api/field/milestones/{psi.pk}/package").status_code == 404
    ops = [op("start", 0)]
    assert (
        outsider.post(
            f"/api/field/milestones/{psi.pk}/sync",
            {"device": DEVICE, "ops": ops},
            "application/json",
        ).status_code
        == 404
    )
    psi.refresh_from_db()
    assert psi.status == "booked"


def test_a_psi_recorded_offline_is_applied_once_however_often_it_is_sent(world, psi):
    api = client_for(world.inspector)
    ops = a_full_psi(world, package(api, psi))
    first = send(api, psi, ops)
    assert statuses(first) == ["applied"] * len(ops), first["acks"]
    assert first["state"]["status"] == "submitted"
    assert first["revision"] > 0 and first["state"]["revision"] == first["revision"]
    counts = (
        CheckAnswer.objects.filter(milestone=psi).count(),
        Defect.objects.filter(milestone=psi).count(),
        MeasurementReading.objects.filter(milestone=psi).count(),
        ProductionStatus.objects.filter(milestone=psi).count(),
    )
    again = send(api, psi, ops)  # the first answer was lost: the phone sends it all again
    assert statuses(again) == ["duplicate"] * len(ops)
    assert again["revision"] == first["revision"]
    assert counts == (
        CheckAnswer.objects.filter(milestone=psi).count(),
        Defect.objects.filter(milestone=psi).count(),
        MeasurementReading.objects.filter(milestone=psi).count(),
        ProductionStatus.objects.filter(milestone=psi).count(),
    )
    assert counts[1] == 2 and counts[2] == 1 and counts[3] == 1


def test_a_change_by_the_qc_lead_meanwhile_is_a_conflict_never_overwritten(world, psi):
    api = client_for(world.inspector)
    pkg = package(api, psi)
    send(api, psi, [op("start", pkg["revision"])])
    item = pkg["checklist"]["items"][0]["code"]
    other = pkg["checklist"]["items"][1]["code"]
    # The QC lead answers item 1 on the web while the phone is offline with the old package.
    recording.answer_check(
        by=world.qc_lead, milestone=psi, item_code=item, result="fail", note="Seen on the video"
    )
    mine = op("answer", pkg["revision"], item_code=item, result="pass", note="Looked fine")
    unrelated = op("answer", pkg["revision"], item_code=other, result="pass")
    answer = send(api, psi, [mine, unrelated])
    assert statuses(answer) == ["conflict", "applied"]
    theirs = answer["acks"][0]["theirs"]
    assert theirs["by"] == world.qc_lead.full_name
    assert theirs["value"] == {"result": "fail", "value": "", "note": "Seen on the video"}
    assert CheckAnswer.objects.get(milestone=psi, item_code=item).result == "fail"
    # The inspector keeps theirs on purpose: the same operation, forced.
    kept = send(api, psi, [{**mine, "force": True}])
    assert statuses(kept) == ["applied"]
    assert CheckAnswer.objects.get(milestone=psi, item_code=item).note == "Looked fine"


def test_the_phones_own_earlier_changes_never_conflict_but_another_device_does(world, psi):
    api = client_for(world.inspector)
    pkg = package(api, psi)
    base = pkg["revision"]
    item = pkg["checklist"]["items"][0]["code"]
    production = {"counted_on": str(world.po.ex_factory_date), "produced": 1000}
    answer = send(
        api,
        psi,
        [
            op("start", base),
            op("answer", base, item_code=item, result="fail"),
            op("production", base, **production),
        ],
    )
    assert statuses(answer) == ["applied"] * 3
    # Later, still on the old package: the same phone corrects both.
    answer = send(
        api,
        psi,
        [
            op("answer", base, item_code=item, result="pass"),
            op("production", base, **{**production, "produced": 1200}),
        ],
    )
    assert statuses(answer) == ["applied", "applied"]
    tablet = send(api, psi, [op("production", base, **production)], device=str(uuid.uuid4()))
    assert statuses(tablet) == ["conflict"]
    assert tablet["acks"][0]["theirs"]["value"]["produced"] == 1200
    assert ProductionStatus.objects.get(milestone=psi).produced == 1200


def test_a_refused_operation_is_rejected_with_its_reason_and_the_others_go_through(
    world, other_world, psi
):
    api = client_for(world.inspector)
    base = package(api, psi)["revision"]
    foreign_code = DefectCode.objects.create(
        agency=other_world.agency,
        code="X-1",
        category="general",
        group="g",
        name="Theirs",
        default_class="major",
    )
    ops = [
        op(
            "defect",
            base,
            uuid=str(uuid.uuid4()),
            description="Dent",
            defect_class="major",
            quantity=1,
        ),
        op("start", base),
        op(
            "defect",
            base,
            uuid=str(uuid.uuid4()),
            description="Dent",
            defect_class="major",
            quantity=0,
        ),
        op("defect", base, uuid=str(uuid.uuid4()), code=foreign_code.pk, quantity=1),
        op("defect", base, description="No uuid", defect_class="minor", quantity=1),
        op("answer", base, item_code="NO-SUCH-ITEM", result="pass"),
        op(
            "defect",
            base,
            uuid=str(uuid.uuid4()),
            description="Dent",
            defect_class="major",
            quantity=1,
        ),
    ]
    answer = send(api, psi, ops)
    assert statuses(answer) == [
        "rejected",  # not started yet: findings are recorded while it is in progress
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    errors = [ack["errors"] for ack in answer["acks"]]
    assert "in progress" in errors[0]["status"][0]
    assert "at least 1" in errors[2]["quantity"][0]
    assert "that you can use" in errors[3]["code"][0]
    assert "uuid" in errors[4]
    assert "NO-SUCH-ITEM" in errors[5]["item_code"][0]
    assert Defect.objects.filter(milestone=psi).count() == 1


def test_an_operation_id_is_never_reused_by_someone_else(world, psi):
    api = client_for(world.inspector)
    base = package(api, psi)["revision"]
    start = op("start", base)
    assert statuses(send(api, psi, [start])) == ["applied"]
    lead = client_for(world.qc_lead)
    replayed = send(lead, psi, [start])
    assert statuses(replayed) == ["rejected"]
    assert replayed["acks"][0]["errors"]["id"]


def test_malformed_batches_are_refused_whole(world, psi):
    api = client_for(world.inspector)
    url = f"/api/field/milestones/{psi.pk}/sync"
    revision = psi.revision
    bad_kind = {"device": DEVICE, "ops": [{**op("start", 0), "kind": "drop_table"}]}
    assert api.post(url, bad_kind, "application/json").status_code == 422
    no_device = {"ops": [op("start", 0)]}
    assert api.post(url, no_device, "application/json").status_code == 422
    psi.refresh_from_db()
    assert psi.status == "booked" and psi.revision == revision


def test_the_session_gives_a_csrf_token_that_browser_writes_need(world, psi):
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/api/field/session").status_code == 401
    browser.force_login(world.inspector)
    session = browser.get("/api/field/session").json()
    assert session["user"]["email"] == world.inspector.email
    assert session["chunk_bytes"] > 0
    url = f"/api/field/milestones/{psi.pk}/sync"
    body = {"device": DEVICE, "ops": [op("start", 0)]}
    assert browser.post(url, body, "application/json").status_code == 403
    allowed = browser.post(url, body, "application/json", HTTP_X_CSRFTOKEN=session["csrf_token"])
    assert allowed.status_code == 200 and statuses(allowed.json()) == ["applied"]


def test_the_sync_endpoints_are_in_the_openapi_schema(world):
    schema = client_for(world.inspector).get("/api/openapi.json").json()
    paths = schema["paths"]
    assert {"post"} <= set(paths["/api/field/milestones/{milestone_id}/sync"])
    assert {"post"} <= set(paths["/api/field/uploads"])
    assert {"get", "put"} <= set(paths["/api/field/uploads/{upload_id}"])
    assert "get" in paths["/api/field/milestones/{milestone_id}/package"]
    put = paths["/api/field/uploads/{upload_id}"]["put"]
    assert "application/octet-stream" in put["requestBody"]["content"]


@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_its_first_try_is_applied_once():
    """The phone gave up waiting and sent the batch again while the first was still running."""
    import threading

    from django.db import connection

    from qcloop.testing import build_world

    world = build_world("r")
    psi = start_inspection(world, "PSI")
    api = client_for(world.inspector)
    base = package(api, psi)["revision"]
    ops = [
        op(
            "defect",
            base,
            uuid=str(uuid.uuid4()),
            description=f"Dent {n}",
            defect_class="minor",
            quantity=1,
        )
        for n in range(12)
    ]
    barrier, answers = threading.Barrier(2), []

    def phone():
        barrier.wait()
        answers.append(statuses(send(api, psi, ops)))
        connection.close()

    racers = [threading.Thread(target=phone) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    for index in range(len(ops)):
        assert sorted(answer[index] for answer in answers) == ["applied", "duplicate"]
    assert Defect.objects.filter(milestone=psi).count() == len(ops)
