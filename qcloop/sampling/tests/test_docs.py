"""docs/sampling.md and the package docstring stay true to the code."""

import doctest
import re
from pathlib import Path

import pytest

import qcloop.sampling
from qcloop.sampling import lq10, plan, prob_accept, switching

DOC = Path(__file__).resolve().parents[3] / "docs" / "sampling.md"


def test_package_docstring_example():
    assert doctest.testmod(qcloop.sampling, verbose=False).failed == 0


def test_doc_examples_run():
    result = doctest.testfile(str(DOC), module_relative=False, verbose=False)
    assert result.failed == 0 and result.attempted >= 3


def test_doc_oc_table_matches_the_engine():
    rows = re.findall(
        r"^\| (?:\*\*)?([\d.]+)[^|]*\| (?:\*\*)?([\d.]+)(?:\*\*)? \| ([\d.]+) \|$",
        DOC.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    assert len(rows) == 10
    found = plan(5000, "2.5")
    for percent, binomial, hypergeometric in rows:
        p = float(percent) / 100
        if percent == "7.6":  # the LQ10 row: printed rounded
            p = lq10(found)
        assert prob_accept(found, p) == pytest.approx(float(binomial), abs=0.0005)
        assert prob_accept(found, p, "hypergeometric") == pytest.approx(
            float(hypergeometric), abs=0.0006
        )


def test_doc_switching_example_wording():
    state = switching.SwitchingState()
    for number, accepted in enumerate([True, False, True, True, False], start=4407):
        state = switching.advance(
            state, switching.LotResult(lot_id=f"PO {number}", accepted=accepted, ac=0)
        )
    assert state.explanation.startswith(
        "tightened since lot PO 4411: 2 of the last 4 lots were not accepted (0 of 5 "
        "consecutive acceptances to return to normal;"
    )
    doc_text = " ".join(DOC.read_text(encoding="utf-8").split())
    assert state.explanation.split(";")[0] in doc_text
