"""The field app in Chromium, as an inspector uses it on a phone: offline, on a connection that
breaks in the middle of a photo, against a server that fails once, with a QC lead changing the
same records, and across signing out. The server is the real one (the live server thread), so
every count asserted is what the database holds."""

import base64
import hashlib
import io
import json

import pytest

from conftest import sign_in

PHONE = {"width": 390, "height": 844}
CHUNK = 64 * 1024
JOLLA = "jpg/mobile/jolla.jpg"  # 3264 x 2448, 0.8 MB: a rendition, then the original
NOKIA = "jpg/mobile/HMD_Nokia_8.3_5G.jpg"  # 4608 x 1976 with GPS, 2.2 MB
GPS_SMALL = "jpg/gps/DSCN0010.jpg"  # 640 x 480 with GPS: small, sent whole
TURNED = "jpg/orientation/landscape_6.jpg"  # EXIF orientation 6: sent whole
IPHONE_HEIC = "heic/mobile/iphone_13_pro_max.HEIC"  # Chromium cannot decode it: sent whole


@pytest.fixture
def small_chunks(settings):
    # The live server runs in this process: photos go up in several chunks.
    settings.QCLOOP_FIELD_CHUNK_BYTES = CHUNK


@pytest.fixture
def context(browser, live_server):
    """A phone-sized browser context of its own, so a test can take it offline."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, device_scale_factor=2)
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def phone(context):
    """The phone's page, failing the test on any script error or CSP violation."""
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda dialog: dialog.accept())  # confirm(): "Submit?", "Discard?"
    yield page
    assert not unexpected(problems), f"the page logged errors: {unexpected(problems)}"


def unexpected(problems):
    # The browser logs every failed request as an error, and these tests fail requests on
    # purpose (offline, a reset connection, a 500). Anything else fails the test.
    expected = ("Failed to load resource", "net::ERR_")
    return [p for p in problems if not any(e in p for e in expected)]


# --- setting up the server side ------------------------------------------------------------


def book(world, kind):
    """Book the milestone with the world's inspector and plan its sample, without starting it:
    the phone's `start` op starts it."""
    from qcloop.inspections.services import plan_sampling, update_milestone

    milestone = world.milestones[kind]
    update_milestone(
        by=world.qc_lead,
        milestone=milestone,
        changes={
            "inspection_date": milestone.window_start,
            "inspector": world.inspector,
            "status": "booked",
        },
    )
    plan_sampling(by=world.qc_lead, milestone=milestone, seed="t")
    milestone.refresh_from_db()
    return milestone


def add_chart(world):
    from qcloop.accounts.models import Role
    from qcloop.inspections.library import save_measurement_chart

    return save_measurement_chart(
        by=world.users[Role.BUYER_MANAGER],
        product=world.product,
        size="one size",
        points=[
            {"code": code, "name": name, "spec": spec, "minus": minus, "plus": plus, "unit": "cm"}
            for code, name, spec, minus, plus in [
                ("A", "Shade diameter", 30, 0.5, 0.5),
                ("B", "Cable length", 180, 2, 5),
            ]
        ],
        defect_class="major",
    )


def code_of_class(milestone, defect_class):
    from qcloop.inspections.models import DefectCode
    from qcloop.inspections.services import stream_category

    return (
        DefectCode.objects.filter(
            category__in=[stream_category(milestone.po), "general"], default_class=defect_class
        )
        .order_by("code")
        .first()
    )


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- driving the app -------------------------------------------------------------------------


def open_app(phone, user):
    sign_in(phone, user)
    phone.goto("/field/")
    phone.wait_for_selector("html[data-ready=true]")


def download(phone, milestone):
    phone.click(f"[data-download='{milestone.pk}']")
    phone.wait_for_selector(f".milestone-screen[data-milestone='{milestone.pk}']")
    # The shell must be on the phone before the signal goes.
    phone.wait_for_selector("html[data-offline-ready=true]", state="attached")


def stats(phone) -> dict:
    return phone.evaluate("window.qcloopField.stats()")


def settle(phone):
    """Every action made so far is in IndexedDB."""
    phone.evaluate("window.qcloopField.idle()")


def sync_until_sent(phone, attempts=12) -> dict:
    """Sync (as the Sync now button does) until nothing of this inspector's waits; the app's
    own back-off is slower than a test needs to be."""
    summary = {}
    for _ in range(attempts):
        summary = phone.evaluate("window.qcloopField.syncNow()")
        left = stats(phone)
        if left["pending_ops"] == 0 and left["pending_photos"] == 0:
            return summary
    kept = phone.evaluate(
        "async () => (await self.qcloopStore.listOps()).map(o => [o.kind, o.status, o.errors])"
    )
    raise AssertionError(f"still waiting after {attempts} syncs: {stats(phone)}, {kept}")


def answer(phone, code, result, value=None):
    item = f"[data-item='{code}']"
    if value is not None:
        phone.fill(f"{item} input[name=value]", value)
    phone.click(f"{item} .seg-{result}")
    phone.wait_for_selector(f"{item} .seg-{result} input:checked", state="attached")


def answer_all(phone, package_items, fail=()):
    for item in package_items:
        value = "0.05" if item.get("answer") == "number" else None
        answer(phone, item["code"], "fail" if item["code"] in fail else "pass", value)


def add_defect(phone, code, defect_class, quantity, carton=None):
    form = "#defect-form"
    phone.fill(f"{form} input[name=search]", code.code)
    phone.select_option(f"{form} select[name=code]", str(code.pk))
    phone.select_option(f"{form} select[name=defect_class]", defect_class)
    phone.fill(f"{form} input[name=quantity]", str(quantity))
    if carton:
        phone.fill(f"{form} input[name=carton]", str(carton))
    before = phone.locator(".defect-row").count()
    phone.click("#add-defect")
    phone.wait_for_function(f"() => document.querySelectorAll('.defect-row').length > {before}")


def add_reading(phone, chart, unit, point, value):
    phone.select_option("#reading-form select[name=chart]", str(chart.pk))
    phone.fill("#reading-form input[name=sample_unit]", str(unit))
    phone.select_option("#reading-form select[name=point_code]", point)
    phone.fill("#reading-form input[name=value]", value)
    before = phone.locator("[data-reading]").count()
    phone.click("#save-reading")
    phone.wait_for_function(f"() => document.querySelectorAll('[data-reading]').length > {before}")


def count_production(phone, produced, finished, packed, counted_on):
    phone.fill("#production-form input[name=counted_on]", str(counted_on))
    phone.fill("#production-form input[name=produced]", str(produced))
    phone.fill("#production-form input[name=finished]", str(finished))
    phone.fill("#production-form input[name=packed]", str(packed))
    phone.click("#save-production")
    phone.wait_for_selector(f"#sec-production >> text={produced} produced")


def check_carton(phone, number, po_number):
    form = "#carton-form"
    phone.fill(f"{form} input[name=carton_number]", str(number))
    for name, value in [
        ("length_cm", "60"),
        ("width_cm", "40"),
        ("height_cm", "35"),
        ("gross_weight_kg", "12.5"),
        ("country_of_origin", "CN"),
        ("languages", "en"),
        ("order_number", po_number),
        ("destination", "US"),
        ("carton_of", f"{number} of 250"),
    ]:
        phone.fill(f"{form} input[name={name}]", value)
    phone.click("#save-carton")
    phone.wait_for_selector(f"[data-carton='{number}']")


def add_photos(phone, paths, link="", caption=""):
    before = phone.locator("#sec-photos figure").count()
    if link:
        phone.select_option("#photo-link", link)
    phone.fill("#photo-caption", caption)
    phone.set_input_files("#photo-input", [str(p) for p in paths])
    phone.wait_for_function(
        f"() => document.querySelectorAll('#sec-photos figure').length >= {before + len(paths)}",
        timeout=60_000,
    )


def link_value(phone, prefix):
    return phone.evaluate(
        "p => [...document.querySelectorAll('#photo-link option')].map(o => o.value)"
        ".find(v => v.startsWith(p))",
        prefix,
    )


def package_items(milestone):
    milestone.refresh_from_db()
    return milestone.checklist.items


def record_full_psi(phone, world, milestone, chart, shared_photos):
    """A whole PSI, as an inspector records it with no signal. Returns what was recorded."""
    items = package_items(milestone)
    answer_all(phone, items, fail={"PSI-LGT-PKG-01"})
    codes = {c: code_of_class(milestone, c) for c in ("critical", "major", "minor")}
    add_defect(phone, codes["critical"], "critical", 1, carton=10)
    add_defect(phone, codes["major"], "major", 2)
    add_defect(phone, codes["minor"], "minor", 3)
    phone.locator("#sec-defects").screenshot(path="/tmp/field-section-defects-editing.png")
    add_reading(phone, chart, 1, "A", "30.2")
    add_reading(phone, chart, 1, "B", "171")  # 9 cm short: out of tolerance
    count_production(phone, 3000, 3000, 2900, milestone.inspection_date)
    check_carton(phone, 10, milestone.po.number)
    # The critical defect's own Photo button opens the camera with the link set.
    critical = phone.locator(".defect-row", has=phone.locator(".defect-critical"))
    phone.fill("#photo-caption", "Crack at the base")
    with phone.expect_file_chooser() as chooser:
        critical.locator("[data-photo-for]").click()
    chooser.value.set_files(str(shared_photos / JOLLA))
    phone.wait_for_selector("#sec-photos figure")
    add_photos(
        phone, [shared_photos / NOKIA], link="item:PSI-LGT-PKG-01", caption="Crushed export carton"
    )
    general = [shared_photos / GPS_SMALL, shared_photos / TURNED, shared_photos / IPHONE_HEIC]
    add_photos(phone, general, caption="Warehouse")
    phone.wait_for_selector("#submit-inspection:not([disabled])")
    phone.click("#submit-inspection")
    phone.wait_for_selector("#submitted-note")
    settle(phone)
    files = [JOLLA, NOKIA, GPS_SMALL, TURNED, IPHONE_HEIC]
    # The two large JPEGs go as a phone-made rendition first, then the original.
    return {
        "items": items,
        "codes": codes,
        "files": [shared_photos / f for f in files],
        "renditions": 2,
    }


def assert_one_of_everything(milestone, recorded, run_worker):
    """The server holds exactly one of every record the phone made, and each photo's original,
    byte for byte."""
    from qcloop.inspections.models import (
        CartonCheck,
        CheckAnswer,
        Defect,
        MeasurementReading,
        Photo,
        PhotoAttachment,
        ProductionStatus,
    )

    run_worker()
    milestone.refresh_from_db()
    assert milestone.status == "submitted"
    answers = CheckAnswer.objects.filter(milestone=milestone)
    assert answers.count() == len(recorded["items"])
    assert set(answers.values_list("result", flat=True)) == {"pass", "fail"}
    manual = Defect.objects.filter(milestone=milestone, from_measurements=False)
    assert sorted(manual.values_list("defect_class", "quantity")) == [
        ("critical", 1),
        ("major", 2),
        ("minor", 3),
    ]
    assert Defect.objects.filter(milestone=milestone, from_measurements=True).count() == 1
    assert MeasurementReading.objects.filter(milestone=milestone).count() == 2
    assert ProductionStatus.objects.filter(milestone=milestone).count() == 1
    assert CartonCheck.objects.filter(milestone=milestone).count() == 1
    attachments = PhotoAttachment.objects.filter(milestone=milestone).select_related("photo")
    assert attachments.count() == len(recorded["files"])
    originals = {sha256_of(path) for path in recorded["files"]}
    assert {a.photo.sha256 for a in attachments if a.photo} == originals, [
        (a.status, a.error, a.awaiting_original) for a in attachments
    ]
    assert Photo.objects.filter(sha256__in=originals).count() == len(originals)
    # Beside the originals, the server keeps only the renditions the phone made (for the audit
    # of "does the original show the same picture"), each the rendition of its attachment.
    renditions = {a.field_rendition_id for a in attachments if a.field_rendition_id}
    assert len(renditions) == recorded["renditions"]
    assert Photo.objects.count() == len(originals) + len(renditions)
    for attachment in attachments:
        kinds = {flag["kind"] for flag in attachment.flags}
        assert "rendition_mismatch" not in kinds, attachment.flags
    on_defect = attachments.get(caption="Crack at the base")
    assert on_defect.defect is not None
    assert on_defect.defect.defect_class == "critical"
    assert attachments.get(caption="Crushed export carton").item_code == "PSI-LGT-PKG-01"


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_whole_psi_recorded_offline_survives_a_reload_and_syncs_once(
    context, phone, live_world, shared_photos, small_chunks, run_worker
):
    psi = book(live_world, "PSI")
    chart = add_chart(live_world)
    open_app(phone, live_world.inspector)
    phone.screenshot(path="/tmp/field-list.png")
    download(phone, psi)

    context.set_offline(True)
    phone.wait_for_selector("#net-state.offline")
    phone.click("#start-inspection")
    phone.wait_for_selector("#sec-checklist .seg-pass input:not([disabled])", state="attached")
    recorded = record_full_psi(phone, live_world, psi, chart, shared_photos)
    phone.screenshot(path="/tmp/field-recorded.png")
    for name in ("header", "checklist", "defects", "measurements", "photos"):
        phone.locator(f"#sec-{name}").screenshot(path=f"/tmp/field-section-{name}.png")
    before = stats(phone)
    assert before["pending_photos"] == 5
    assert before["pending_ops"] > 30
    psi.refresh_from_db()
    assert psi.status == "booked"  # nothing reached the server

    # Reload with no signal: the service worker serves the app; IndexedDB has everything.
    assert phone.reload().from_service_worker
    phone.wait_for_selector("html[data-ready=true]")
    phone.wait_for_selector("#sec-checklist")
    assert stats(phone) == before
    items = len(recorded["items"])
    assert phone.inner_text("#sec-checklist > p").startswith(f"{items} of {items} answered")
    assert phone.locator(".defect-row").count() == 3
    assert phone.locator("[data-reading]").count() == 2
    assert phone.locator("#sec-photos figure").count() == 5
    assert phone.locator("#submitted-note").is_visible()
    phone.click("#queue-link")
    phone.wait_for_selector(".queue-screen")
    assert phone.locator("#queue-records .queue-item").count() == before["pending_ops"]
    assert phone.locator("#queue-photos .queue-item").count() == 5
    phone.screenshot(path="/tmp/field-queue-offline.png", full_page=True)

    context.set_offline(False)
    sync_until_sent(phone)
    assert stats(phone)["bytes_sent"] > sum(p.stat().st_size for p in recorded["files"])
    assert_one_of_everything(psi, recorded, run_worker)
    phone.goto(f"/field/#/m/{psi.pk}")
    phone.wait_for_selector("#sec-photos")
    phone.screenshot(path="/tmp/field-synced.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_photo_upload_cut_mid_way_resumes_where_it_broke(
    context, phone, live_world, shared_photos, small_chunks, run_worker
):
    from qcloop.inspections.models import PhotoAttachment
    from qcloop.testing import start_inspection

    psi = start_inspection(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)
    context.set_offline(True)
    add_photos(phone, [shared_photos / IPHONE_HEIC], caption="Label close-up")
    settle(phone)

    puts = []  # the offset of every chunk sent
    cut = {"at": None}

    def flaky(route):
        request = route.request
        if request.method == "PUT":
            offset = int(request.url.split("offset=")[1])
            puts.append(offset)
            if offset > 0 and cut["at"] is None:
                cut["at"] = offset  # the second chunk never arrives
                route.abort("connectionreset")
                return
        route.continue_()

    context.route("**/api/field/uploads/*", flaky)
    context.set_offline(False)  # the app syncs at once, and the connection breaks
    sync_until_sent(phone)

    size = (shared_photos / IPHONE_HEIC).stat().st_size
    assert cut["at"] == CHUNK
    assert puts.count(0) == 1, f"the upload started again from zero: {puts}"
    assert puts.count(CHUNK) == 2, f"the broken chunk was not sent again: {puts}"
    assert puts == sorted(puts)
    assert puts[-1] == (size - 1) // CHUNK * CHUNK  # it went on to the last chunk
    run_worker()
    attachment = PhotoAttachment.objects.select_related("photo").get(milestone=psi)
    assert attachment.photo.sha256 == sha256_of(shared_photos / IPHONE_HEIC)
    assert PhotoAttachment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_server_error_after_applying_is_retried_without_duplicates(
    context, phone, live_world, shared_photos, small_chunks, run_worker
):
    from qcloop.inspections.models import CheckAnswer, Defect, PhotoAttachment
    from qcloop.testing import start_inspection

    psi = start_inspection(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)
    context.set_offline(True)
    answer(phone, "PSI-LGT-MAT-01", "pass")
    add_defect(phone, code_of_class(psi, "major"), "major", 2)
    add_photos(
        phone, [shared_photos / GPS_SMALL], link=link_value(phone, "defect:"), caption="Scratch"
    )
    settle(phone)

    failures = {"sync": 0, "last_chunk": 0}

    def applied_then_500(route):
        # The server really applies it; the answer is lost and a 500 arrives instead.
        route.fetch()
        failures["sync"] += 1
        route.fulfill(status=500, body="Internal Server Error")

    def last_chunk_500(route):
        response = route.fetch()
        if (
            route.request.method == "PUT"
            and response.json().get("done")
            and not failures["last_chunk"]
        ):
            failures["last_chunk"] += 1
            route.fulfill(status=500, body="Internal Server Error")
            return
        route.fulfill(response=response)

    context.route("**/api/field/milestones/*/sync", applied_then_500, times=1)
    context.route("**/api/field/uploads/*", last_chunk_500)
    # Back online, the app syncs by itself: the server applies the ops but the answer is lost,
    # then the last chunk's answer is lost; the app's retry timer sends them again.
    context.set_offline(False)
    phone.wait_for_function(
        "() => { const s = window.qcloopField.stats(); "
        "return s.pending_ops === 0 && s.pending_photos === 0; }",
        timeout=90_000,
    )
    assert failures == {"sync": 1, "last_chunk": 1}

    run_worker()
    assert CheckAnswer.objects.filter(milestone=psi).count() == 1
    assert Defect.objects.filter(milestone=psi).count() == 1
    attachment = PhotoAttachment.objects.select_related("photo", "defect").get(milestone=psi)
    assert attachment.photo.sha256 == sha256_of(shared_photos / GPS_SMALL)
    assert attachment.defect == Defect.objects.get(milestone=psi)


@pytest.mark.django_db(transaction=True)
def test_a_conflict_with_the_qc_lead_is_shown_and_decided_by_the_inspector(
    context, phone, live_world
):
    from qcloop.inspections import recording
    from qcloop.inspections.models import CheckAnswer, ProductionStatus
    from qcloop.testing import start_inspection

    psi = start_inspection(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)

    # The QC lead changes an answer and the counts on the server after the download...
    lead = live_world.qc_lead
    recording.answer_check(
        by=lead, milestone=psi, item_code="PSI-LGT-MAT-01", result="fail", note="Colour off"
    )
    recording.record_production(
        by=lead,
        milestone=psi,
        counted_on=psi.inspection_date,
        produced=2500,
        finished=2400,
        packed=2000,
    )
    # ... and the inspector changes the same, offline.
    context.set_offline(True)
    answer(phone, "PSI-LGT-MAT-01", "pass")
    count_production(phone, 3000, 3000, 2950, psi.inspection_date)
    settle(phone)
    context.set_offline(False)
    phone.evaluate("window.qcloopField.syncNow()")
    phone.wait_for_function("() => window.qcloopField.stats().conflicts === 2")

    # Nothing was overwritten: the server still has the lead's version.
    assert CheckAnswer.objects.get(milestone=psi, item_code="PSI-LGT-MAT-01").result == "fail"
    assert ProductionStatus.objects.get(milestone=psi).produced == 2500
    phone.click("#queue-link")
    phone.wait_for_selector(".queue-item.conflict")
    conflicts = phone.locator(".queue-item.conflict")
    assert conflicts.count() == 2
    answer_card = conflicts.filter(has_text="PSI-LGT-MAT-01")
    assert "Their version" in answer_card.inner_text() and "Mine" in answer_card.inner_text()
    assert "Colour off" in answer_card.inner_text()  # their note, shown beside mine
    assert lead.full_name in answer_card.inner_text()
    phone.screenshot(path="/tmp/field-conflict.png", full_page=True)

    # Keep mine for the answer: sent again, forced.
    answer_card.locator("[data-action=keep-mine]").click()
    phone.wait_for_function("() => document.querySelectorAll('.queue-item.conflict').length === 1")
    phone.evaluate("window.qcloopField.syncNow()")
    assert CheckAnswer.objects.get(milestone=psi, item_code="PSI-LGT-MAT-01").result == "pass"
    # Take theirs for the counts: dropped on the phone, the lead's stay.
    conflicts.filter(has_text="Production counts").locator("[data-action=take-theirs]").click()
    phone.wait_for_function("() => document.querySelectorAll('.queue-item.conflict').length === 0")
    assert stats(phone)["pending_ops"] == 0
    assert ProductionStatus.objects.get(milestone=psi).produced == 2500
    phone.goto(f"/field/#/m/{psi.pk}")
    phone.wait_for_selector("#sec-production >> text=2500 produced")


@pytest.mark.django_db(transaction=True)
def test_a_refused_record_is_kept_with_the_reason_until_discarded(context, phone, live_world):
    from datetime import timedelta

    from qcloop.inspections.models import ProductionStatus
    from qcloop.testing import start_inspection

    psi = start_inspection(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)
    context.set_offline(True)
    # Counted before production started (the PO's production start is in ten days): refused.
    early = psi.po.production_start - timedelta(days=5)
    count_production(phone, 100, 50, 10, early)
    answer(phone, "PSI-LGT-MAT-01", "pass")
    settle(phone)
    context.set_offline(False)
    phone.evaluate("window.qcloopField.syncNow()")
    phone.wait_for_function("() => window.qcloopField.stats().rejected === 1")
    assert stats(phone)["pending_ops"] == 1  # the answer went; the counts are kept
    phone.click("#queue-link")
    refused = phone.locator(".queue-item.rejected")
    refused.wait_for()
    assert "before production started" in refused.inner_text()
    phone.screenshot(path="/tmp/field-refused.png")
    refused.locator("[data-action=retry]").click()  # the same answer again
    phone.wait_for_function("() => window.qcloopField.stats().rejected === 1")
    phone.locator(".queue-item.rejected [data-action=discard]").click()  # confirmed
    phone.wait_for_function("() => window.qcloopField.stats().pending_ops === 0")
    assert not ProductionStatus.objects.filter(milestone=psi).exists()
    phone.goto(f"/field/#/m/{psi.pk}")
    phone.wait_for_selector("#sec-production >> text=Not counted yet.")


@pytest.mark.django_db(transaction=True)
def test_signing_out_keeps_the_queue_for_its_inspector(context, phone, live_world, shared_photos):
    from qcloop.inspections.models import CheckAnswer, Defect
    from qcloop.testing import start_inspection

    psi = start_inspection(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)
    context.set_offline(True)
    answer(phone, "PSI-LGT-MAT-01", "pass")
    add_defect(phone, code_of_class(psi, "minor"), "minor", 1)
    settle(phone)

    # The session ends while the phone is offline (expired, or signed out elsewhere).
    context.clear_cookies()
    context.set_offline(False)
    summary = phone.evaluate("window.qcloopField.syncNow()")
    assert summary["reason"] == "signed_out"
    phone.wait_for_selector("#signed-out")
    assert "2 items are kept on this phone" in phone.inner_text("#signed-out")
    assert stats(phone)["pending_ops"] == 2
    phone.screenshot(path="/tmp/field-signed-out.png")

    # Another user signs in on this phone: the inspector's items wait, unsent and untouched.
    open_app(phone, live_world.qc_lead)
    phone.wait_for_selector("#others-waiting")
    phone.evaluate("window.qcloopField.syncNow()")
    assert phone.evaluate("window.qcloopField.stats()")["pending_ops"] == 0  # none of theirs
    assert CheckAnswer.objects.filter(milestone=psi).count() == 0
    assert Defect.objects.filter(milestone=psi).count() == 0
    phone.evaluate("document.querySelector('#sign-out-form').requestSubmit()")
    phone.wait_for_url("**/accounts/login/**")

    # The inspector signs in again: everything is there and goes.
    open_app(phone, live_world.inspector)
    assert stats(phone)["pending_ops"] in (0, 2)  # the app syncs at once when it opens
    sync_until_sent(phone)
    assert CheckAnswer.objects.get(milestone=psi, item_code="PSI-LGT-MAT-01").result == "pass"
    assert Defect.objects.filter(milestone=psi).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_phone_rendition_keeps_the_exif_and_is_upright(phone, live_world, shared_photos):
    """The 1600 px copy made on the phone keeps the original's capture time and GPS, with its
    orientation reset because its pixels are already turned."""
    from PIL import Image

    open_app(phone, live_world.inspector)
    original = (shared_photos / NOKIA).read_bytes()
    made = phone.evaluate(
        """async (b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const file = new File([bytes], "nokia.jpg", {type: "image/jpeg"});
            const ready = await self.qcloopPhotos.prepare(file);
            const buffer = new Uint8Array(await ready.rendition.blob.arrayBuffer());
            let text = ""; for (const b of buffer) text += String.fromCharCode(b);
            return {rendition: btoa(text), sha256: ready.rendition.sha256,
                    original_sha256: ready.original.sha256, parts: ready.thumb ? 1 : 0};
        }""",
        base64.b64encode(original).decode(),
    )
    rendition = base64.b64decode(made["rendition"])
    assert made["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert made["sha256"] == hashlib.sha256(rendition).hexdigest()
    image = Image.open(io.BytesIO(rendition))
    assert image.format == "JPEG" and max(image.size) == 1600
    assert image.size[0] > image.size[1]  # still landscape, as the original
    exif = image.getexif()
    source = Image.open(io.BytesIO(original)).getexif()
    assert exif.get(0x0112, 1) == 1
    assert exif.get_ifd(0x8825) == source.get_ifd(0x8825)  # GPS
    assert exif.get_ifd(0x8769).get(0x9003) == source.get_ifd(0x8769).get(0x9003)  # taken at
    assert len(rendition) < len(original) / 2


def test_the_service_worker_lists_the_shell_and_changes_with_it(client, db):
    from qcloop.field import views

    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Cache-Control"] == "no-cache"
    text = response.content.decode()
    for path in views.SHELL_ASSETS:
        assert f"/static/{path}" in text
    assert views.shell_version() in text
    manifest = json.loads(client.get("/field/manifest.webmanifest").content)
    assert manifest["start_url"] == manifest["scope"] == "/field/"
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert client.get("/field/").status_code == 302  # signed out: to the sign-in page
