"""The CAPA loop in Chromium, end to end: the supplier answers in its portal with an evidence
photo, the QC lead accepts, and at the PSI the inspector's phone, with no signal, verifies the
corrective action with a photo; back online, one verification closes the CAPA."""

import pytest

from conftest import sign_in
from qcloop.capa.models import CapaEvidence, CapaStatus, CapaVerification, CorrectiveAction
from qcloop.field.tests import test_field_browser as field
from qcloop.field.tests.test_field_browser import (
    book,
    download,
    open_app,
    stats,
    sync_until_sent,
)
from qcloop.testing import submit_inspection_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The field app's phone: its own context (to take offline) and page.
context, phone = field.context, field.phone
FIX_PHOTO = "jpg/Canon_40D.jpg"
CHECK_PHOTO = "jpg/gps/DSCN0010.jpg"


def test_answered_in_the_portal_accepted_then_verified_offline_at_the_psi(
    page,
    context,
    phone,
    live_world,
    shared_photos,
    run_worker,
    screenshot,
):
    submit_inspection_of(live_world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    capa = CorrectiveAction.objects.get()

    # The supplier's portal: what it must answer, and the answer with a photo.
    sign_in(page, live_world.users["supplier_user"])
    page.goto("/capas/?open=1")
    page.click(f"text={capa.reference}")
    page.wait_for_selector("#answer-form")
    whys = page.locator("#answer-form input[name=why]")
    whys.nth(0).fill("Shade screws loose")
    whys.nth(1).fill("The driver's clutch was set too low")
    page.fill("#answer-form textarea[name=root_cause]", "No torque setting on line 2")
    page.fill("#answer-form textarea[name=correction]", "All packed units re-torqued")
    page.fill("#answer-form textarea[name=prevention]", "Clutch checked at each shift start")
    page.set_input_files("#answer-form input[name=evidence]", str(shared_photos / FIX_PHOTO))
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector("text=Answer sent to the QC lead.")
    page.wait_for_selector("#answers .evidence img")
    screenshot("capa-answered")
    assert CapaEvidence.objects.filter(capa=capa).count() == 1

    # The QC lead accepts it.
    page.context.clear_cookies()
    sign_in(page, live_world.qc_lead)
    page.goto(f"/capas/{capa.pk}/")
    page.click("#decide-form button[value=accept]")
    page.wait_for_selector("text=Decision recorded.")
    capa.refresh_from_db()
    assert capa.status == CapaStatus.ACCEPTED

    # At the PSI, on the phone, with no signal.
    psi = book(live_world, "PSI")
    open_app(phone, live_world.inspector)
    download(phone, psi)
    context.set_offline(True)
    phone.wait_for_selector("#net-state.offline")
    phone.click("#start-inspection")
    card = phone.locator(f"#sec-previous .capa[data-capa='{capa.pk}']")
    card.wait_for()
    assert "No torque setting on line 2" in card.inner_text()
    card.locator("textarea[name=note]").fill("20 units checked: every screw tight")
    card.locator("input[type=file]").set_input_files(str(shared_photos / CHECK_PHOTO))
    phone.wait_for_function(
        f"() => document.querySelector(\"[data-capa='{capa.pk}'] .actions\")"
        ".innerText.includes('1 photo kept')"
    )
    card.locator("button[type=submit]").click()
    phone.wait_for_selector(f"[data-capa='{capa.pk}'] .capa-verdict")
    assert "on this phone" in phone.inner_text(f"[data-capa='{capa.pk}'] .capa-verdict")
    phone.locator("#sec-previous").screenshot(path="test-artifacts/capa-verified-offline.png")
    assert not CapaVerification.objects.exists()  # nothing reached the server

    context.set_offline(False)
    sync_until_sent(phone)
    run_worker()
    capa.refresh_from_db()
    assert capa.status == CapaStatus.CLOSED
    verification = CapaVerification.objects.get()
    assert verification.milestone == psi and verification.effective
    (photo,) = verification.evidence
    assert photo.status == "ready" and photo.original_name == "DSCN0010.jpg"
    verdict = phone.locator(f"[data-capa='{capa.pk}'] .capa-verdict")
    verdict.wait_for()
    assert "on this phone" not in verdict.inner_text()  # the server's now
    assert stats(phone)["pending_ops"] == 0
