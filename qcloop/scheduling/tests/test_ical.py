"""iCalendar output, parsed back: folding at 75 octets, escaping, CRLF, all-day dates."""

from datetime import UTC, date, datetime

from qcloop.scheduling import ical


def event(**changes):
    base = {
        "uid": "milestone-7-inspector@qcloop",
        "stamp": datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        "first_day": date(2026, 12, 10),
        "last_day": date(2026, 12, 10),
        "summary": "DUPRO · PO 4500012345 · Guzhen Lighting, Ltd; line 3 \\ B",
        "description": "Line one,\nline two; done",
        "location": "Plant 2, 18 Xingye Rd, Zhongshan, CN",
    }
    return ical.Event(**(base | changes))


def test_text_values_escape_backslash_semicolon_comma_and_newline():
    assert ical.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert ical.unescape(ical.escape("a,b;c\\d\ne")) == "a,b;c\\d\ne"


def test_the_calendar_round_trips_with_crlf_and_all_day_dates():
    text = ical.calendar("qcloop: bookings", [event()])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith(
        "END:VCALENDAR\r\n"
    )
    assert "\n" not in text.replace("\r\n", "")
    assert "DTSTART;VALUE=DATE:20261210\r\n" in text
    assert "DTEND;VALUE=DATE:20261211\r\n" in text  # exclusive: the day after
    assert "DTSTAMP:20261203T093000Z\r\n" in text
    assert (
        "SUMMARY:DUPRO · PO 4500012345 · Guzhen Lighting\\, Ltd\\; line 3 \\\\ B"
        in text.replace("\r\n ", "")
    )
    [parsed] = ical.parse(text)
    assert parsed["SUMMARY"] == event().summary
    assert parsed["DESCRIPTION"] == "Line one,\nline two; done"
    assert parsed["LOCATION"] == event().location
    assert parsed["DTSTART"] == date(2026, 12, 10) and parsed["DTEND"] == date(2026, 12, 11)
    assert parsed["UID"] == "milestone-7-inspector@qcloop"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    # "·" and "é" are two octets in UTF-8: a fold must fall between characters.
    summary = "Contrôle · " * 30
    text = ical.calendar("x", [event(summary=summary)])
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line
    folded = [line for line in text.split("\r\n") if line.startswith(" ")]
    assert len(folded) >= 4
    assert ical.parse(text)[0]["SUMMARY"] == summary


def test_a_line_of_exactly_75_octets_is_not_folded():
    line = "X" * 75
    assert ical.fold(line) == line
    assert ical.fold(line + "Y") == line + "\r\n Y"
