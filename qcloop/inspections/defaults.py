"""The checklists and defect library that ship with qcloop, as plain data.

An agency starts from these and edits its own copy; the models that load them live elsewhere.
Nothing here imports Django, so the data can be read, diffed and tested on its own.

Checklist item codes read ``<kind>-<category>-<section>-<nn>`` (``PSI-LGT-FUN-03``): they are
numbered by position within their section, common items first. Reports and CAPAs quote them,
so append new items at the end of their block and never reorder or delete a shipped one.
Defect codes read ``<category>-<group>-<nnn>`` (``GAR-STI-001``) with the same rule.

``on_fail``: ``"fail"`` makes a failed item fail the milestone (safety, hard non-conformity);
``"pending"`` leaves the result for the buyer to decide (a document that may still arrive, a
deviation the buyer may accept). ``answer``: ``"check"`` (conforms / does not), ``"number"``
(a reading is recorded) or ``"text"`` (a note is recorded).
"""

MILESTONE_KINDS = ("IPC", "DUPRO", "PSI", "CLI")
ON_FAIL = ("fail", "pending")
ANSWERS = ("check", "number", "text")
DEFECT_CLASSES = ("critical", "major", "minor")

SECTIONS = [
    ("materials", "Materials and components against the golden sample and the spec"),
    ("workmanship", "Workmanship and visual"),
    ("function_safety", "Function and safety tests"),
    ("measurements", "Measurements"),
    ("packaging", "Packaging"),
    ("labelling", "Labelling and markings"),
    ("documents", "Documents and compliance"),
    ("production", "Production status"),
    ("loading", "Container and loading"),
]
# Only a container loading inspection has a container in front of it.
CLI_ONLY_SECTIONS = ("loading",)

SECTION_CODES = {
    "materials": "MAT",
    "workmanship": "WRK",
    "function_safety": "FUN",
    "measurements": "MEA",
    "packaging": "PKG",
    "labelling": "LBL",
    "documents": "DOC",
    "production": "PRD",
    "loading": "LOD",
}

# ProductCategory value -> code prefix used in checklist and defect codes.
CATEGORY_CODES = {
    "garments": "GAR",
    "footwear": "FTW",
    "electronics": "ELE",
    "lighting": "LGT",
    "toys": "TOY",
    "furniture_home": "FUR",
    "food_contact": "FCM",
}
GENERAL_CATEGORY = "general"
GENERAL_CODE = "GEN"


def _i(section, text, *, mandatory=True, on_fail="fail", answer="check"):
    return {
        "section": section,
        "text": text,
        "mandatory": mandatory,
        "on_fail": on_fail,
        "answer": answer,
    }


def _checklist(kind, category, *blocks):
    """Number the items per section (in block order) and order them as SECTIONS."""
    prefix = CATEGORY_CODES[category]
    counters: dict[str, int] = {}
    numbered = []
    for block in blocks:
        for spec in block:
            counters[spec["section"]] = counters.get(spec["section"], 0) + 1
            code = (
                f"{kind}-{prefix}-{SECTION_CODES[spec['section']]}-{counters[spec['section']]:02d}"
            )
            numbered.append({"code": code, **spec})
    order = {key: n for n, (key, _title) in enumerate(SECTIONS)}
    # sorted() is stable: within a section the numbering order is kept.
    return sorted(numbered, key=lambda item: order[item["section"]])


# --- Common blocks ------------------------------------------------------------------------


def _ipc_common():
    return [
        _i(
            "materials",
            "Approved golden sample (or signed PP sample) is at the line and used by the "
            "line leader and factory QC",
            on_fail="pending",
        ),
        _i(
            "materials",
            "Raw materials and components for the full PO quantity are on site, or their "
            "delivery dates are confirmed in writing (record % on site)",
            on_fail="pending",
            answer="number",
        ),
        _i(
            "materials",
            "Materials stored off the floor, dry, labelled by lot and kept apart from other "
            "customers' goods",
            mandatory=False,
            on_fail="pending",
        ),
        _i(
            "workmanship",
            "First-off units made from bulk materials, compared side by side with the golden "
            "sample: no defect that would be major or critical at PSI",
        ),
        _i(
            "documents",
            "Tech pack / specification at the line is the buyer's latest revision (record "
            "revision and date)",
            answer="text",
        ),
        _i(
            "production",
            "Production start date and planned daily output cover the PO quantity by the "
            "ex-factory date",
            on_fail="pending",
        ),
        _i(
            "production",
            "Factory in-line QC in place: inspection points defined, QC staff per line, "
            "defect records kept",
            on_fail="pending",
        ),
    ]


def _dupro_common():
    return [
        _i(
            "materials",
            "Bulk materials and components in use still match the golden sample and the "
            "IPC record: no substitution since IPC",
        ),
        _i(
            "workmanship",
            "AQL visual inspection of finished units from the line at the agreed level: "
            "result within limits",
        ),
        _i(
            "workmanship",
            "Work in progress at each station checked: defects found are reworked, rejects "
            "tagged and kept apart",
            on_fail="pending",
        ),
        _i(
            "packaging",
            "Packaging materials on site for the finished quantity: export cartons, inner "
            "boxes, polybags, inserts, stickers",
            on_fail="pending",
        ),
        _i(
            "packaging",
            "Export carton size and board grade (ply, burst strength / ECT) match the packing "
            "specification",
            on_fail="pending",
        ),
        _i(
            "labelling",
            "Shipping marks and retail packaging artwork printed so far match the buyer's "
            "approved artwork",
        ),
        _i(
            "production",
            "Quantity finished (record % of PO quantity)",
            on_fail="pending",
            answer="number",
        ),
        _i(
            "production",
            "Schedule realistic: remaining quantity divided by the last three days' output "
            "fits in the working days left before ex-factory",
            on_fail="pending",
        ),
        _i(
            "production",
            "Line balance: no bottleneck station with work in progress piling up; operators "
            "and machines as planned at IPC",
            on_fail="pending",
        ),
        _i(
            "production",
            "Corrective actions opened at IPC verified on the line",
        ),
        _i(
            "production",
            "Working environment: adequate lighting at inspection points, product kept off "
            "the floor, clean work areas",
            mandatory=False,
            on_fail="pending",
        ),
    ]


def _psi_common():
    return [
        _i(
            "materials",
            "Style, colour, material and finish conform to the golden sample",
        ),
        _i(
            "workmanship",
            "AQL visual inspection at the agreed level (default: general level II, critical "
            "0, major 2.5, minor 4.0) of units drawn from cartons across the whole lot: "
            "result within limits",
        ),
    ]


def _psi_packaging():
    return [
        _i(
            "packaging",
            "Export cartons and retail packaging: correct size and board grade, no crushed, "
            "wet, torn or re-taped cartons; inserts and protective packing as specified",
        ),
        _i(
            "packaging",
            "Quantity per carton and assortment / size-colour ratio match the packing "
            "instructions in every opened carton",
        ),
        _i(
            "packaging",
            "Carton drop test (ISTA 1A sequence: 1 corner, 3 edges, 6 faces; 76 cm up to "
            "21 kg): no damage to the product",
        ),
        _i(
            "packaging",
            "Carton gross weight (kg) and outer dimensions against the packing list (record)",
            on_fail="pending",
            answer="number",
        ),
        _i(
            "packaging",
            "Polybags carry the suffocation warning required by the market, in its "
            "language(s), and are perforated or thick enough",
        ),
    ]


def _psi_labelling():
    return [
        _i(
            "labelling",
            "Shipping marks on the carton's main and side panels: PO, item, quantity, "
            "gross/net weight, carton n of N, country of origin",
        ),
        _i(
            "labelling",
            "Retail barcode (EAN-13 / UPC-A) and carton barcode (ITF-14 / GS1-128) scan and "
            "decode to the right item and quantity",
        ),
        _i(
            "labelling",
            "Country of origin ('Made in ...') on product and packaging where the market "
            "requires it",
        ),
        _i(
            "labelling",
            "Retail packaging artwork matches the approved artwork: item number, colour, "
            "description, languages",
        ),
    ]


def _psi_documents():
    return [
        _i(
            "documents",
            "Packing list agrees with the PO: quantity per SKU and carton count",
            on_fail="pending",
        ),
    ]


def _psi_production():
    return [
        _i(
            "production",
            "Production 100 % finished and at least 80 % packed (record % packed)",
            on_fail="pending",
            answer="number",
        ),
        _i(
            "production",
            "Corrective actions opened at IPC and DUPRO verified closed on the finished goods",
        ),
    ]


def _cli_common():
    return [
        _i(
            "loading",
            "Container number, size and type (20' GP / 40' GP / 40' HC) recorded and match "
            "the booking",
            answer="text",
        ),
        _i(
            "loading",
            "7-point container inspection: front wall, left side, right side, floor, "
            "ceiling/roof, inside/outside doors and locking bars, undercarriage: no holes, "
            "damage or hidden compartments",
        ),
        _i(
            "loading",
            "Container dry, clean and odour-free; no rust flakes, nails or splinters on the "
            "floor; light test with doors closed shows no light",
        ),
        _i(
            "loading",
            "Photos taken: empty container, half loaded, fully loaded before the doors close, "
            "doors closed, seal on the door",
        ),
        _i(
            "loading",
            "SKU mix and quantity per SKU loaded match the packing list",
        ),
        _i(
            "loading",
            "Cartons loaded counted (record count; must equal the packing list total)",
            answer="number",
        ),
        _i(
            "loading",
            "Randomly opened cartons contain the right item and quantity",
        ),
        _i(
            "loading",
            "Load pattern per the loading plan: heaviest cartons at the bottom, 'this way up' "
            "respected, load secured (dunnage, airbags or straps), no gaps at the doors",
            on_fail="pending",
        ),
        _i(
            "loading",
            "Wooden pallets and dunnage carry the ISPM 15 mark (HT or MB)",
            mandatory=False,
        ),
        _i(
            "loading",
            "Seal (ISO 17712 high-security bolt seal) applied in the inspector's presence; "
            "seal number recorded and matches the booking",
            answer="text",
        ),
        _i(
            "packaging",
            "Cartons loaded are dry, not crushed, torn or re-taped; damaged cartons set aside "
            "and recorded",
        ),
        _i(
            "labelling",
            "Shipping marks on cartons loaded match the buyer's artwork and the PO",
        ),
        _i(
            "documents",
            "Packing list and commercial invoice quantities agree with what was loaded",
            on_fail="pending",
        ),
    ]


# --- Shared electrical blocks (electronics and lighting) ---------------------------------


def _earth_continuity():
    return _i(
        "function_safety",
        "Earth continuity on Class I units: <= 0.1 ohm at 10 A or more between the earth pin "
        "and accessible metal (record worst reading)",
        answer="number",
    )


def _critical_components_internal_check():
    return _i(
        "function_safety",
        "Internal check (at least one unit per model opened): critical components match the "
        "test report's list, wiring clamped, no loose parts or solder balls",
    )


def _electrical_documents():
    return [
        _i(
            "documents",
            "EU / UK Declaration of Conformity signed, naming the right directives (LVD, EMC, "
            "RED where radio, RoHS, ErP) and standards; RoHS report or material declarations "
            "on file",
            on_fail="pending",
        ),
    ]


def _battery_cli():
    return _i(
        "loading",
        "Cartons with lithium cells or batteries carry the lithium battery mark (UN 3480 / "
        "3481) as the shipping documents declare",
        mandatory=False,
    )


# --- Garments ----------------------------------------------------------------------------

_GAR_IPC = [
    _i(
        "materials",
        "Fabric composition, construction and weight match the tech pack (record g/m2 from a "
        "swatch cut)",
        answer="number",
    ),
    _i(
        "materials",
        "Bulk fabric shade within the approved lab dip / shade band, checked in a D65 light box",
    ),
    _i(
        "materials",
        "Fabric inspected on the 4-point system on at least 10 % of rolls (record average "
        "points per 100 sq yd; buyer's limit usually 28)",
        answer="number",
    ),
    _i(
        "materials",
        "Trims match the trim card: thread colour, zips, buttons, snaps, interlining, elastic",
    ),
    _i(
        "materials",
        "Labels on site: main, size, care and fibre content, as per the approved artwork",
        on_fail="pending",
    ),
    _i(
        "function_safety",
        "Needle control in place: broken-needle log, needle issue and return, needle "
        "detector calibrated with a 1.0 mm Fe test piece",
    ),
    _i(
        "function_safety",
        "Snaps and metal buttons on first-off units pass a 90 N pull for 10 s",
    ),
    _i(
        "measurements",
        "First-off garments measured in every size against the size spec: all points of "
        "measure within tolerance",
    ),
    _i(
        "production",
        "Cut panels match the pattern and are bundled and ticketed by fabric roll to prevent "
        "shading within a garment",
        on_fail="pending",
    ),
]

_GAR_DUPRO = [
    _i(
        "workmanship",
        "Stitch density (stitches per inch) on main seams as specified (record SPI)",
        answer="number",
    ),
    _i(
        "workmanship",
        "Seam types as per tech pack (overlock, flatlock, coverstitch, safety stitch): no "
        "open seams, skipped or broken stitches",
    ),
    _i(
        "materials",
        "No shading between panels of one garment; cut bundles kept by roll",
    ),
    _i(
        "measurements",
        "In-line garments measured against the size spec (record the largest deviation in cm)",
        answer="number",
    ),
    _i(
        "function_safety",
        "Finished garments pass through the needle detector; broken-needle records complete",
    ),
    _i(
        "workmanship",
        "Pressing and finishing: no shine marks, scorch or water marks; thread ends trimmed",
        on_fail="pending",
    ),
]

_GAR_PSI = [
    _i(
        "function_safety",
        "Needle detection record covers the whole lot; sampled cartons re-run through the "
        "detector (1.0 mm Fe): no metal",
    ),
    _i(
        "function_safety",
        "Rub fastness, dry and wet, with white crock cloth: staining no worse than grey scale 3-4",
    ),
    _i(
        "function_safety",
        "Zips run freely (10 open/close cycles); snaps and buttons hold a 90 N pull for 10 s",
    ),
    _i(
        "function_safety",
        "Children's wear: no drawstrings or functional cords in the hood and neck area "
        "(EN 14682 / ASTM F1816)",
        mandatory=False,
    ),
    _i(
        "measurements",
        "Measurements against the size spec, at least 5 pieces per size: record number of "
        "points out of tolerance",
        answer="number",
    ),
    _i(
        "measurements",
        "Finished garment fabric weight (record g/m2)",
        mandatory=False,
        on_fail="pending",
        answer="number",
    ),
    _i(
        "labelling",
        "Care label: fibre content by weight in the market's names (EU 1007/2011, FTC for the "
        "US), care symbols, size; RN or CA number for the US and Canada",
    ),
    _i(
        "labelling",
        "Hangtag, price ticket and size strip correct for the garment's style, colour and size",
    ),
    _i(
        "packaging",
        "Folding method, tissue, hangers, clips and polybag as per the packing instructions",
        on_fail="pending",
    ),
    _i(
        "documents",
        "Test reports: fibre content, colour fastness, pH and banned azo dyes (REACH); CPSIA "
        "lead and flammability for US children's wear",
        on_fail="pending",
    ),
]

_GAR_CLI = [
    _i(
        "loading",
        "Garments on hanger: rails, strings, hangers and covers intact; no garment touching "
        "the floor",
        mandatory=False,
    ),
]

# --- Footwear ----------------------------------------------------------------------------

_FTW_IPC = [
    _i(
        "materials",
        "Upper material (leather or synthetic), lining and sock liner match the golden sample "
        "and the material spec",
    ),
    _i(
        "materials",
        "Outsole compound hardness (record Shore A) and pattern match the spec",
        answer="number",
    ),
    _i(
        "materials",
        "Lasts on site for every size in the PO's size run, with the approved last number",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Adhesive, primer and their curing (temperature, time) as approved for the sole bond",
    ),
    _i(
        "materials",
        "Components match the approved set: eyelets, laces, buckles, insoles, shanks, heel "
        "counters",
    ),
    _i(
        "function_safety",
        "First-off pairs: sole bond peel test by hand and flex check show no bond gap",
    ),
    _i(
        "measurements",
        "First-off pairs: length and width against the size chart for each size",
    ),
]

_FTW_DUPRO = [
    _i(
        "workmanship",
        "Lasting: toe and heel shape even, upper centred on the last, no wrinkles at the toe",
    ),
    _i(
        "workmanship",
        "Cementing: adhesive to the bite line, no glue marks above it; sole press time as "
        "specified",
    ),
    _i(
        "function_safety",
        "Sole bond pull test on in-line pairs after the chiller (record N/mm if a tester is "
        "available)",
        answer="number",
    ),
    _i(
        "function_safety",
        "Nails, tacks and staples inside the shoe clinched or removed; metal detection on "
        "finished pairs",
    ),
]

_FTW_PSI = [
    _i(
        "function_safety",
        "Sole bond: flex each sampled pair by hand; no bond gap or sole separation",
    ),
    _i(
        "function_safety",
        "Inside of the shoe checked by hand: no protruding nails, tacks, staples or sharp edges",
    ),
    _i(
        "function_safety",
        "Fit on the last or a try-on of the sample size: no discomfort points",
        on_fail="pending",
    ),
    _i(
        "function_safety",
        "Buckles, straps and hook-and-loop fasteners work; children's shoes: no small parts "
        "come off by hand",
    ),
    _i(
        "workmanship",
        "Pairing: left and right shoe same size, colour, height and shape",
    ),
    _i(
        "workmanship",
        "No mould, strong solvent odour or moisture; silica gel sachets in the box where specified",
    ),
    _i(
        "measurements",
        "Shoe length and width against the size chart (record worst deviation in mm)",
        answer="number",
    ),
    _i(
        "labelling",
        "Size marking on the shoe and box agree; EU footwear material pictograms for upper, "
        "lining and sole (Directive 94/11/EC)",
    ),
    _i(
        "documents",
        "Test reports: chromium VI in leather and other REACH restricted substances; CPSIA "
        "for US children's shoes",
        on_fail="pending",
    ),
]

# --- Electronics -------------------------------------------------------------------------

_ELE_IPC = [
    _i(
        "materials",
        "Critical components (power supply, fuse, plug and cord, switch, PCB, battery) match "
        "the test report's critical-components list: maker, model, rating",
    ),
    _i(
        "materials",
        "PCB revision and firmware version are the approved ones (record both)",
        answer="text",
    ),
    _i(
        "materials",
        "Housing plastic and its flammability rating (e.g. UL 94 V-0) match the spec and the "
        "resin supplier's certificate",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Batteries: the cell model in the UN 38.3 test summary and the safety data sheet",
        mandatory=False,
        on_fail="pending",
    ),
    _i(
        "function_safety",
        "First-off units pass the factory's end-of-line tests: hi-pot, earth continuity, function",
    ),
    _i(
        "production",
        "ESD protection at PCB assembly: wrist straps and mats tested each shift, records kept",
        on_fail="pending",
    ),
    _i(
        "production",
        "Hi-pot tester, earth bond tester and meters carry in-date calibration labels",
        on_fail="pending",
    ),
]

_ELE_DUPRO = [
    _i(
        "workmanship",
        "PCB assemblies to IPC-A-610 class 2: no cold joints, bridges, solder balls or "
        "lifted components",
    ),
    _i(
        "function_safety",
        "End-of-line tests run on 100 %: hi-pot, earth continuity, function, burn-in where "
        "specified; failures logged",
    ),
    _i(
        "function_safety",
        "Function test of in-line units: all modes, buttons and indicators",
    ),
    _i(
        "materials",
        "Critical components on the line still match the test report's list",
    ),
]

_ELE_PSI = [
    _i(
        "function_safety",
        "Function test on every sampled unit at rated voltage: all modes, buttons, "
        "indicators and settings as in the user manual",
    ),
    _earth_continuity(),
    _i(
        "function_safety",
        "Hi-pot (electric strength) on every sampled unit, live parts to accessible parts "
        "(IEC 60335-1 Annex A: 1,000 V basic / 2,500 V reinforced insulation, 1 s): no "
        "breakdown",
    ),
    _i(
        "function_safety",
        "Running test at rated voltage for 30 min (or as specified): no overheating, smoke, "
        "burning smell or abnormal noise",
    ),
    _critical_components_internal_check(),
    _i(
        "function_safety",
        "Plug type right for the market (e.g. BS 1363 UK, CEE 7/16-7/17 EU, NEMA 1-15 US); "
        "cord anchorage holds under pull and push (IEC 60335-1 clause 25.15)",
    ),
    _i(
        "function_safety",
        "Remote control, app or wireless pairing works",
        mandatory=False,
    ),
    _i(
        "measurements",
        "Input power at rated voltage (record W) within the rating label's tolerance "
        "(IEC 60335-1 clause 10)",
        answer="number",
    ),
    _i(
        "measurements",
        "Power cord length (record m) and product dimensions and weight against the spec",
        on_fail="pending",
        answer="number",
    ),
    _i(
        "labelling",
        "Rating label: model, rated voltage, frequency and power, maker or importer name and "
        "address, CE / UKCA / FCC marks as the market requires, WEEE bin symbol (EU/UK); "
        "survives the 15 s water and 15 s petroleum spirit rub",
    ),
    _i(
        "labelling",
        "FCC ID or Supplier's Declaration of Conformity statement (US); user manual with "
        "safety instructions in the market's languages",
    ),
    *_electrical_documents(),
    _i(
        "documents",
        "Safety and EMC test reports or CB certificate (IEC 60335 / IEC 62368-1; EN 55014 or "
        "EN 55032); FCC Part 15 report for the US",
        on_fail="pending",
    ),
]

_ELE_CLI = [_battery_cli()]

# --- Lighting ----------------------------------------------------------------------------

_LGT_IPC = [
    _i(
        "materials",
        "LED package: maker, flux and colour bin (CCT) and CRI match the approved spec "
        "(record bin code)",
        answer="text",
    ),
    _i(
        "materials",
        "LED driver model and ratings match the test report's critical components; SELV "
        "output where the design relies on it",
    ),
    _i(
        "materials",
        "Housing and diffuser (die-cast aluminium, PC or PMMA, glass): material, wall "
        "thickness and finish against the golden sample",
    ),
    _i(
        "materials",
        "Cable, terminal block, cable glands and gaskets of the type and rating in the test "
        "report (e.g. H05RN-F)",
    ),
    _i(
        "function_safety",
        "First-off units: illuminance or flux and CCT compared with the golden sample (lux "
        "meter at a fixed distance or integrating sphere)",
        on_fail="pending",
    ),
    _i(
        "production",
        "Burn-in racks enough for the PO at the agreed ageing time (e.g. 4 h with on/off cycling)",
        on_fail="pending",
    ),
]

_LGT_DUPRO = [
    _i(
        "function_safety",
        "Burn-in on 100 % at rated voltage for the agreed time; failures logged and analysed",
    ),
    _i(
        "function_safety",
        "Hi-pot and earth continuity on 100 % at end of line, with records",
    ),
    _i(
        "workmanship",
        "IP-rated fittings: gaskets seated, potting complete, screws torqued as specified",
    ),
    _i(
        "workmanship",
        "Diffuser fitted without gaps; no dust, fibres or insects inside",
    ),
]

_LGT_PSI = [
    _i(
        "function_safety",
        "Lighting test on every sampled unit at rated voltage: lights, no flicker, dimming "
        "smooth where dimmable; burn-in records cover the whole lot",
    ),
    _earth_continuity(),
    _i(
        "function_safety",
        "Hi-pot on every sampled unit, live parts to accessible metal: 1,500 V AC for at "
        "least 1 s, 5 mA trip (IEC 60598-1 Annex Q): no breakdown",
    ),
    _critical_components_internal_check(),
    _i(
        "function_safety",
        "Cable anchorage holds under the pull and torque test of IEC 60598-1: no "
        "displacement beyond 2 mm",
    ),
    _i(
        "function_safety",
        "Mounting: brackets, suspension and glass or diffuser secure under a firm tug; "
        "nothing can fall",
    ),
    _i(
        "function_safety",
        "IP-rated fittings: gasket present and seated; water spray check where agreed, no ingress",
        mandatory=False,
    ),
    _i(
        "measurements",
        "Power (W) and power factor at rated voltage (record W) within 10 % of the label",
        answer="number",
    ),
    _i(
        "measurements",
        "Colour temperature (record K) within the declared CCT's tolerance and matching the "
        "golden sample",
        answer="number",
    ),
    _i(
        "measurements",
        "Dimensions, cable length and weight against the spec",
        on_fail="pending",
    ),
    _i(
        "labelling",
        "Rating label: voltage, wattage, IP code, Class II symbol where double insulated, "
        "ta, maker or importer, CE / UKCA / FCC marks as the market requires, WEEE bin "
        "symbol (EU/UK)",
    ),
    _i(
        "labelling",
        "EU energy label (Reg. 2019/2015) with EPREL QR code for light sources; US: FCC Part "
        "15 statement",
    ),
    _i(
        "labelling",
        "Installation instructions with safety warnings in the market's languages",
    ),
    *_electrical_documents(),
    _i(
        "documents",
        "Safety, EMC and photometric reports: EN 60598, EN 55015 / EN 61547, EN 62471 "
        "photobiological risk group, LM-79 where the buyer asks",
        on_fail="pending",
    ),
]

_LGT_CLI = [
    _i(
        "loading",
        "Fragile cartons (glass diffusers, tubes) stowed on top, not under heavy cartons",
        on_fail="pending",
    ),
]

# --- Toys --------------------------------------------------------------------------------

_TOY_IPC = [
    _i(
        "materials",
        "Plastic resin grade and colour masterbatch match the spec; phthalate-free "
        "declaration for PVC and soft plastic parts",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Paints and coatings are the lots tested for lead and heavy metals (CPSIA 90 ppm / "
        "EN 71-3)",
    ),
    _i(
        "materials",
        "Plush: new fabric and filling only, filling clean and free of hard or sharp "
        "foreign matter",
    ),
    _i(
        "materials",
        "Safety eyes and noses with locking washers as approved",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "First-off units: detachable and breakable parts of toys for under 3 years checked "
        "with the small parts cylinder",
    ),
    _i(
        "function_safety",
        "First-off units: torque and tension on eyes, noses, wheels and other grippable "
        "parts (90 N tension): nothing comes off",
    ),
    _i(
        "production",
        "Moulds: cavity numbers recorded, flash and sharp points removed at the tool",
        on_fail="pending",
    ),
]

_TOY_DUPRO = [
    _i(
        "workmanship",
        "Moulded parts: no flash, short shots, sink marks or sharp edges",
    ),
    _i(
        "workmanship",
        "Paint: no runs or overspray; tape adhesion test on painted parts: no paint lifts",
    ),
    _i(
        "workmanship",
        "Plush: seams closed with backstitch at the ends; eyes and noses fixed with washers",
    ),
    _i(
        "function_safety",
        "Textile and plush toys pass through a metal detector 100 %",
    ),
    _i(
        "function_safety",
        "Mechanisms and sound or light modules of in-line units work",
    ),
]

_TOY_PSI = [
    _i(
        "function_safety",
        "Small parts cylinder (16 CFR 1501 / EN 71-1) on components, after use and abuse, of "
        "toys for under 3 years: nothing fits",
    ),
    _i(
        "function_safety",
        "Sharp edge and sharp point check of accessible edges and points (16 CFR 1500.48/49, "
        "EN 71-1), before and after use and abuse",
    ),
    _i(
        "function_safety",
        "Torque and tension on grippable parts (ASTM F963 / EN 71-1, 90 N tension): no "
        "small parts, sharp edges or points",
    ),
    _i(
        "function_safety",
        "Drop test at the height and count for the age grade (ASTM F963 8.7 / EN 71-1): no "
        "hazard created",
    ),
    _i(
        "function_safety",
        "Function test: moving parts, mechanisms, sound and light modules work; battery "
        "compartment needs a tool to open where required",
    ),
    _i(
        "function_safety",
        "Plush: seams hold under 90 N; no filling exposed",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "Magnets: none loose; cords and elastics within the length limits for the age grade",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "No strong chemical or solvent odour on opening the packaging",
        on_fail="pending",
    ),
    _i(
        "measurements",
        "Dimensions and weight against the spec",
        on_fail="pending",
    ),
    _i(
        "labelling",
        "Age grading and warnings, e.g. 'WARNING: CHOKING HAZARD - Small parts. Not for "
        "children under 3 yrs.' (US) and the EU 0-3 symbol, in the market's languages",
    ),
    _i(
        "labelling",
        "Tracking label on toy and packaging: maker, production date, batch, place of "
        "production (CPSIA)",
    ),
    _i(
        "labelling",
        "CE mark with importer name and address (EU); UKCA with UK importer (UK)",
    ),
    _i(
        "documents",
        "Children's Product Certificate citing CPSC-accepted lab reports (US); EN 71-1/-2/-3 "
        "reports and EU DoC (EU)",
        on_fail="pending",
    ),
]

# --- Furniture and home ------------------------------------------------------------------

_FUR_IPC = [
    _i(
        "materials",
        "Solid wood moisture content with a pin meter, 8-12 % unless specified (record "
        "highest reading)",
        answer="number",
    ),
    _i(
        "materials",
        "Wood species and panel material (MDF, particleboard, plywood) as specified; "
        "formaldehyde certificate for the lot (TSCA Title VI / CARB P2, E1)",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Hardware (cam locks, dowels, bolts, hinges, slides) matches the approved hardware pack",
    ),
    _i(
        "materials",
        "Finish colour and sheen against the approved colour panel",
    ),
    _i(
        "materials",
        "Upholstery: fabric and foam density (record kg/m3) as specified",
        mandatory=False,
        answer="number",
    ),
    _i(
        "function_safety",
        "First-off unit assembled by the inspector with the instructions and supplied "
        "hardware only: all parts fit, holes line up",
    ),
    _i(
        "production",
        "Kiln-drying records for the timber in use",
        on_fail="pending",
    ),
]

_FUR_DUPRO = [
    _i(
        "workmanship",
        "Joinery tight: no gaps, glue squeeze-out removed, no splits at screws or dowels",
    ),
    _i(
        "workmanship",
        "Finish: even sanding, no runs, bubbles, orange peel or dust inclusions",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Moisture content of timber in process (record highest reading)",
        answer="number",
    ),
    _i(
        "function_safety",
        "Trial assembly of in-line units: parts fit, drawers and doors run",
    ),
    _i(
        "packaging",
        "Hardware packs counted (or check-weighed) and sealed",
    ),
]

_FUR_PSI = [
    _i(
        "function_safety",
        "Trial assembly with the instructions and supplied hardware only: all parts fit, "
        "hardware count right",
    ),
    _i(
        "function_safety",
        "Stability: the unit stands on a flat surface without rocking",
    ),
    _i(
        "function_safety",
        "Static load on seats, shelves and drawers with the agreed load: no breakage, "
        "cracks or permanent deformation",
    ),
    _i(
        "function_safety",
        "Drawers and doors open and close smoothly; drawer stops stop the drawer",
    ),
    _i(
        "function_safety",
        "Accessible edges and corners smooth; no protruding screws, staples or splinters; "
        "no finger traps in moving parts",
    ),
    _i(
        "function_safety",
        "Clothing storage units: tip-over restraint supplied and tip-over warning fixed "
        "(ASTM F2057 / STURDY Act for the US, EN 14749 for the EU)",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "Finish adhesion: cross-cut tape test (ISO 2409) on a finished surface",
        on_fail="pending",
    ),
    _i(
        "function_safety",
        "No strong formaldehyde or solvent smell on opening the carton",
        on_fail="pending",
    ),
    _i(
        "measurements",
        "Overall width, depth and height within tolerance (record worst deviation in mm)",
        answer="number",
    ),
    _i(
        "measurements",
        "Moisture content of solid wood parts (record highest reading)",
        answer="number",
    ),
    _i(
        "packaging",
        "Corner protectors, foam and board separators as specified; hardware pack and "
        "instructions fixed inside the carton",
    ),
    _i(
        "labelling",
        "Assembly instructions and warnings (tip-over, maximum load) in the market's "
        "languages; formaldehyde compliance label on composite wood (US)",
    ),
    _i(
        "documents",
        "Formaldehyde certificate (TSCA Title VI / CARB); EUDR or FSC chain of custody "
        "documents where claimed",
        on_fail="pending",
    ),
    _i(
        "documents",
        "Upholstered furniture: flammability report (CA TB 117-2013, UK Furniture and "
        "Furnishings (Fire) (Safety) Regulations)",
        mandatory=False,
        on_fail="pending",
    ),
]

_FUR_CLI = [
    _i(
        "loading",
        "Flat-pack cartons loaded flat, not on edge; desiccant placed against mould where "
        "specified",
        on_fail="pending",
    ),
]

# --- Food-contact articles ---------------------------------------------------------------

_FCM_IPC = [
    _i(
        "materials",
        "Stainless steel grade (e.g. 18/8, AISI 304) against the mill certificate, spot "
        "checked with an XRF gun or test solution",
    ),
    _i(
        "materials",
        "Non-stick or ceramic coating: supplier and grade as in the DoC; PFOA-free declaration",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Plastic resins food grade with the resin supplier's declaration (EU 10/2011, FDA "
        "21 CFR 177)",
        on_fail="pending",
    ),
    _i(
        "materials",
        "Ceramic glazes and decoration: the lot tested for lead and cadmium release",
        mandatory=False,
        on_fail="pending",
    ),
    _i(
        "function_safety",
        "First-off units: coating thickness (record average um) and cross-cut adhesion",
        answer="number",
    ),
    _i(
        "production",
        "Food-contact parts kept in a clean area: no oil, lubricant or dust on food-contact "
        "surfaces",
    ),
]

_FCM_DUPRO = [
    _i(
        "measurements",
        "Coating thickness on in-line units (record average um)",
        answer="number",
    ),
    _i(
        "workmanship",
        "Stainless parts cleaned and passivated; no rust marks or iron contamination",
    ),
    _i(
        "workmanship",
        "Handles riveted or welded tight; rivet heads sealed on the food side",
    ),
    _i(
        "production",
        "Food-contact surfaces handled with gloves; no oil from machines on finished parts",
        on_fail="pending",
    ),
]

_FCM_PSI = [
    _i(
        "function_safety",
        "Coating cross-cut tape test (ISO 2409): classification 0 or 1",
    ),
    _i(
        "function_safety",
        "Handle pull and twist by hand (and EN 12983-1 tests where agreed): no loosening or cracks",
    ),
    _i(
        "function_safety",
        "Lid fits without rocking; knob tight",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "Containers, bottles and flasks filled to the brim and inverted for 30 min: no leak",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "Induction-compatible bases attract a magnet across the base",
        mandatory=False,
    ),
    _i(
        "function_safety",
        "Food-contact surfaces clean: no oil film, residue, burrs or rust; no odour",
    ),
    _i(
        "function_safety",
        "Edges and rims smooth; sharp only where the function needs it (blades)",
    ),
    _i(
        "measurements",
        "Capacity (record ml) against the marking",
        answer="number",
    ),
    _i(
        "measurements",
        "Base flatness (record deviation in mm) and dimensions against the spec",
        on_fail="pending",
        answer="number",
    ),
    _i(
        "labelling",
        "Glass-and-fork symbol or 'for food contact' (EU 1935/2004) on product or packaging",
    ),
    _i(
        "labelling",
        "Use symbols true to the product (dishwasher, microwave, oven, induction); no "
        "microwave-safe claim on metal or metallic decoration",
    ),
    _i(
        "labelling",
        "Batch or lot code for traceability (EU 1935/2004 Art. 17); instructions for safe use",
    ),
    _i(
        "documents",
        "Migration test reports (EU 10/2011 overall and specific migration, LFGB, FDA 21 CFR) "
        "and the EU DoC for plastics",
        on_fail="pending",
    ),
]

_FCM_CLI = [
    _i(
        "loading",
        "Container free of odour and chemical residue: food-contact goods absorb both",
    ),
]


_BLOCKS = {
    "garments": (_GAR_IPC, _GAR_DUPRO, _GAR_PSI, _GAR_CLI),
    "footwear": (_FTW_IPC, _FTW_DUPRO, _FTW_PSI, []),
    "electronics": (_ELE_IPC, _ELE_DUPRO, _ELE_PSI, _ELE_CLI),
    "lighting": (_LGT_IPC, _LGT_DUPRO, _LGT_PSI, _LGT_CLI),
    "toys": (_TOY_IPC, _TOY_DUPRO, _TOY_PSI, []),
    "furniture_home": (_FUR_IPC, _FUR_DUPRO, _FUR_PSI, _FUR_CLI),
    "food_contact": (_FCM_IPC, _FCM_DUPRO, _FCM_PSI, _FCM_CLI),
}


def _build_checklists():
    checklists = {}
    for category, (ipc, dupro, psi, cli) in _BLOCKS.items():
        checklists[(category, "IPC")] = _checklist("IPC", category, _ipc_common(), ipc)
        checklists[(category, "DUPRO")] = _checklist("DUPRO", category, _dupro_common(), dupro)
        checklists[(category, "PSI")] = _checklist(
            "PSI",
            category,
            _psi_common(),
            _psi_packaging(),
            _psi_labelling(),
            _psi_documents(),
            _psi_production(),
            psi,
        )
        checklists[(category, "CLI")] = _checklist("CLI", category, _cli_common(), cli)
    return checklists


CHECKLISTS: dict[tuple[str, str], list[dict]] = _build_checklists()


# --- Defect library ----------------------------------------------------------------------

CRITICAL, MAJOR, MINOR = DEFECT_CLASSES


def _defects(category, rows):
    """rows: (group code, group, subgroup, name, default class); numbered per group."""
    prefix = GENERAL_CODE if category == GENERAL_CATEGORY else CATEGORY_CODES[category]
    counters: dict[str, int] = {}
    out = []
    for group_code, group, subgroup, name, default_class in rows:
        counters[group_code] = counters.get(group_code, 0) + 1
        out.append(
            {
                "code": f"{prefix}-{group_code}-{counters[group_code]:03d}",
                "category": category,
                "group": group,
                "subgroup": subgroup,
                "name": name,
                "default_class": default_class,
            }
        )
    return out


_GENERAL_DEFECTS = [
    ("MEA", "Measurements", "", "Measurement out of tolerance", MAJOR),
    ("PKG", "Packaging", "Export carton", "Crushed carton", MAJOR),
    ("PKG", "Packaging", "Export carton", "Wet or damp carton", MAJOR),
    ("PKG", "Packaging", "Export carton", "Torn carton or broken seal tape", MINOR),
    ("PKG", "Packaging", "Export carton", "Wrong shipping mark", MAJOR),
    ("PKG", "Packaging", "Export carton", "Missing shipping mark", MAJOR),
    ("PKG", "Packaging", "Export carton", "Wrong quantity in carton", MAJOR),
    ("PKG", "Packaging", "Export carton", "Wrong assortment or ratio in carton", MAJOR),
    ("PKG", "Packaging", "Retail packaging", "Damaged or dirty retail packaging", MINOR),
    ("PKG", "Packaging", "Retail packaging", "Missing suffocation warning on polybag", MAJOR),
    ("PKG", "Packaging", "Retail packaging", "Missing insert or manual", MAJOR),
    ("PKG", "Packaging", "Barcode", "Missing barcode", MAJOR),
    ("PKG", "Packaging", "Barcode", "Wrong barcode", MAJOR),
    ("PKG", "Packaging", "Barcode", "Barcode does not scan", MAJOR),
    ("LAB", "Labelling", "", "Wrong country of origin", MAJOR),
    ("LAB", "Labelling", "", "Missing country of origin", MAJOR),
    ("LAB", "Labelling", "", "Wrong item number, colour or description on packaging", MAJOR),
    ("CON", "Contamination", "Pests", "Insect, dead or alive", CRITICAL),
    ("CON", "Contamination", "Pests", "Rodent droppings or nesting", CRITICAL),
    ("CON", "Contamination", "Biological", "Mould", CRITICAL),
    ("CON", "Contamination", "Foreign matter", "Glass or metal fragment", CRITICAL),
    ("CON", "Contamination", "Foreign matter", "Strong chemical or mouldy odour", MAJOR),
    ("NCF", "Non-conformity", "", "Differs from the golden sample", MAJOR),
    ("NCF", "Non-conformity", "", "Wrong colour or material", MAJOR),
]

_GARMENT_DEFECTS = [
    ("STI", "Stitching", "Seams", "Broken stitch", MAJOR),
    ("STI", "Stitching", "Seams", "Skipped stitch", MAJOR),
    ("STI", "Stitching", "Seams", "Open seam", MAJOR),
    ("STI", "Stitching", "Seams", "Raw edge exposed", MAJOR),
    ("STI", "Stitching", "Seams", "Seam puckering", MINOR),
    ("STI", "Stitching", "Seams", "Wavy or uneven stitching", MINOR),
    ("STI", "Stitching", "Density", "Stitch density below spec", MAJOR),
    ("STI", "Stitching", "Finishing", "Untrimmed thread end", MINOR),
    ("FAB", "Fabric", "Weaving and knitting", "Hole", MAJOR),
    ("FAB", "Fabric", "Weaving and knitting", "Slub or yarn defect", MINOR),
    ("FAB", "Fabric", "Colour", "Shading within the garment", MAJOR),
    ("FAB", "Fabric", "Colour", "Off shade against approved colour", MAJOR),
    ("FAB", "Fabric", "Colour", "Dye spot or streak", MAJOR),
    ("FAB", "Fabric", "Surface", "Pilling", MINOR),
    ("SOI", "Soiling", "", "Stain", MAJOR),
    ("SOI", "Soiling", "", "Oil mark", MAJOR),
    ("SOI", "Soiling", "", "Visible chalk or pencil mark", MINOR),
    ("TRM", "Trims", "Closures", "Zip does not run", MAJOR),
    ("TRM", "Trims", "Closures", "Missing or loose button or snap", MAJOR),
    ("TRM", "Trims", "Appearance", "Wrong trim colour", MINOR),
    ("MEA", "Measurements", "", "Measurement out of tolerance", MAJOR),
    ("MEA", "Measurements", "", "Left and right side asymmetric", MINOR),
    ("LAB", "Labelling", "", "Wrong care label", MAJOR),
    ("LAB", "Labelling", "", "Missing fibre content", MAJOR),
    ("LAB", "Labelling", "", "Wrong size label", MAJOR),
    ("LAB", "Labelling", "", "Label crooked or loose", MINOR),
    ("SAF", "Safety", "", "Broken needle or metal contamination", CRITICAL),
    ("SAF", "Safety", "", "Drawstring in hood or neck of children's wear", CRITICAL),
    ("SAF", "Safety", "", "Sharp point or edge on a trim", CRITICAL),
    ("FIN", "Finishing", "", "Shine mark from pressing", MINOR),
    ("FIN", "Finishing", "", "Creased or badly folded", MINOR),
]

_FOOTWEAR_DEFECTS = [
    ("CON", "Construction", "Bonding", "Sole separation or bond gap", MAJOR),
    ("CON", "Construction", "Bonding", "Glue marks above the bite line", MINOR),
    ("CON", "Construction", "Stitching", "Broken stitch on upper", MAJOR),
    ("CON", "Construction", "Stitching", "Crooked stitching on upper", MINOR),
    ("CON", "Construction", "Heel", "Loose heel", MAJOR),
    ("UPP", "Upper", "", "Toe wrinkles", MINOR),
    ("UPP", "Upper", "", "Scratch or grain crack on leather", MINOR),
    ("UPP", "Upper", "", "Torn lining", MAJOR),
    ("PAR", "Pairing", "", "Colour difference within the pair", MAJOR),
    ("PAR", "Pairing", "", "Mismatched sizes in the pair", MAJOR),
    ("PAR", "Pairing", "", "Height or shape difference within the pair", MINOR),
    ("MEA", "Measurements", "", "Length or width out of tolerance", MAJOR),
    ("LAB", "Labelling", "", "Wrong size marking", MAJOR),
    ("LAB", "Labelling", "", "Missing material pictogram label", MAJOR),
    ("SAF", "Safety", "", "Nail, tack or staple protruding inside", CRITICAL),
    ("SAF", "Safety", "", "Small part detaches from children's shoe", CRITICAL),
    ("SAF", "Safety", "", "Sharp edge on buckle or ornament", CRITICAL),
]


def _electrical_safety_defects():
    return [
        ("ELS", "Electrical safety", "Shock", "Exposed live part", CRITICAL),
        ("ELS", "Electrical safety", "Shock", "Insulation failure", CRITICAL),
        ("ELS", "Electrical safety", "Shock", "Hi-pot failure", CRITICAL),
        ("ELS", "Electrical safety", "Shock", "Earth continuity failure", CRITICAL),
        ("ELS", "Electrical safety", "Wiring", "Cord anchorage loose or missing", CRITICAL),
        (
            "ELS",
            "Electrical safety",
            "Components",
            "Critical component differs from the certified list",
            CRITICAL,
        ),
        ("ELS", "Electrical safety", "Fire", "Overheating, smoke or burning smell", CRITICAL),
    ]


def _electrical_marking_defects():
    return [
        ("MRK", "Markings", "", "Missing CE marking", MAJOR),
        ("MRK", "Markings", "", "Missing FCC marking or statement", MAJOR),
        ("MRK", "Markings", "", "Missing or wrong rating label", MAJOR),
        ("MRK", "Markings", "", "Missing WEEE symbol", MAJOR),
        ("MRK", "Markings", "", "Wrong plug for the destination market", MAJOR),
    ]


_ELECTRONICS_DEFECTS = [
    *_electrical_safety_defects(),
    ("ELS", "Electrical safety", "Components", "Wrong fuse rating", CRITICAL),
    ("FUN", "Function", "", "No function", MAJOR),
    ("FUN", "Function", "", "Intermittent function", MAJOR),
    ("FUN", "Function", "", "Button or switch does not work", MAJOR),
    ("FUN", "Function", "", "Display defect (dead pixels, missing segments)", MAJOR),
    ("FUN", "Function", "", "Battery does not charge", MAJOR),
    ("FUN", "Function", "", "Abnormal noise or vibration", MAJOR),
    ("APP", "Appearance", "", "Cosmetic scratch", MINOR),
    ("APP", "Appearance", "", "Dent", MINOR),
    ("APP", "Appearance", "", "Gap or step between housing parts", MINOR),
    ("APP", "Appearance", "", "Silkscreen misprint", MINOR),
    ("ASM", "Assembly", "", "Loose part inside (rattles)", MAJOR),
    ("ASM", "Assembly", "", "Missing screw", MAJOR),
    ("ASM", "Assembly", "", "Cold or bridged solder joint", MAJOR),
    *_electrical_marking_defects(),
    ("ACC", "Accessories", "", "Missing accessory or remote", MAJOR),
]

_LIGHTING_DEFECTS = [
    *_electrical_safety_defects(),
    ("MSF", "Mechanical safety", "", "Glass or diffuser can fall", CRITICAL),
    ("FUN", "Function", "", "No light", MAJOR),
    ("FUN", "Function", "", "Flicker", MAJOR),
    ("FUN", "Function", "", "Dimming does not work", MAJOR),
    ("FUN", "Function", "", "LEDs partly out", MAJOR),
    ("FUN", "Function", "", "Colour temperature differs from spec", MAJOR),
    ("FUN", "Function", "", "Low light output", MAJOR),
    ("APP", "Appearance", "", "Cosmetic scratch", MINOR),
    ("APP", "Appearance", "", "Dust or debris inside the diffuser", MINOR),
    ("APP", "Appearance", "", "Paint peeling on housing", MINOR),
    ("APP", "Appearance", "", "Dent", MINOR),
    ("ASM", "Assembly", "", "Loose screw", MAJOR),
    ("ASM", "Assembly", "", "Gasket missing on IP-rated fitting", MAJOR),
    *_electrical_marking_defects(),
    ("MRK", "Markings", "", "Wrong IP code marking", MAJOR),
    ("MRK", "Markings", "", "Missing energy label", MAJOR),
]

_TOY_DEFECTS = [
    ("SAF", "Safety", "Choking", "Small part on a toy for under 3 years", CRITICAL),
    ("SAF", "Safety", "Choking", "Eye or nose detaches under torque or tension", CRITICAL),
    ("SAF", "Safety", "Cuts", "Sharp edge", CRITICAL),
    ("SAF", "Safety", "Cuts", "Sharp point", CRITICAL),
    ("SAF", "Safety", "Ingestion", "Loose magnet", CRITICAL),
    ("SAF", "Safety", "Ingestion", "Battery compartment opens without a tool", CRITICAL),
    ("SAF", "Safety", "Strangulation", "Cord or loop too long for the age grade", CRITICAL),
    ("SAF", "Safety", "Foreign matter", "Hard or sharp object in filling", CRITICAL),
    ("FIN", "Finish", "Paint", "Paint peeling", MAJOR),
    ("FIN", "Finish", "Paint", "Paint run or overspray", MINOR),
    ("FIN", "Finish", "Moulding", "Flash on moulded part", MINOR),
    ("FIN", "Finish", "Moulding", "Short shot", MAJOR),
    ("FIN", "Finish", "Appearance", "Colour off", MINOR),
    ("FIN", "Finish", "Appearance", "Stain", MINOR),
    ("FIN", "Finish", "Plush", "Open seam exposing filling", MAJOR),
    ("FUN", "Function", "", "Mechanism does not work", MAJOR),
    ("FUN", "Function", "", "Sound or light module fails", MAJOR),
    ("FUN", "Function", "", "Parts do not fit together", MAJOR),
    ("LAB", "Labelling", "", "Missing warning label", MAJOR),
    ("LAB", "Labelling", "", "Missing tracking label", MAJOR),
    ("LAB", "Labelling", "", "Missing CE or UKCA marking", MAJOR),
    ("LAB", "Labelling", "", "Wrong age grading", MAJOR),
]

_FURNITURE_DEFECTS = [
    ("STR", "Structure", "", "Wobble or instability", MAJOR),
    ("STR", "Structure", "", "Cracked or broken part", MAJOR),
    ("STR", "Structure", "", "Loose joint", MAJOR),
    ("STR", "Structure", "", "Breaks or deforms under load", CRITICAL),
    ("SAF", "Safety", "", "Accessible sharp edge", CRITICAL),
    ("SAF", "Safety", "", "Protruding screw, staple or nail", CRITICAL),
    ("SAF", "Safety", "", "Tip-over restraint missing", CRITICAL),
    ("SAF", "Safety", "", "Finger trap or pinch point", MAJOR),
    ("FIN", "Finish", "", "Scratch", MINOR),
    ("FIN", "Finish", "", "Dent", MINOR),
    ("FIN", "Finish", "", "Colour variation", MINOR),
    ("FIN", "Finish", "", "Runs, bubbles or orange peel", MINOR),
    ("FIN", "Finish", "", "Rough sanding", MINOR),
    ("FIN", "Finish", "", "Glue marks", MINOR),
    ("FIN", "Finish", "", "Veneer or edge banding lifting", MAJOR),
    ("FIN", "Finish", "", "Wood split", MAJOR),
    ("ASM", "Assembly", "", "Holes do not line up", MAJOR),
    ("ASM", "Assembly", "", "Missing hardware", MAJOR),
    ("ASM", "Assembly", "", "Drawer sticks", MAJOR),
    ("ASM", "Assembly", "", "Door misaligned", MINOR),
    ("MAT", "Materials", "", "Moisture content above spec", MAJOR),
    ("MAT", "Materials", "", "Wrong wood species or panel material", MAJOR),
    ("MAT", "Materials", "Upholstery", "Fabric flaw on upholstery", MINOR),
    ("LAB", "Labelling", "", "Missing assembly instructions", MAJOR),
    ("LAB", "Labelling", "", "Missing warning label", MAJOR),
    ("LAB", "Labelling", "", "Missing formaldehyde compliance label", MAJOR),
]

_FOOD_CONTACT_DEFECTS = [
    ("SUR", "Food-contact surface", "", "Rust", CRITICAL),
    ("SUR", "Food-contact surface", "", "Coating peeling or flaking", CRITICAL),
    ("SUR", "Food-contact surface", "", "Glaze crack or crazing", CRITICAL),
    ("SUR", "Food-contact surface", "", "Metal burr", CRITICAL),
    ("SUR", "Food-contact surface", "", "Coating blister", MAJOR),
    ("SUR", "Food-contact surface", "", "Oil film or residue", MAJOR),
    ("STR", "Structure", "", "Loose handle", MAJOR),
    ("STR", "Structure", "", "Leaks at rivet or seam", MAJOR),
    ("STR", "Structure", "", "Lid does not fit", MAJOR),
    ("STR", "Structure", "", "Crack", MAJOR),
    ("STR", "Structure", "", "Base not flat", MAJOR),
    ("SAF", "Safety", "", "Sharp edge where not functional", CRITICAL),
    ("SAF", "Safety", "", "Chipped glass or ceramic", CRITICAL),
    ("MAT", "Materials", "", "Wrong steel grade or material", MAJOR),
    ("APP", "Appearance", "", "Dent", MINOR),
    ("APP", "Appearance", "", "Scratch on outer surface", MINOR),
    ("APP", "Appearance", "", "Colour variation", MINOR),
    ("APP", "Appearance", "", "Print or logo defect", MINOR),
    ("LAB", "Labelling", "", "Missing food-safe symbol", MAJOR),
    ("LAB", "Labelling", "", "Wrong capacity marking", MAJOR),
    ("LAB", "Labelling", "", "Missing batch or lot code", MAJOR),
    ("LAB", "Labelling", "", "Use symbol untrue to product (e.g. microwave-safe metal)", MAJOR),
]

DEFECT_LIBRARY: list[dict] = [
    *_defects(GENERAL_CATEGORY, _GENERAL_DEFECTS),
    *_defects("garments", _GARMENT_DEFECTS),
    *_defects("footwear", _FOOTWEAR_DEFECTS),
    *_defects("electronics", _ELECTRONICS_DEFECTS),
    *_defects("lighting", _LIGHTING_DEFECTS),
    *_defects("toys", _TOY_DEFECTS),
    *_defects("furniture_home", _FURNITURE_DEFECTS),
    *_defects("food_contact", _FOOD_CONTACT_DEFECTS),
]

# Recorded against a measurement reading that falls outside its tolerance.
MEASUREMENT_DEFECT_CODE = "GEN-MEA-001"
