"""Default milestone windows (pure, no database)."""

from datetime import date

from qcloop.inspections.planning import DEFAULT_RUN_DAYS, default_windows


def test_windows_follow_the_glossary_timing():
    windows = default_windows(date(2026, 3, 1), date(2026, 4, 10), date(2026, 4, 15))
    # 40-day run: IPC days 1-3, DUPRO at 30-50 %, PSI the five days before ex-factory,
    # CLI from ex-factory to the ship date.
    assert windows == {
        "IPC": (date(2026, 3, 1), date(2026, 3, 3)),
        "DUPRO": (date(2026, 3, 13), date(2026, 3, 21)),
        "PSI": (date(2026, 4, 5), date(2026, 4, 9)),
        "CLI": (date(2026, 4, 10), date(2026, 4, 15)),
    }


def test_without_a_production_start_a_typical_run_is_assumed():
    windows = default_windows(None, date(2026, 4, 10), date(2026, 4, 10))
    assert (date(2026, 4, 10) - windows["IPC"][0]).days == DEFAULT_RUN_DAYS
    assert windows["CLI"] == (date(2026, 4, 10), date(2026, 4, 10))


def test_a_very_short_run_keeps_windows_ordered():
    windows = default_windows(date(2026, 4, 8), date(2026, 4, 10), date(2026, 4, 10))
    starts = [windows[k][0] for k in ("IPC", "DUPRO", "PSI", "CLI")]
    assert starts == sorted(starts)
    assert all(end >= start for start, end in windows.values())
