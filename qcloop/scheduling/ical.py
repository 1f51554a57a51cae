"""iCalendar (RFC 5545) text, written by hand. Pure: no Django.

What calendar apps need of it: CRLF line ends; content lines folded at 75 octets (a CRLF and
one space, never inside a UTF-8 character); TEXT values with backslash, semicolon, comma and
newline escaped; a stable UID per event so that a re-fetched feed updates events in place;
all-day events as DTSTART;VALUE=DATE with an exclusive DTEND the day after the last day."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

CRLF = "\r\n"
LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    stamp: datetime  # timezone-aware
    first_day: date
    last_day: date
    summary: str
    description: str = ""
    location: str = ""
    status: str = "CONFIRMED"  # or TENTATIVE, CANCELLED
    url: str = ""


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, continuation lines starting with
    a space (which counts towards their 75)."""
    pieces, current, size, limit = [], [], 0, LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [" "], 1, LINE_OCTETS
        current.append(char)
        size += width
    pieces.append("".join(current))
    return CRLF.join(pieces)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: list[Event], prodid: str = "-//qcloop//Scheduling//EN") -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{prodid}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_stamp(event.stamp)}",
            f"DTSTART;VALUE=DATE:{event.first_day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.last_day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        if event.location:
            lines.append(f"LOCATION:{escape(event.location)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines += [f"STATUS:{event.status}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


# --- reading it back (for tests and for anyone checking a feed) -----------------------------


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def parse(text: str) -> list[dict]:
    """The VEVENTs of a calendar as {NAME: value} (TEXT unescaped; DTSTART/DTEND as dates),
    after unfolding. Raises ValueError on a bare LF or an unterminated component."""
    if "\n" in text.replace(CRLF, ""):
        raise ValueError("a line ends without CR")
    unfolded = text.replace(CRLF + " ", "").replace(CRLF + "\t", "")
    events, current = [], None
    for line in unfolded.split(CRLF):
        if not line:
            continue
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        if name == "BEGIN" and value == "VEVENT":
            current = {}
        elif name == "END" and value == "VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            if name in {"DTSTART", "DTEND"}:
                assert params == ["VALUE=DATE"], params
                current[name] = datetime.strptime(value, "%Y%m%d").date()
            elif name in {"SUMMARY", "DESCRIPTION", "LOCATION"}:
                current[name] = unescape(value)
            else:
                current[name] = value
    if current is not None:
        raise ValueError("an event is not closed")
    return events
