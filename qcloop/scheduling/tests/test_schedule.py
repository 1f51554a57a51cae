"""The pure schedule, with dates worked out by hand (no database)."""

from datetime import date

from qcloop.scheduling.schedule import COUNT, REPORT, Order, Point, effective_points, place

# 3,000 units from Mon 2 Mar 2026; ex-factory Sat 11 Apr, so the PSI deadline is Fri 10 Apr;
# ship Thu 16 Apr. From 2 Mar to 10 Apr is 29 + 10 = 39 days.
ORDER = Order(3000, date(2026, 3, 2), date(2026, 4, 11), date(2026, 4, 16))


def windows(schedule):
    return {k: (p.window_start, p.window_end) for k, p in schedule.placements.items()}


def test_without_progress_the_plan_runs_evenly_to_the_psi_deadline():
    s = place(ORDER, [])
    # 3000 units over 39 days. 30 % = 900 units: 900 / (3000/39) = 11.7 -> day 12 = 14 Mar;
    # 50 % = 1500: 19.5 -> day 20 = 22 Mar; 100 %: day 39 = 10 Apr.
    assert windows(s) == {
        "IPC": (date(2026, 3, 2), date(2026, 3, 4)),
        "DUPRO": (date(2026, 3, 14), date(2026, 3, 22)),
        "PSI": (date(2026, 4, 10), date(2026, 4, 10)),
        "CLI": (date(2026, 4, 11), date(2026, 4, 16)),
    }
    assert not s.risk.at_risk and "plan" in s.projection.method


def test_one_report_sets_the_rate_from_the_production_start():
    # 1000 produced on 12 Mar, 10 days in: 100 a day. 900 units: 9/10 of the way -> 11 Mar.
    # 1500: 12 Mar + 500/100 = 17 Mar. 100 %: 12 Mar + 20 = 1 Apr. Nothing packed: packing
    # trails by the full week, so 80 % packed is 2400 produced (12 Mar + 14 = 26 Mar) + 7 = 2 Apr.
    s = place(ORDER, [Point(date(2026, 3, 12), 1000, 0)])
    assert windows(s)["DUPRO"] == (date(2026, 3, 11), date(2026, 3, 17))
    assert s.psi_ready == date(2026, 4, 2)
    assert windows(s)["PSI"] == (date(2026, 4, 2), date(2026, 4, 10))
    assert windows(s)["CLI"] == (date(2026, 4, 11), date(2026, 4, 16))
    assert not s.risk.at_risk
    assert "100 units a day" in s.projection.method and "7 days" in s.projection.method


def test_a_count_below_the_report_moves_dupro_and_psi_later_and_puts_the_ship_date_at_risk():
    report = Point(date(2026, 3, 12), 1500, 0, REPORT)
    count = Point(date(2026, 3, 13), 600, 0, COUNT)
    before = place(ORDER, [report])
    after = place(ORDER, [report, count])
    # Before: 150 a day; 900 units 6/10 of the way to 12 Mar = 8 Mar, 1500 on 12 Mar.
    # The report is set aside by the later count: 600 in 11 days = 54.5 a day.
    # 900 units: 13 Mar + ceil(300 * 11 / 600 = 5.5) = 19 Mar; 1500: + ceil(16.5) = 30 Mar.
    # 100 %: + ceil(2400 * 11 / 600 = 44) = 26 Apr; 80 % packed: 2400 produced
    # (+ ceil(1800 * 11 / 600 = 33) = 15 Apr) + 7 days lag = 22 Apr: production is the limit.
    assert windows(before)["DUPRO"] == (date(2026, 3, 8), date(2026, 3, 12))
    assert windows(after)["DUPRO"] == (date(2026, 3, 19), date(2026, 3, 30))
    assert after.psi_ready == date(2026, 4, 26) > before.psi_ready
    # 26 Apr is 16 days after the PSI deadline of 10 Apr; loading on 27 Apr, 11 days after
    # the ship date of 16 Apr: the larger is the margin.
    assert after.risk.days_late == 16
    assert len(after.risk.reasons) == 2 and "100 % produced" in after.risk.reasons[0]
    assert windows(after)["CLI"] == (date(2026, 4, 27), date(2026, 4, 27))


def test_loading_after_the_ship_date_is_a_second_reason():
    # 1000 units from 2 Mar, ex-factory and ship 20 Mar (PSI deadline 19 Mar). 500 produced
    # and packed on 12 Mar: 50 a day, packing no lag. 100 % on 12 Mar + 10 = 22 Mar (3 days
    # late); 80 % packed with 800 produced, 12 Mar + 6 = 18 Mar. Loading the day after the
    # PSI: 23 Mar, 3 days after 20 Mar.
    order = Order(1000, date(2026, 3, 2), date(2026, 3, 20), date(2026, 3, 20))
    s = place(order, [Point(date(2026, 3, 12), 500, 500)])
    assert s.psi_ready == date(2026, 3, 22) and s.loading_day == date(2026, 3, 23)
    assert s.risk.days_late == 3 and len(s.risk.reasons) == 2
    assert "ship date 20 Mar" in s.risk.reasons[1]


def test_stalled_production_is_at_risk_by_an_unknown_margin():
    points = [Point(date(2026, 3, 10), 500, 0), Point(date(2026, 3, 15), 500, 0)]
    s = place(ORDER, points)
    assert s.risk.at_risk and s.risk.days_late is None
    assert "did not advance" in s.risk.reasons[0]
    assert set(s.placements) == {"IPC"}  # nothing else can be projected
    assert s.risk.severity > place(ORDER, [Point(date(2026, 3, 13), 900, 0, COUNT)]).risk.severity


def test_a_count_outranks_a_report_of_the_same_day_and_earlier_reports():
    points = [
        Point(date(2026, 3, 10), 1400, 0, REPORT),
        Point(date(2026, 3, 12), 1200, 0, REPORT),
        Point(date(2026, 3, 12), 1000, 0, COUNT),
        Point(date(2026, 3, 17), 1500, 0, REPORT),
    ]
    assert effective_points(points) == [points[2], points[3]]
    # From the count (1000 on 12 Mar) to the later report (1500 on 17 Mar): 100 a day.
    s = place(ORDER, points)
    assert "100 units a day from 12 Mar to 17 Mar" in s.projection.method
    # 3000 on 17 Mar + 15 = 1 Apr; 2400 produced on 17 Mar + 9 = 26 Mar, packed 7 days later.
    assert s.psi_ready == date(2026, 4, 2)


def test_today_moves_a_passed_window_to_today_and_says_so():
    s = place(ORDER, [Point(date(2026, 3, 12), 1000, 0)], today=date(2026, 3, 15))
    assert windows(s)["DUPRO"] == (date(2026, 3, 15), date(2026, 3, 17))
    assert windows(s)["IPC"] == (date(2026, 3, 15), date(2026, 3, 15))
    assert any(n.startswith("IPC") for n in s.notes)


def test_one_point_on_the_production_start_keeps_the_plan_pace_for_the_rest():
    # 300 counted on 2 Mar, the start: 2700 left over the 39 days to 10 Apr (69.2 a day).
    # 900 units: 2 Mar + ceil(600 * 39 / 2700 = 8.67) = 11 Mar; 3000: 2 Mar + 39 = 10 Apr.
    s = place(ORDER, [Point(date(2026, 3, 2), 300, 0, COUNT)])
    assert windows(s)["DUPRO"][0] == date(2026, 3, 11)
    assert s.psi_ready == date(2026, 4, 10) and not s.risk.at_risk
    assert "plan's pace" in s.projection.method


def test_packing_trails_by_the_lag_seen_at_the_latest_point():
    # 1000 produced and 800 packed on 12 Mar (100 a day from 2 Mar): production stood at 800
    # on 10 Mar, a lag of 2 days. 80 % packed: 2400 produced on 26 Mar + 2 = 28 Mar; 100 %
    # produced on 1 Apr is the later: the PSI is ready on 1 Apr.
    s = place(ORDER, [Point(date(2026, 3, 12), 1000, 800)])
    assert s.projection.packing_lag == 2 and s.psi_ready == date(2026, 4, 1)
    # Packing far behind (100 packed: production was there on 3 Mar, 9 days back): capped at 7.
    assert place(ORDER, [Point(date(2026, 3, 12), 1000, 100)]).projection.packing_lag == 7
