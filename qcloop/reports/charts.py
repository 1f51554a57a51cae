"""SVG charts of the PO summary, drawn by hand so that the same string works inline in the HTML
report and inside a WeasyPrint PDF: a fixed viewBox, DejaVu Sans (what WeasyPrint has), no
scripts, no external references, every text XML-escaped. Pure Python, standard library only.

Each chart carries a <title> and a <desc> that says in words what the chart shows, for screen
readers and for anyone reading the PDF as text."""

import hashlib
import math
import re
from collections.abc import Iterable
from datetime import date, timedelta

from qcloop.reports.summary_logic import CLASSES, MONTHS, RatePoint, TimelineRow

FONT = "DejaVu Sans, sans-serif"
COLOURS = {"critical": "#b42318", "major": "#b54708", "minor": "#475467"}
INK = "#101828"
MUTED = "#667085"
GRID = "#eaecf0"
AXIS = "#98a2b3"
WINDOW = "#d0d5dd"
LATE = "#b42318"
EARLY = "#175cd3"
ON_TIME = "#1d2939"

# Characters XML 1.0 does not allow at all (escaping cannot save them): drop them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def esc(text: object) -> str:
    """Text and attribute values, XML-escaped (quotes included) and without control chars."""
    value = _NOT_XML.sub("", str(text))
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _tick_label(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, size=10, anchor="start", fill=INK, extra="") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-family="{FONT}" font-size="{size}" '
        f'text-anchor="{anchor}" fill="{fill}"{extra}>{esc(content)}</text>'
    )


def _open(kind: str, width: int, height: int, title: str, desc: str) -> list[str]:
    # Ids unique per content, so several charts can sit inline in one page.
    digest = hashlib.sha256(f"{kind}|{width}|{height}|{title}|{desc}".encode()).hexdigest()[:10]
    uid = f"qc-{kind}-{digest}"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" font-family="{FONT}">',
        f'<title id="{uid}-title">{esc(title)}</title>',
        f'<desc id="{uid}-desc">{esc(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(8, 18, title, size=13, extra=' font-weight="bold"'),
    ]


def _empty(kind: str, width: int, height: int, title: str, message: str) -> str:
    parts = _open(kind, width, height, title, message)
    parts.append(_text(width / 2, height / 2, message, size=11, anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 5 x 10^k at or above value (an axis maximum that
    divides in five readable ticks)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


# --- defect rates --------------------------------------------------------------------------


def _rate_desc(points: list[RatePoint], labels: list[str]) -> str:
    parts = []
    for defect_class in CLASSES:
        mine = [p for p in points if p.defect_class == defect_class and p.sampled]
        if mine:
            series = ", ".join(f"{p.label} {p.rate:.1f}" for p in mine)
            parts.append(f"{defect_class.capitalize()}: {series} per 100 units")
    unsampled = [
        label
        for index, label in enumerate(labels)
        if not any(p.index == index and p.sampled for p in points)
    ]
    if unsampled:
        parts.append(f"not sampled: {', '.join(unsampled)}")
    return "Defects per 100 units inspected by milestone. " + "; ".join(parts) + "."


def defect_rate_chart(
    points: Iterable[RatePoint],
    width: int = 640,
    height: int = 260,
    title: str = "Defects per 100 units inspected",
) -> str:
    """One line per defect class across the milestones, 95 % interval whiskers, squares where
    a class reached its rejection number, "not sampled" under milestones without a sample."""
    points = list(points)
    by_index: dict[int, str] = {}
    for p in points:
        by_index.setdefault(p.index, p.label)
    indexes = sorted(by_index)
    labels = [by_index[i] for i in indexes]
    if not indexes:
        return _empty("rates", width, height, title, "No milestones to chart yet.")

    left, right, top, bottom = 52, width - 16, 44, height - 42
    plot_w, plot_h = right - left, bottom - top
    sampled = [p for p in points if p.sampled]
    data_max = max((p.rate for p in sampled), default=0.0)
    whisker_max = max((p.high for p in sampled), default=0.0)
    # Scale to the data, not to the widest whisker: a 13-unit IPC with no defect has an upper
    # bound near 23 per 100 and would flatten everything else. Longer whiskers are clipped
    # and end in an open arrowhead.
    y_max = nice_ceiling(max(data_max * 1.15, min(whisker_max, max(data_max * 2, 5.0)), 1.0))

    def x_of(index: int) -> float:
        return left + plot_w * (indexes.index(index) + 0.5) / len(indexes)

    def y_of(rate: float) -> float:
        return bottom - plot_h * min(rate, y_max) / y_max

    parts = _open("rates", width, height, title, _rate_desc(points, labels))

    # Legend, top right.
    legend_x = right - 230
    for offset, defect_class in enumerate(CLASSES):
        lx = legend_x + offset * 64
        parts.append(
            f'<line x1="{lx}" y1="14" x2="{lx + 14}" y2="14" stroke="{COLOURS[defect_class]}" '
            'stroke-width="2"/>'
        )
        parts.append(f'<circle cx="{lx + 7}" cy="14" r="3" fill="{COLOURS[defect_class]}"/>')
        parts.append(_text(lx + 18, 18, defect_class.capitalize(), size=10))
    parts.append(
        f'<line x1="{right - 30}" y1="8" x2="{right - 30}" y2="20" stroke="{MUTED}" '
        'stroke-width="1"/>'
    )
    parts.append(_text(right - 24, 18, "95 %", size=10, fill=MUTED))
    if any(p.passed is False for p in sampled):
        parts.append(f'<rect x="{legend_x - 110}" y="10" width="7" height="7" fill="{INK}"/>')
        parts.append(_text(legend_x - 99, 18, "over its Ac", size=10, fill=MUTED))

    # Grid and y axis.
    for i in range(6):
        value = y_max * i / 5
        y = y_of(value)
        parts.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{right}" y2="{_n(y)}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + 3.5, _tick_label(value), size=9, anchor="end", fill=MUTED))
    mid = top + plot_h / 2
    parts.append(
        _text(
            14,
            mid,
            "per 100 units",
            size=9,
            anchor="middle",
            fill=MUTED,
            extra=f' transform="rotate(-90 14 {_n(mid)})"',
        )
    )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}" '
        'stroke-width="1"/>'
    )

    # Milestones on the x axis, sample sizes or "not sampled" under them.
    for index, label in zip(indexes, labels, strict=True):
        x = x_of(index)
        parts.append(_text(x, bottom + 15, label, size=10, anchor="middle"))
        units = next((p.sampled_units for p in points if p.index == index and p.sampled), None)
        if units:
            parts.append(_text(x, bottom + 28, f"n = {units}", size=9, anchor="middle", fill=MUTED))
        else:
            parts.append(
                f'<line x1="{_n(x)}" y1="{top}" x2="{_n(x)}" y2="{bottom}" stroke="{AXIS}" '
                'stroke-width="1" stroke-dasharray="3 3"/>'
            )
            parts.append(
                _text(
                    x,
                    bottom + 28,
                    "not sampled",
                    size=9,
                    anchor="middle",
                    fill=MUTED,
                    extra=' font-style="italic"',
                )
            )

    # One series per class, whiskers a few pixels apart so they do not hide each other.
    for offset, defect_class in zip((-7, 0, 7), CLASSES, strict=True):
        colour = COLOURS[defect_class]
        series = sorted(
            (p for p in sampled if p.defect_class == defect_class), key=lambda p: p.index
        )
        if len(series) > 1:
            coords = " ".join(f"{_n(x_of(p.index) + offset)},{_n(y_of(p.rate))}" for p in series)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2" '
                'stroke-linejoin="round"/>'
            )
        for p in series:
            x, y = x_of(p.index) + offset, y_of(p.rate)
            y_low, y_high = y_of(p.low), y_of(p.high)
            tip = (
                f"{p.label}, {p.defect_class}: {p.rate:.1f} per 100 units "
                f"({p.found} in {p.sampled_units}), 95 % interval {p.low:.1f} to {p.high:.1f}"
            )
            if p.ac is not None:
                tip += f", Ac {p.ac} / Re {p.re}"
            parts.append(f"<g><title>{esc(tip)}</title>")
            parts.append(
                f'<line x1="{_n(x)}" y1="{_n(y_low)}" x2="{_n(x)}" y2="{_n(y_high)}" '
                f'stroke="{colour}" stroke-width="1" stroke-opacity="0.7"/>'
            )
            parts.append(
                f'<line x1="{_n(x - 3)}" y1="{_n(y_low)}" x2="{_n(x + 3)}" y2="{_n(y_low)}" '
                f'stroke="{colour}" stroke-width="1"/>'
            )
            if p.high > y_max:  # clipped: an open arrowhead says "goes on"
                parts.append(
                    f'<polyline points="{_n(x - 3)},{_n(y_high + 4)} {_n(x)},{_n(y_high)} '
                    f'{_n(x + 3)},{_n(y_high + 4)}" fill="none" stroke="{colour}" '
                    'stroke-width="1"/>'
                )
            else:
                parts.append(
                    f'<line x1="{_n(x - 3)}" y1="{_n(y_high)}" x2="{_n(x + 3)}" '
                    f'y2="{_n(y_high)}" stroke="{colour}" stroke-width="1"/>'
                )
            if p.passed is False:
                parts.append(
                    f'<rect x="{_n(x - 4)}" y="{_n(y - 4)}" width="8" height="8" fill="{colour}"/>'
                )
            else:
                parts.append(
                    f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{colour}" '
                    'stroke="#ffffff" stroke-width="1"/>'
                )
            parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


# --- timeline ------------------------------------------------------------------------------


def _short(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _timeline_desc(rows: list[TimelineRow]) -> str:
    parts = []
    for row in rows:
        if row.planned_start == row.planned_end:
            planned = f"planned {_short(row.planned_start)}"
        else:
            planned = f"window {_short(row.planned_start)} to {_short(row.planned_end)}"
        if row.actual is None:
            actual = row.status
        else:
            verb = "projected" if row.projected else "actual"
            actual = f"{verb} {_short(row.actual)} ({row.status})"
            if row.days_off:
                actual = f"{verb} {_short(row.actual)} ({row.status}, {abs(row.days_off)} days)"
        parts.append(f"{row.label}: {planned}, {actual}")
    return "Production timeline, planned against actual. " + "; ".join(parts) + "."


def _diamond(x: float, y: float, size: float, fill: str, stroke: str, dashed=False) -> str:
    coords = f"{_n(x)},{_n(y - size)} {_n(x + size)},{_n(y)} {_n(x)},{_n(y + size)} " + (
        f"{_n(x - size)},{_n(y)}"
    )
    dash = ' stroke-dasharray="2 1.5"' if dashed else ""
    return f'<polygon points="{coords}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>'


def timeline_chart(
    rows: Iterable[TimelineRow],
    width: int = 640,
    row_height: int = 22,
    title: str = "Production timeline: planned against actual",
) -> str:
    """A small Gantt chart: planned windows as light bars, inspection dates as dots (red when
    late, blue when early), ex-factory and shipment as diamonds, hollow for the plan, filled
    for the actual date, dashed when it is a projection. The height follows the row count."""
    rows = list(rows)
    height = 44 + max(len(rows), 1) * row_height + 52
    dates = [d for r in rows for d in (r.planned_start, r.planned_end, r.actual) if d]
    if not rows or not dates:
        return _empty("timeline", width, height, title, "No dates to chart yet.")

    left, right, top = 110, width - 46, 44
    bottom = top + len(rows) * row_height
    start, end = min(dates) - timedelta(days=2), max(dates) + timedelta(days=3)
    span = (end - start).days

    def x_of(day: date) -> float:
        return left + (right - left) * (day - start).days / span

    def mid(day: date) -> float:  # the middle of the day: where a date as a point sits
        return x_of(day) + (right - left) / span / 2

    parts = _open("timeline", width, height, title, _timeline_desc(rows))

    # Date ticks: about eight at most, weekly ones on Mondays.
    step = next((s for s in (1, 2, 7, 14, 28, 56, 91, 182) if span / s <= 8), 365)
    tick = start
    if step % 7 == 0:
        tick = start + timedelta(days=(7 - start.weekday()) % 7)
    while tick <= end:
        x = mid(tick)
        parts.append(
            f'<line x1="{_n(x)}" y1="{top}" x2="{_n(x)}" y2="{bottom}" stroke="{GRID}" '
            'stroke-width="1"/>'
        )
        parts.append(_text(x, bottom + 14, _short(tick), size=9, anchor="middle", fill=MUTED))
        tick += timedelta(days=step)
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}" '
        'stroke-width="1"/>'
    )

    for i, row in enumerate(rows):
        y = top + i * row_height + row_height / 2
        parts.append(_text(left - 8, y + 3.5, row.label, size=10, anchor="end"))
        point = row.planned_start == row.planned_end and row.kind in ("ex-factory", "shipment")
        if point:
            parts.append(_diamond(mid(row.planned_start), y, 5, "#ffffff", ON_TIME))
        else:
            x0 = x_of(row.planned_start)
            x1 = x_of(row.planned_end + timedelta(days=1))  # the window includes its last day
            parts.append(
                f'<rect x="{_n(x0)}" y="{_n(y - 6)}" width="{_n(max(x1 - x0, 2))}" height="12" '
                f'rx="3" fill="{WINDOW}"/>'
            )
        if row.actual is None:
            parts.append(
                _text(
                    right + 4, y + 3.5, "\u2013", size=10, fill=MUTED, extra=' font-style="italic"'
                )
            )
            continue
        colour = {"late": LATE, "early": EARLY}.get(row.status, ON_TIME)
        x = mid(row.actual)
        tip = f"{row.label}: {'projected' if row.projected else 'actual'} {_short(row.actual)}"
        parts.append(f"<g><title>{esc(tip + ', ' + row.status)}</title>")
        if point:
            fill = "#ffffff" if row.projected else colour
            parts.append(_diamond(x, y, 5, fill, colour, dashed=row.projected))
        else:
            parts.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4.5" fill="{colour}" stroke="#ffffff" '
                'stroke-width="1"/>'
            )
        parts.append("</g>")
        if row.days_off:
            sign = "+" if row.days_off > 0 else "\u2212"
            parts.append(
                _text(right + 4, y + 3.5, f"{sign}{abs(row.days_off)} d", size=9, fill=colour)
            )

    # Legend under the date axis; DejaVu Sans at 9 px is about 5.5 px a character.
    ly, lx = bottom + 36, float(left)
    legend = [
        (f'<rect x="{{x}}" y="{ly - 8}" width="18" height="10" rx="2" fill="{WINDOW}"/>', 18),
        (f'<circle cx="{{cx}}" cy="{ly - 3}" r="4" fill="{ON_TIME}"/>', 8),
        (f'<circle cx="{{cx}}" cy="{ly - 3}" r="4" fill="{LATE}"/>', 8),
        (f'<circle cx="{{cx}}" cy="{ly - 3}" r="4" fill="{EARLY}"/>', 8),
        (_diamond(0, ly - 3, 4, "#ffffff", ON_TIME), 8),
        (_diamond(0, ly - 3, 4, ON_TIME, ON_TIME), 8),
        (_diamond(0, ly - 3, 4, "#ffffff", ON_TIME, dashed=True), 8),
    ]
    names = ["planned window", "inspected", "late", "early", "planned date", "actual", "projected"]
    for (symbol, size), name in zip(legend, names, strict=True):
        if symbol.startswith("<polygon"):
            symbol = f'<g transform="translate({_n(lx + 4)} 0)">{symbol}</g>'
        parts.append(symbol.format(x=_n(lx), cx=_n(lx + 4)))
        parts.append(_text(lx + size + 4, ly, name, size=9, fill=MUTED))
        lx += size + 4 + 5.5 * len(name) + 12
    parts.append("</svg>")
    return "\n".join(parts)
