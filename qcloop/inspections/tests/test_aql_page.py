"""The AQL calculator page and the plan explanations it gives."""

from math import comb

import pytest
from django.urls import reverse

from qcloop.inspections.protection import protection
from qcloop.sampling import plan


def test_protection_in_words_for_a_hand_checked_plan():
    # Lot 3200 at level II is code K: n 125, Ac 7, Re 8 (ISO 2859-1 Table II-A, AQL 2.5).
    found = protection(plan(3200, "2.5"))
    assert (found.plan.n, found.plan.ac, found.plan.re) == (125, 7, 8)
    # Binomial, summed by hand: 1 - sum_{k<=7} C(125,k) 0.025^k 0.975^(125-k) = 0.013616.
    exact = 1 - sum(comb(125, k) * 0.025**k * 0.975 ** (125 - k) for k in range(8))
    assert found.producer_risk == pytest.approx(exact, rel=1e-9)
    assert found.sentences()[0].endswith("accepted 98.6% of the time and rejected 1.4%.")
    assert found.lq10 == pytest.approx(0.092, abs=0.001)
    assert found.sentences()[1].startswith("This plan accepts a lot with 9.2 % defective 10 %")


@pytest.mark.django_db
def test_the_calculator_shows_the_plan_and_its_curve(client):
    response = client.get(
        reverse("inspections:aql"),
        {"lot": 3200, "aql": "2.5", "level": "II", "severity": "normal", "scheme": "single"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="plan-n">125<' in html and 'id="plan-ac">7<' in html and 'id="plan-re">8<' in html
    assert 'id="oc-data" type="application/json"' in html
    assert "accepts a lot with 9.2 % defective 10 % of the time" in html


@pytest.mark.django_db
def test_a_double_plan_shows_both_samples(client):
    response = client.get(
        reverse("inspections:aql"),
        {"lot": 3200, "aql": "2.5", "level": "II", "severity": "normal", "scheme": "double"},
    )
    assert "First sample" in response.content.decode()
    assert response.context["result"].asn_at_aql < 125


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lot": 1}, "lot"),
        ({"lot": "many"}, "lot"),
        ({"aql": "3.0"}, "aql"),
        ({"level": "IV"}, "level"),
    ],
)
def test_bad_input_is_named(client, params, field):
    query = {"lot": 500, "aql": "2.5", "level": "II", "severity": "normal", "scheme": "single"}
    response = client.get(reverse("inspections:aql"), {**query, **params})
    assert response.context["result"] is None
    assert response.context["form"].errors[field]
