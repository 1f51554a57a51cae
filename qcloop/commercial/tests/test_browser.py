"""The quote page in Chromium: the coordinator compares separate against bundled, issues the
quote, and the buyer accepts the bundle."""

import pytest

from conftest import sign_in
from qcloop.commercial.models import Quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_coordinator_quotes_the_bundle_and_the_buyer_accepts(page, live_world, screenshot):
    po = live_world.po
    sign_in(page, live_world.users["coordinator"])
    page.goto(f"/pos/{po.pk}/")
    page.wait_for_selector("#po-recommendation")
    assert "DUPRO + PSI" in page.inner_text("#po-recommendation")
    page.click("#po-recommendation >> text=Quote: separate against bundled")

    # Recommended DUPRO + PSI: too few for the bundle; tick IPC and CLI too.
    page.wait_for_selector("#quote-options")
    assert "3 or more milestones" in page.inner_text("[data-option=bundle]")
    page.check("#milestone-choice input[value=IPC]")
    page.check("#milestone-choice input[value=CLI]")
    page.click("#milestone-choice button[type=submit]")
    page.wait_for_selector("[data-option=bundle] .total")
    # 1,190 separate; 892.50 bundled, saving 297.50 (25.00 %).
    assert "USD 1,190.00" in page.inner_text("[data-option=separate]")
    bundle = page.inner_text("[data-option=bundle]")
    assert "USD 892.50" in bundle and "USD 297.50" in bundle and "25.00 %" in bundle
    screenshot("commercial-quote")
    page.click("text=Issue this quote")
    page.wait_for_selector("#issued-quotes")
    quote = Quote.objects.get()
    assert quote.milestones == ["IPC", "DUPRO", "PSI", "CLI"]

    page.context.clear_cookies()
    sign_in(page, live_world.users["buyer_manager"])
    page.goto(f"/pos/{po.pk}/quote/")
    page.click("#issued-quotes >> text=Accept bundle")
    page.wait_for_selector("text=accepted")
    quote.refresh_from_db()
    assert (quote.status, quote.accepted_option) == ("accepted", "bundle")
