"""The buyer's manager in Chromium: names a webhook, sees a critical finding's notifications
and acknowledges it."""

import pytest

from conftest import sign_in
from qcloop.alerts import delivery
from qcloop.alerts.models import Escalation
from qcloop.alerts.tests.test_delivery import Receiver
from qcloop.inspections.recording import record_defect
from qcloop.testing import start_inspection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_buyer_names_a_webhook_then_acknowledges_a_critical_finding(
    page, live_world, screenshot, smtp_server
):
    receiver = Receiver()
    receiver.start()
    try:
        manager = live_world.users["buyer_manager"]
        sign_in(page, manager)
        page.goto("/escalations/settings/")
        form = page.locator("form:has(input[value=add_channel])")
        form.locator("input[name=name]").fill("ERP")
        form.locator("input[name=url]").fill(receiver.url)
        form.locator("button").click()
        page.wait_for_selector("#channels >> text=ERP")
        milestone = start_inspection(live_world, "DUPRO")
        record_defect(
            by=live_world.inspector,
            milestone=milestone,
            quantity=1,
            description="Live part reachable through the lamp holder",
            defect_class="critical",
        )
        delivery.send_due()
        page.goto("/escalations/")
        page.click("#escalations >> text=Live part reachable")
        assert page.locator("#notifications .badge.delivery-status-sent").count() == 3
        screenshot("escalation-detail")
        page.click("button:has-text('Acknowledge')")
        page.wait_for_selector("#acknowledged")
        assert Escalation.objects.get().acknowledged_by == manager
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()
