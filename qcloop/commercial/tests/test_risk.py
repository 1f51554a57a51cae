"""The service recommendation rule, with hand-checked scores (no database)."""

from decimal import Decimal

from qcloop.commercial.risk import Money, RiskFacts, Service, recommend, regulated_regimes

USD = "USD"


def facts(**changes) -> RiskFacts:
    base = {"fob": Money(Decimal("20000"), USD), "destination_market": "US"}
    return RiskFacts(**(base | changes))


def triggers(recommendation) -> dict[str, int]:
    return {reason.trigger: reason.weight for reason in recommendation.reasons}


def test_a_repeat_po_with_no_trigger_is_psi_only():
    answer = recommend(facts())
    assert (answer.service, answer.score, answer.reasons) == (Service.PSI_ONLY, 0, ())
    assert answer.milestones == ("PSI",)


def test_the_first_po_with_a_new_supplier_alone_buys_a_dupro():
    # 3 points: 2 <= 3 < 5, DUPRO + PSI.
    answer = recommend(facts(first_po_with_supplier=True, supplier_name="Brightway"))
    assert answer.service == Service.DUPRO_PSI and answer.score == 3
    assert answer.reasons[0].fact == "No earlier PO of this buyer with Brightway."
    assert answer.milestones == ("DUPRO", "PSI")


def test_first_po_plus_a_regulated_market_is_full_monitoring():
    # first PO 3 + regulated market 2 = 5 >= 5: full production monitoring.
    lamp = ("LT-1", "lighting", ("UL",))
    answer = recommend(
        facts(first_po_with_supplier=True, products=(lamp,), destination_market="DE")
    )
    assert triggers(answer) == {"first_po": 3, "regulated_market": 2}
    assert answer.service == Service.FULL and answer.milestones == ("IPC", "DUPRO", "PSI", "CLI")
    regulated = answer.reasons[1].fact
    assert "LT-1: CE marking (implied by the lighting category)" in regulated


def test_every_trigger_adds_its_weight_and_history_is_capped():
    # 3 + 2 + 2 + 2 + 2 + 2 + min(4, 3) + min(3, 2) + 1 = 19.
    toy = ("TY-1", "toys", ("CPSIA", "ASTM_F963"))
    answer = recommend(
        facts(
            fob=Money(Decimal("50000.01"), USD),
            first_po_with_supplier=True,
            new_material_or_tooling=True,
            products=(toy,),
            retailer_compliance="Walmart",
            hero_sku=True,
            failed_milestones=("PSI of PO 1", "DUPRO of PO 2", "PSI of PO 3", "CLI of PO 4"),
            open_capas=("CAPA-1-1", "CAPA-2-1", "CAPA-3-1"),
            complex_product=True,
        )
    )
    assert answer.score == 19 and answer.service == Service.FULL
    assert triggers(answer)["past_failures"] == 3 and triggers(answer)["open_capas"] == 2
    assert "Walmart" in next(r.fact for r in answer.reasons if r.trigger == "retailer_compliance")


def test_one_failure_or_a_complex_product_alone_stays_at_psi_together_dupro():
    assert recommend(facts(failed_milestones=("PSI of PO 9",))).service == Service.PSI_ONLY
    assert recommend(facts(complex_product=True)).service == Service.PSI_ONLY
    # 1 + 1 = 2: DUPRO + PSI.
    both = recommend(facts(complex_product=True, failed_milestones=("PSI of PO 9",)))
    assert both.score == 2 and both.service == Service.DUPRO_PSI


def test_fob_at_the_threshold_is_not_above_it():
    assert recommend(facts(fob=Money(Decimal("50000.00"), USD))).score == 0
    above = recommend(facts(fob=Money(Decimal("50000.01"), USD)))
    assert triggers(above) == {"fob_above_threshold": 2}


def test_a_fob_in_another_currency_needs_a_rate():
    # 48,000 EUR x 1.08 = 51,840 USD > 50,000: the trigger holds.
    eur = Money(Decimal("48000"), "EUR")
    converted = recommend(facts(fob=eur, rate_to_threshold_currency=Decimal("1.08")))
    assert triggers(converted) == {"fob_above_threshold": 2}
    assert "= USD 51,840.00 at 1.08 USD/EUR" in converted.reasons[0].fact
    # Without a rate: not assessed, and the notes say so instead of guessing.
    unrated = recommend(facts(fob=eur))
    assert unrated.score == 0 and "gives no EUR rate" in unrated.notes[0]


def test_regimes_count_only_in_the_market_they_apply_in():
    # CPSIA is a US law: a toy for the EU is regulated by EN 71 and CE (from its category).
    assert regulated_regimes("toys", ("CPSIA",), "US") == [("CPSIA", "listed on the product")]
    assert [code for code, _ in regulated_regimes("toys", ("CPSIA",), "FR")] == ["EN71", "CE"]
    # Voluntary marks and substance rules do not make a market regulated.
    assert regulated_regimes("garments", ("OEKO_TEX", "REACH"), "EU") == []
    assert regulated_regimes("food_contact", (), "US") == [
        ("FDA_FCM", "implied by the food-contact category")
    ]
