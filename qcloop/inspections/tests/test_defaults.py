"""The shipped checklists and defect library hold together (pure data, no database)."""

import re
from collections import Counter

import pytest

from qcloop.core.reference import ProductCategory
from qcloop.inspections.defaults import (
    CHECKLISTS,
    DEFECT_LIBRARY,
    MEASUREMENT_DEFECT_CODE,
    SECTIONS,
)

KINDS = ("IPC", "DUPRO", "PSI", "CLI")
REQUIRED_CATEGORIES = (
    "garments",
    "electronics",
    "lighting",
    "toys",
    "furniture_home",
    "food_contact",
)
SECTION_KEYS = [key for key, _title in SECTIONS]
SIZES = {"IPC": (10, 16), "DUPRO": (12, 18), "PSI": (15, 30), "CLI": (12, 16)}
ITEM_KEYS = {"code", "section", "text", "mandatory", "on_fail", "answer"}
DEFECT_KEYS = {"code", "category", "group", "subgroup", "name", "default_class"}


def test_sections_are_the_nine_in_order():
    assert SECTION_KEYS == [
        "materials",
        "workmanship",
        "function_safety",
        "measurements",
        "packaging",
        "labelling",
        "documents",
        "production",
        "loading",
    ]
    assert all(title.strip() for _key, title in SECTIONS)


def test_every_required_category_has_all_four_milestones():
    for category in REQUIRED_CATEGORIES:
        for kind in KINDS:
            assert (category, kind) in CHECKLISTS, (category, kind)


def test_checklist_keys_are_known_categories_and_kinds():
    for category, kind in CHECKLISTS:
        assert category in ProductCategory.values
        assert kind in KINDS


@pytest.mark.parametrize("key", sorted(CHECKLISTS))
def test_checklist_items_are_well_formed(key):
    _category, kind = key
    items = CHECKLISTS[key]
    low, high = SIZES[kind]
    assert low <= len(items) <= high, (key, len(items))
    codes = [item["code"] for item in items]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    for item in items:
        assert set(item) == ITEM_KEYS, item
        assert re.fullmatch(rf"{kind}-[A-Z]{{3}}-[A-Z]{{3}}-\d\d", item["code"]), item["code"]
        assert item["section"] in SECTION_KEYS, item
        if item["section"] == "loading":
            assert kind == "CLI", item
        assert type(item["mandatory"]) is bool, item
        assert item["on_fail"] in ("fail", "pending"), item
        assert item["answer"] in ("check", "number", "text"), item
        assert len(item["text"]) >= 15, item
    # Items come in the order of SECTIONS, so the inspector walks one section at a time.
    positions = [SECTION_KEYS.index(item["section"]) for item in items]
    assert positions == sorted(positions)


def test_every_cli_checklist_has_loading_items():
    for (category, kind), items in CHECKLISTS.items():
        if kind == "CLI":
            loading = [i for i in items if i["section"] == "loading"]
            assert len(loading) >= 8, category


def test_every_psi_covers_safety_packaging_labelling_and_documents():
    for (category, kind), items in CHECKLISTS.items():
        if kind == "PSI":
            sections = {i["section"] for i in items}
            for needed in ("function_safety", "packaging", "labelling", "documents"):
                assert needed in sections, (category, needed)


def test_every_checklist_has_something_that_can_fail_it():
    for key, items in CHECKLISTS.items():
        assert any(i["mandatory"] and i["on_fail"] == "fail" for i in items), key


def test_item_texts_are_not_repeated_within_a_checklist():
    for key, items in CHECKLISTS.items():
        texts = [i["text"] for i in items]
        assert len(texts) == len(set(texts)), key


def test_codes_are_stable():
    # Reports and CAPAs quote these codes; shipping a renumbering would break them.
    by_code = {i["code"]: i for i in CHECKLISTS[("lighting", "PSI")]}
    assert "Hi-pot" in by_code["PSI-LGT-FUN-03"]["text"]
    assert "Earth continuity" in by_code["PSI-LGT-FUN-02"]["text"]
    cli = {i["code"]: i for i in CHECKLISTS[("garments", "CLI")]}
    assert "7-point" in cli["CLI-GAR-LOD-02"]["text"]
    library = {d["code"]: d for d in DEFECT_LIBRARY}
    assert library["GAR-STI-001"]["name"] == "Broken stitch"
    assert library["GEN-CON-001"]["default_class"] == "critical"


def test_defect_library_is_well_formed():
    codes = [d["code"] for d in DEFECT_LIBRARY]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    allowed = {*ProductCategory.values, "general"}
    for defect in DEFECT_LIBRARY:
        assert set(defect) == DEFECT_KEYS, defect
        assert defect["category"] in allowed, defect
        assert defect["default_class"] in ("critical", "major", "minor"), defect
        assert re.fullmatch(r"[A-Z]{3}-[A-Z]{3}-\d{3}", defect["code"]), defect
        assert defect["group"] and defect["name"], defect
        assert isinstance(defect["subgroup"], str), defect
    names = [(d["category"], d["name"]) for d in DEFECT_LIBRARY]
    assert len(names) == len(set(names))


def test_each_category_has_a_sizeable_library_with_a_critical_code():
    counts = Counter(d["category"] for d in DEFECT_LIBRARY)
    for category in (*REQUIRED_CATEGORIES, "general"):
        assert 15 <= counts[category] <= 35, (category, counts[category])
        assert any(
            d["category"] == category and d["default_class"] == "critical" for d in DEFECT_LIBRARY
        ), category


def test_the_general_block_has_the_packaging_labelling_and_contamination_codes():
    general = {d["name"] for d in DEFECT_LIBRARY if d["category"] == "general"}
    for name in (
        "Crushed carton",
        "Wrong shipping mark",
        "Missing barcode",
        "Wrong barcode",
        "Wrong country of origin",
        "Mould",
    ):
        assert name in general


def test_measurement_defect_code_is_a_general_major():
    (defect,) = [d for d in DEFECT_LIBRARY if d["code"] == MEASUREMENT_DEFECT_CODE]
    assert defect["category"] == "general"
    assert defect["default_class"] == "major"


def test_the_data_is_plain_and_free_of_django():
    import ast
    from pathlib import Path

    import qcloop.inspections.defaults as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in getattr(node, "names", [])
    ]
    assert not [name for name in imported if name and name.startswith(("django", "qcloop"))]
