"""What the PO summary shows, gathered into one JSON-ready dict like a milestone report.

The summary is read from the published milestone reports (their current versions' frozen
content), not from the live records: it states what the buyer was told at each milestone,
cites each report by version and verification code, and a later correction of a milestone
report shows on the summary's page as a reason to correct the summary too. The reasoning
(rates, trend, timeline, recommendation) is `summary_logic`; this module only turns the
database into its facts and the results into content."""

from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

from qcloop.inspections.models import MILESTONE_ORDER, Milestone, MilestoneStatus

from . import charts
from . import summary_logic as logic
from .content import CLASSES, FORMAT_VERSION, day_text, milestone_content, po_header

# Photos at rendition size on the findings pages, per milestone: the evidence of its worst
# findings. Every other photo is in the annex at thumbnail size (and in full in the milestone
# reports and the dossier), which keeps a 300-photo PO to a PDF one can email.
FINDING_PHOTOS = 4
KEY_DEFECTS = 6


def summary_content(po, lead_summary: str = "", chosen: dict | None = None) -> dict:
    """Everything the PO summary of `po` shows, as the milestone reports stand now. `chosen`
    is the QC lead's own recommendation ({"code", "note"}) when they differ from qcloop's."""
    tz = ZoneInfo(po.factory.timezone)
    milestones = _milestones(po)
    history = supplier_history(po)
    facts = summary_facts(po, milestones, [h["result"] for h in history])
    points = logic.defect_rates(facts)
    tests, last_test = trend_tests(milestones)
    the_trend = logic.trend(points, tests)
    rows = logic.timeline(facts)
    computed = logic.recommend(facts, the_trend)
    return {
        "format": FORMAT_VERSION,
        "kind": "po_summary",
        "header": {
            **po_header(po),
            "fob": f"{po.currency} {po.fob_value:,.2f}",
            "production_start": day_text(po.production_start),
        },
        "verdict": _verdict(milestones, lead_summary),
        "outcome": _outcome(po, milestones, facts),
        "milestones": [_overview(m, content, version) for m, content, version in milestones],
        "rates": [_point(p) for p in points],
        "trend": _trend(the_trend, last_test),
        "timeline": [_row(r) for r in rows],
        "charts": {
            "rates": charts.defect_rate_chart(points),
            "timeline": charts.timeline_chart(rows),
        },
        "recommendation": _recommendation(computed, chosen),
        "capas": _capas(po, facts),
        "escalations": _escalations(milestones),
        "supplier": {
            "name": po.supplier.name,
            "history": history,
            "sentence": logic.history_sentence(facts.supplier_history),
            "capa_record": _capa_record(po),
        },
        "findings": [_findings(m, content) for m, content, _ in milestones if content],
        "photos": _annex(milestones),
        "timezone": str(tz),
    }


# --- the milestones as published -------------------------------------------------------------


def _milestones(po) -> list[tuple[Milestone, dict | None, object]]:
    """Every milestone of the PO in the order of production (PSI #2 after PSI), with the
    content of its current published report version (None while unpublished)."""
    rank = {kind: i for i, kind in enumerate(MILESTONE_ORDER)}
    milestones = sorted(
        po.milestones.select_related("inspector", "report"),
        key=lambda m: (rank[m.kind], m.sequence),
    )
    gathered = []
    for milestone in milestones:
        content = version = None
        if milestone.status == MilestoneStatus.PUBLISHED:
            report = getattr(milestone, "report", None)
            version = report.current if report else None
            # A milestone published before reports existed has no version: read it live.
            content = version.content if version else milestone_content(milestone)
        gathered.append((milestone, content, version))
    return gathered


def _sampled_units(content: dict) -> int | None:
    classes = content["aql"]["classes"] if content["aql"].get("sampled") else []
    return max((c["n"] for c in classes), default=None)


def _share(part, whole) -> float | None:
    return part / whole if part is not None and whole else None


def milestone_facts(milestone: Milestone, content: dict | None) -> logic.MilestoneFacts:
    """One milestone as its published report states it; an unpublished one as planned."""
    base = {
        "kind": milestone.kind,
        "label": milestone.label,
        "window_start": milestone.window_start,
        "window_end": milestone.window_end,
    }
    if content is None:
        return logic.MilestoneFacts(**base)
    classes = content["aql"]["classes"] if content["aql"].get("sampled") else []
    production = content.get("production") or {}
    ordered = production.get("ordered")
    loading = content.get("loading") or {}
    return logic.MilestoneFacts(
        **base,
        inspection_date=milestone.inspection_date,
        result=content["verdict"]["result"]
        if content["verdict"]["result"] in logic.RESULTS
        else "",
        sampled_units=_sampled_units(content),
        found={c["defect_class"]: c["found"] for c in classes},
        acceptance={c["defect_class"]: (c["ac"], c["re"]) for c in classes},
        produced_share=_share(production.get("produced"), ordered),
        reported_share=_share(production.get("reported_produced"), ordered),
        packed_share=_share(production.get("packed"), ordered),
        failed_checks=sum(
            1 for s in content["checklist"] for i in s["items"] if i["result"] == "fail"
        ),
        packaging_problems=sum(1 for carton in content["packaging"] if carton["problems"]),
        loading_problems=sum(1 for line in loading.get("lines", []) if _short_loaded(line)),
        photo_flags=content["integrity"]["unjustified"],
        systematic_defects=sum(1 for d in content["defects"] if d["systematic"]),
        critical_descriptions=[
            _defect_name(d) for d in content["defects"] if d["defect_class"] == "critical"
        ],
    )


def _short_loaded(line: dict) -> bool:
    return line["expected"] is not None and line["expected"] != line["loaded"]


def _defect_name(defect: dict) -> str:
    return defect["description"] or defect["code"] or f"{defect['defect_class']} defect"


def summary_facts(po, milestones, history: list[str]) -> logic.SummaryFacts:
    facts = [milestone_facts(m, content) for m, content, _ in milestones]
    cli = next((m for m, c, _ in reversed(milestones) if m.kind == "CLI" and c), None)
    return logic.SummaryFacts(
        milestones=facts,
        ordered_units=po.quantity,
        ex_factory_planned=po.ex_factory_date,
        ship_planned=po.ship_date,
        production_start=po.production_start,
        projected_completion=_completion(milestones, po.quantity),
        shipped_on=cli.inspection_date if cli else None,
        supplier_history=history,
        **_capa_counts(po),
    )


def _last_psi(po):
    """The PO's last PSI that was inspected (submitted), the one CAPAs are held against."""
    inspected = po.milestones.filter(kind="PSI", submitted_at__isnull=False)
    return inspected.order_by("-sequence").first()


def _capa_counts(po) -> dict:
    """Opened, still open at the (last) PSI, and closed as verified effective."""
    from qcloop.capa.selectors import open_at_psi

    capas = list(po.capas.select_related("milestone"))
    psi = _last_psi(po)
    return {
        "capas_opened": len(capas),
        "capas_open_at_psi": sum(1 for c in capas if psi and open_at_psi(c, psi)),
        "capas_verified": sum(1 for c in capas if c.status == "closed"),
    }


def _completion(milestones, ordered: int) -> date | None:
    """The day production was counted complete; else the latest projection of a visit, but
    never after the goods were loaded (what is in the container was made)."""
    projected = loaded = None
    for milestone, content, _ in milestones:
        if content and milestone.kind == "CLI":
            loaded = milestone.inspection_date
        production = (content or {}).get("production")
        record = getattr(milestone, "production", None)
        if not production or record is None:
            continue
        if production["produced"] >= ordered:
            return record.counted_on
        projected = record.projected_completion or projected
    if projected and loaded:
        return min(projected, loaded)
    return projected or loaded


def supplier_history(po) -> list[dict]:
    """The supplier's earlier lots, oldest first: the first published PSI of each of its other
    POs inspected before this PO's first PSI (a re-inspection is the same lot). The supplier
    record belongs to the buyer, so this is the buyer's own history with the supplier."""
    own_psi = po.milestones.filter(kind="PSI", sequence=1).first()
    earlier = Milestone.objects.filter(
        po__supplier_id=po.supplier_id,
        kind="PSI",
        sequence=1,
        status=MilestoneStatus.PUBLISHED,
        result__in=["pass", "fail"],
    ).exclude(po=po)
    if own_psi is not None and own_psi.inspection_date is not None:
        earlier = earlier.filter(inspection_date__lt=own_psi.inspection_date)
    earlier = earlier.select_related("po").order_by("inspection_date", "pk")
    return [
        {"po": m.po.number, "inspected": day_text(m.inspection_date), "result": m.result}
        for m in earlier
    ]


# --- content ---------------------------------------------------------------------------------


def _verdict(milestones, lead_summary: str) -> dict:
    """The PO's outcome in the one word a milestone report would use: the last PSI's."""
    psis = [c for m, c, _ in milestones if m.kind == "PSI" and c]
    result = psis[-1]["verdict"]["result"] if psis else ""
    return {"result": result, "reasons": [], "lead_summary": lead_summary}


def _outcome(po, milestones, facts: logic.SummaryFacts) -> dict:
    published = [m for m, c, _ in milestones if c]
    psis = [(m, c) for m, c, _ in milestones if m.kind == "PSI" and c]
    cli = next(((m, c) for m, c, _ in reversed(milestones) if m.kind == "CLI" and c), None)
    parts = []
    if psis:
        first, last = psis[0], psis[-1]
        if len(psis) > 1:
            parts.append(
                f"{first[0].label} {first[1]['verdict']['result']}ed; "
                f"{last[0].label} {last[1]['verdict']['result']}ed"
            )
        else:
            parts.append(f"{last[0].label} {last[1]['verdict']['result']}ed")
    if cli:
        loading = cli[1].get("loading") or {}
        where = f" into {loading['container']} (seal {loading['seal']})" if loading else ""
        parts.append(f"loaded on {day_text(cli[0].inspection_date)}{where}")
    return {
        "sentence": _sentence("; ".join(parts)) if parts else "",
        "published": len(published),
        "milestones": len(milestones),
        "failed": [m.label for m, c, _ in milestones if c and c["verdict"]["result"] == "fail"],
        "shipped_on": day_text(facts.shipped_on),
        "units": po.quantity,
        "unit": po.unit,
    }


def _sentence(text: str) -> str:
    # Not str.capitalize(): it would lower "PSI" and the container number.
    return text[:1].upper() + text[1:] + "."


def _overview(milestone: Milestone, content: dict | None, version) -> dict:
    row = {
        "label": milestone.label,
        "kind": milestone.kind,
        "name": milestone.get_kind_display(),
        "status": milestone.get_status_display(),
        "window": f"{day_text(milestone.window_start)} to {day_text(milestone.window_end)}",
        "inspection_date": day_text(milestone.inspection_date),
        "inspector": milestone.inspector.full_name if milestone.inspector else "",
        "published": content is not None,
        "report": None,
    }
    if content is None:
        return row
    if version is not None:
        row["report"] = {
            "report_id": version.report_id,
            "version": version.number,
            "code": version.code,
            "content_sha256": version.content_sha256,
        }
    classes = {c["defect_class"]: c for c in content["aql"]["classes"]}
    row.update(
        result=content["verdict"]["result"],
        reasons=content["verdict"]["reasons"],
        lead_summary=content["verdict"].get("lead_summary", ""),
        sampled_units=_sampled_units(content),
        classes=[
            {
                "defect_class": name,
                "found": classes[name]["found"] if name in classes else None,
                "ac": classes[name]["ac"] if name in classes else None,
                "re": classes[name]["re"] if name in classes else None,
                "aql": classes[name]["aql"] if name in classes else None,
            }
            for name in CLASSES
        ],
        photos=content["integrity"]["photos"],
        flagged=len(content["integrity"]["flagged"]),
        failed_checks=sum(
            1 for s in content["checklist"] for i in s["items"] if i["result"] == "fail"
        ),
    )
    return row


def _point(p: logic.RatePoint) -> dict:
    return asdict(p)


# --- the trend tests, as the milestone reports stated them -------------------------------------


def trend_tests(milestones) -> tuple[list[logic.TrendTest], dict | None]:
    """The statistical trend flags of the PO from its milestone reports' "trends" sections,
    in the order of production: each class's test as the last report stated it, every code
    flag standing there, and the flags an earlier report raised that a later one no longer
    supported (with where). Read from the reports, like the rest of the summary, so that it
    says what the buyer was told; a PO whose reports predate the section is assessed now, as
    of its last published milestone. Returns the tests and the last report's section."""
    sections = [(m.label, c["trends"]) for m, c, _ in milestones if c and c.get("trends")]
    if not sections:
        published = [m for m, c, _ in milestones if c]
        if not published:
            return [], None
        from qcloop.analytics.flags import trend_report

        sections = [(published[-1].label, trend_report(published[-1]).to_content())]
    raised, cleared, seen = {}, {}, {}
    for label, section in sections:
        standing = {(f["defect_class"], f["code"]): f for f in section["flags"]}
        for key, flag in standing.items():
            if key not in raised or key in cleared:
                raised.setdefault(key, label)
                cleared.pop(key, None)
            seen[key] = flag
        for key in raised.keys() - standing.keys():
            cleared.setdefault(key, label)
    last = sections[-1][1]
    tests = []
    for row in last["classes"]:
        key = (row["defect_class"], "")
        tests.append(_test(row, "", "", raised.get(key, ""), cleared.get(key, "")))
    for key, flag in seen.items():
        if key[1]:
            tests.append(_test(flag, flag["code"], flag["name"], raised[key], cleared.get(key, "")))
    return tests, last


def _test(row: dict, code: str, name: str, raised_at: str, cleared_at: str) -> logic.TrendTest:
    return logic.TrendTest(
        defect_class=row["defect_class"],
        code=code,
        name=name,
        escalating=row["escalating"],
        projected=row["projected"],
        p_value=row["p_value"],
        strength=row["strength"],
        sentence=row["sentence"],
        raised_at=raised_at,
        cleared_at=cleared_at,
    )


def _flag(t: logic.TrendTest) -> dict:
    return {
        "defect_class": t.defect_class,
        "code": t.code,
        "name": t.name,
        "escalating": t.escalating,
        "projected": t.projected,
        "p_value": t.p_value,
        "strength": t.strength,
        "evidence": t.evidence,
        "sentence": t.sentence,
        "raised_at": t.raised_at,
        "cleared_at": t.cleared_at,
        "active": t.flagged,
    }


def _trend(t: logic.Trend, last_test: dict | None = None) -> dict:
    return {
        "direction": t.direction,
        "flagged": t.flagged,
        "headline": t.headline,
        "sentences": t.sentences,
        "driver": t.driver,
        "flags": [_flag(f) for f in t.tests if f.raised_at],
        "statement": last_test["statement"] if last_test else "",
        "as_of": last_test["as_of"] if last_test else "",
        "history": last_test["history"] if last_test else None,
        "classes": [
            {
                "defect_class": c.defect_class,
                "direction": c.direction,
                "series": [
                    {"label": label, "rate": round(rate, 2)}
                    for label, rate in zip(c.labels, c.rates, strict=True)
                ],
                "intervals_overlap": c.intervals_overlap,
                "sentences": c.sentences,
            }
            for c in t.classes.values()
        ],
    }


def _row(r: logic.TimelineRow) -> dict:
    def pct(share):
        return None if share is None else round(100 * share, 1)

    return {
        "label": r.label,
        "kind": r.kind,
        "planned": day_text(r.planned_start)
        if r.planned_start == r.planned_end
        else f"{day_text(r.planned_start)} to {day_text(r.planned_end)}",
        "actual": day_text(r.actual),
        "projected": r.projected,
        "days_off": r.days_off,
        "status": r.status,
        "planned_pct": pct(r.planned_share),
        "produced_pct": pct(r.produced_share),
        "reported_pct": pct(r.reported_share),
        "packed_pct": pct(r.packed_share),
        "gap_points": None if r.share_gap is None else round(100 * r.share_gap, 1),
    }


def _recommendation(computed: logic.Recommendation, chosen: dict | None) -> dict:
    considered = [
        {
            "code": outcome.code,
            "title": logic.TITLES[outcome.code],
            "fired": outcome.fired,
            "reasons": outcome.reasons,
        }
        for outcome in computed.considered
    ]
    result = {
        "code": computed.code,
        "title": computed.title,
        "reasons": computed.reasons,
        "next_po_milestones": computed.next_po_milestones,
        "sampling": computed.sampling,
        "notes": computed.notes,
        "considered": considered,
        "overridden": False,
        "lead_note": "",
        "computed": {"code": computed.code, "title": computed.title},
    }
    if chosen and chosen.get("code") and chosen["code"] != computed.code:
        milestones, sampling = logic.plan_for(chosen["code"])
        result.update(
            code=chosen["code"],
            title=logic.TITLES[chosen["code"]],
            next_po_milestones=milestones,
            sampling=sampling,
            overridden=True,
        )
    if chosen:
        result["lead_note"] = chosen.get("note", "")
    return result


def _capas(po, facts: logic.SummaryFacts) -> dict:
    """The corrective actions of the PO: opened, closed and verified at which milestone, and
    which were still open at the (last) PSI."""
    from qcloop.capa.selectors import capa_log

    psi = _last_psi(po)
    flagged = {r["reference"] for r in capa_log(po, upto=psi) if r["open_at_psi"]} if psi else set()
    return {
        "log": [{**row, "open_at_psi": row["reference"] in flagged} for row in capa_log(po)],
        "opened": facts.capas_opened,
        "open_at_psi": facts.capas_open_at_psi,
        "verified": facts.capas_verified,
    }


def _capa_record(po) -> dict:
    from qcloop.capa.selectors import capa_record

    return capa_record(po.supplier)


def _escalations(milestones) -> list[dict]:
    """What on this PO called for the buyer at once: critical findings and failed
    milestones, in the order they happened."""
    raised = []
    for milestone, content, _ in milestones:
        if not content:
            continue
        when = day_text(milestone.inspection_date)
        for defect in content["defects"]:
            if defect["defect_class"] == "critical":
                raised.append(
                    {
                        "milestone": milestone.label,
                        "on": when,
                        "what": f"Critical defect ({defect['quantity']}): {_defect_name(defect)}",
                    }
                )
        if content["verdict"]["result"] == "fail":
            reasons = content["verdict"]["reasons"]
            why = reasons[0] if reasons else "see its report"
            raised.append({"milestone": milestone.label, "on": when, "what": f"Failed. {why}"})
        production = content.get("production") or {}
        if production.get("late"):
            raised.append(
                {
                    "milestone": milestone.label,
                    "on": when,
                    "what": f"Production projected complete {production['projected_completion']}"
                    f", after ex-factory {production['ex_factory']}",
                }
            )
    return raised


def _findings(milestone: Milestone, content: dict) -> dict:
    """The worst of what a milestone found, with the evidence of its worst defects."""
    defects = content["defects"][:KEY_DEFECTS]
    photos = [p for d in defects for p in d["photos"]][:FINDING_PHOTOS]
    failed = [
        {"code": i["code"], "text": i["text"], "note": i["note"]}
        for s in content["checklist"]
        for i in s["items"]
        if i["result"] == "fail"
    ]
    loading = content.get("loading") or {}
    return {
        "label": milestone.label,
        "result": content["verdict"]["result"],
        "defects": [
            {key: d[key] for key in ("defect_class", "code", "description", "quantity")}
            | {"systematic": d["systematic"], "photos": [p["n"] for p in d["photos"]]}
            for d in defects
        ],
        "more_defects": max(0, len(content["defects"]) - KEY_DEFECTS),
        "photos": photos,
        "failed_checks": failed,
        "packaging": [
            {"carton": c["carton"], "problems": c["problems"]}
            for c in content["packaging"]
            if c["problems"]
        ],
        "loading": [line for line in loading.get("lines", []) if _short_loaded(line)],
        "flagged_photos": _flagged(content["integrity"]["flagged"]),
    }


def _flagged(flagged: list[dict]) -> dict | None:
    """A milestone's doubtful photos in a line: how many, which, and what was wrong with a
    few of them (the milestone report lists every one)."""
    if not flagged:
        return None
    messages = list(dict.fromkeys(m for photo in flagged for m in photo["flags"]))
    return {
        "count": len(flagged),
        "unjustified": sum(1 for photo in flagged if not photo["justification"]),
        "numbers": number_ranges([photo["n"] for photo in flagged]),
        "examples": messages[:3],
        "more": max(0, len(messages) - 3),
    }


def number_ranges(numbers: list[int]) -> str:
    """1, 2, 3, 5, 7, 8 -> "1-3, 5, 7-8"."""
    ranges: list[list[int]] = []
    for n in sorted(set(numbers)):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


def _annex(milestones) -> dict:
    """Every photo of the PO by milestone, at thumbnail size: the register of the evidence."""
    groups = [
        {"label": m.label, "photos": content["photos"]}
        for m, content, _ in milestones
        if content and content["photos"]
    ]
    return {"groups": groups, "count": sum(len(g["photos"]) for g in groups)}
