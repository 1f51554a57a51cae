"""A supplier's CAPA history: the pure summary (rules.history) and the supplier's page, where
a finding that comes back on a later PO is marked as a recurrence."""

from datetime import date

import pytest
from django.test import Client

from qcloop.capa import rules
from qcloop.capa.models import CapaStatus, CorrectiveAction
from qcloop.testing import submit_inspection_of


def fact(reference, key, opened, status="open", **more) -> rules.CapaFact:
    return rules.CapaFact(
        reference=reference,
        key=key,
        title=key,
        severity="major",
        po_number=more.pop("po", "PO-1"),
        opened_on=opened,
        due_on=more.pop("due", date(2026, 3, 10)),
        status=status,
        **more,
    )


def test_history_counts_and_marks_recurrences_oldest_first():
    capas = [
        fact("C-3", "defect:LT-01", date(2026, 5, 1), po="PO-2"),
        fact(
            "C-1",
            "defect:LT-01",
            date(2026, 3, 1),
            "closed",
            answered_on=date(2026, 3, 4),
            verifications=(True,),
        ),
        fact(
            "C-2",
            "check:PK-02",
            date(2026, 3, 2),
            "accepted",
            answered_on=date(2026, 3, 12),
            answers_sent_back=1,
        ),
        fact("C-4", "defect:LT-01", date(2026, 6, 1), po="PO-3", due=date(2026, 6, 3)),
    ]
    history = rules.history(capas, today=date(2026, 6, 5))
    assert (history.opened, history.open, history.closed, history.overdue) == (4, 3, 1, 2)
    assert history.recurrence_of == {"C-3": "C-1", "C-4": "C-3"}
    assert history.recurrences == 2 and history.recurrence_rate == 0.5
    (recurring,) = history.recurring
    assert recurring.references == ("C-1", "C-3", "C-4")
    assert recurring.po_numbers == ("PO-1", "PO-2", "PO-3")
    # C-1 answered before its due date, C-2 after; C-2 was sent back once.
    assert (history.answered_on_time, history.answered, history.on_time_rate) == (1, 2, 0.5)
    assert (history.accepted_first_time, history.decided) == (1, 2)
    assert (history.effective_first_time, history.verified) == (1, 1)


def test_an_empty_history_has_no_rates():
    history = rules.history([], today=date(2026, 6, 5))
    assert history.opened == 0 and history.on_time_rate is None
    assert history.recurrence_rate is None and history.recurring == ()


@pytest.mark.django_db
def test_the_supplier_page_marks_a_defect_coming_back_on_the_next_po(world):
    from qcloop.testing import next_po_of

    submit_inspection_of(world, "DUPRO", defects=[("major", 2, "Loose shade screws")])
    first = CorrectiveAction.objects.get()
    first.status = CapaStatus.CLOSED
    first.save()
    again = next_po_of(world)
    submit_inspection_of(again, "DUPRO", defects=[("major", 3, "Loose shade screws")])
    second = CorrectiveAction.objects.exclude(pk=first.pk).get()
    assert second.recurrence_of == first
    client = Client()
    client.force_login(world.users["buyer_manager"])
    page = client.get(f"/suppliers/{world.supplier.pk}/").content.decode()
    assert 'id="capa-history"' in page and "1 recurrence" in page
    assert f"{first.reference} → {second.reference}" in page
    assert 'class="badge recurrence"' in page
    # The next PO's summary carries the supplier's CAPA record with the finding that came back.
    from qcloop.reports.summary import summary_content

    record = summary_content(again.po)["supplier"]["capa_record"]
    assert record["opened"] == 2 and record["recurrences"] == 1
    assert record["recurring"] == [
        {
            "title": second.title,
            "references": [first.reference, second.reference],
            "pos": [world.po.number, again.po.number],
        }
    ]
