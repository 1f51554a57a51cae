"""The demo's progress, on one tenant: fast, without loading the whole program."""

from datetime import timedelta

import pytest

from qcloop.scheduling.demo import load_demo_scheduling
from qcloop.scheduling.models import ProgressReport, ScheduleWarning

pytestmark = pytest.mark.django_db


def test_the_demo_reports_progress_and_one_factory_falls_behind(running):
    # The only PO in production is the one that falls behind: 70 % of an even run's pace.
    # Yesterday (T-1) is 4 days into a 34-day run to the PSI deadline: 4/34 * 0.7 = 8.2 %
    # of 3000 = 247 units, 61.8 a day; 2753 left take 45 days, to T+44: 15 days late.
    load_demo_scheduling(today=running.today)
    report = ProgressReport.objects.get(po=running.po)
    assert report.reported_on == running.today - timedelta(days=1) and report.produced == 247
    warning = ScheduleWarning.objects.get(po=running.po, cleared_at__isnull=True)
    assert warning.days_late == 15
