"""The PO summary PDF of a PO with four milestones and 300 photos: seconds, MB and peak memory,
with renditions and thumbnails (what qcloop does) against the same document embedding the
original photos (a script, not a test).

Makes 300 phone photos of 12 MP (JPEG: a PDF cannot embed HEIC as it is) from the shared real
photos, runs a PO through IPC, DUPRO, PSI and CLI with the real services on a fresh SQLite
database (photos spread over the milestones, many of them evidence of defects), publishes the
four milestone reports and then the PO summary, and renders the summary's PDF in a fresh
process per mode so that each peak memory figure is that render's own:

  (a) renditions: the summary as qcloop renders it (renditions of the worst findings, every
      photo in the annex as a thumbnail);
  (b) originals: the same content with every image pointing at the original upload.

Prints, side by side: render seconds, PDF size, pages (and where the photo annex starts), the
process's resident memory before the render and at its peak.
Run:  .venv/bin/python bench/report_pdf.py  [--photos 300] [--repeat 3]   (about 6-8 minutes,
most of it making and ingesting the photos). `--data DIR` keeps the PO (and the renditions PDF,
as DIR/summary.pdf) in DIR, and a later run with the same DIR renders it again without making
it anew.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from photo_ingest import PHOTOS, make_photo  # noqa: E402  (the bench's own 12 MP photos)

# Where a PO's photos go, roughly as a full monitoring job takes them.
SHARE = {"IPC": 0.15, "DUPRO": 0.28, "PSI": 0.38, "CLI": 0.19}
DEFECTS = {
    "DUPRO": [("major", 3, "Shade scratched"), ("major", 2, "Loose base"), ("minor", 4, "Glue")],
    "PSI": [
        ("major", 4, "Shade scratched"),
        ("major", 1, "Flicker at full brightness"),
        ("minor", 5, "Loose thread on cord"),
        ("minor", 2, "Carton mark smudged"),
    ],
}
TARGET = {"seconds": 10, "mb": 40}


def _option(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def _django(data_dir: str) -> None:
    os.environ["QCLOOP_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qcloop.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


# --- the parent: photos, the PO, the children -----------------------------------------------


def make_po(paths: list[str]) -> int:
    """The PO through its four milestones; returns the published PO summary's report id."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from qcloop.reports import services
    from qcloop.reports.models import Report
    from qcloop.testing import build_world, submit_inspection_of

    world = build_world("bench")
    start = 0
    for kind, share in SHARE.items():
        count = round(share * len(paths)) if kind != "CLI" else len(paths) - start
        mine = paths[start : start + count]
        start += count
        defects = DEFECTS.get(kind, [])
        photos = (
            (
                Path(path).read_bytes(),
                f"{kind} photo {i + 1}",
                # Every fourth photo is evidence of a defect, in turn.
                (i // 4) % len(defects) if defects and i % 4 == 0 else None,
            )
            for i, path in enumerate(mine)
        )
        milestone = submit_inspection_of(world, kind, defects=defects, photos=photos)
        services.approve(by=world.qc_lead, report=Report.objects.get(milestone=milestone))
        print(f"  {kind}: {count} photos, {sum(d[1] for d in defects)} defects", flush=True)
    summary = Report.objects.get(po=world.po, kind="po_summary")
    services.approve(by=world.qc_lead, report=summary, lead_summary="Bench run.")
    return summary.pk


def child(mode: str, data_dir: str, report_id: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, data_dir, str(report_id)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"the {mode} render failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    if not PHOTOS.is_dir():
        sys.exit(f"the shared photos are not at {PHOTOS}")
    count, repeat = _option("--photos", 300), _option("--repeat", 3)
    print(f"cores: {os.cpu_count()}; {count} photos of 12 MP; {repeat} renders per mode")
    if "--data" in sys.argv:  # keep (or reuse) the PO in that folder: for working on the PDF
        data_dir = Path(sys.argv[sys.argv.index("--data") + 1])
        data_dir.mkdir(parents=True, exist_ok=True)
        print_table(measure(str(data_dir), count, repeat))
        return
    with tempfile.TemporaryDirectory(prefix="qcloop-bench-pdf-") as data_dir:
        print_table(measure(data_dir, count, repeat))


def measure(data_dir: str, count: int, repeat: int) -> dict[str, list[dict]]:
    made = Path(data_dir) / "report-id"
    if made.exists():
        report_id = int(made.read_text())
    else:
        report_id = make_photos_and_po(data_dir, count)
        made.write_text(str(report_id))
    return {mode: [child(mode, data_dir, report_id) for _ in range(repeat)] for mode in MODES}


def make_photos_and_po(data_dir: str, count: int) -> int:
    photo_dir = Path(data_dir) / "camera"
    photo_dir.mkdir()
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        jobs = [(i, str(photo_dir), False) for i in range(count)]
        paths = list(pool.map(make_photo, jobs, chunksize=4))
    size = sum(os.path.getsize(p) for p in paths) / 1e6
    print(f"made {count} photos ({size:,.0f} MB) in {time.perf_counter() - started:.0f} s")
    _django(data_dir)
    started = time.perf_counter()
    report_id = make_po(paths)
    print(f"PO inspected, reported and summarised in {time.perf_counter() - started:.0f} s")
    return report_id


def print_table(runs: dict[str, list[dict]]) -> None:
    def median(mode, key):
        return statistics.median(run[key] for run in runs[mode])

    first = {mode: rows[0] for mode, rows in runs.items()}
    print()
    print(f"{'PO summary PDF':34} {'(a) renditions':>16} {'(b) originals':>16}")
    rows = [
        ("render seconds (median)", "seconds", "{:.2f}"),
        ("PDF size, MB", "mb", "{:.1f}"),
        ("pages", "pages", "{:.0f}"),
        ("photo annex starts on page", "annex_page", "{:.0f}"),
        ("images embedded", "images", "{:.0f}"),
        ("resident memory before, MB", "rss_before_mb", "{:.0f}"),
        ("peak resident memory, MB (median)", "peak_mb", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        a = median("renditions", key) if key in ("seconds", "peak_mb") else first["renditions"][key]
        b = median("originals", key) if key in ("seconds", "peak_mb") else first["originals"][key]
        print(f"{label:34} {fmt.format(a):>16} {fmt.format(b):>16}")
    a, b = (median(m, "seconds") for m in MODES)
    size_a, size_b = (first[m]["mb"] for m in MODES)
    print(f"\n(b) over (a): {b / a:.1f}x the time, {size_b / size_a:.1f}x the size")
    verdict = a < TARGET["seconds"] and size_a < TARGET["mb"]
    print(
        f"aim: under {TARGET['seconds']} s and {TARGET['mb']} MB -> (a) "
        f"{'meets it' if verdict else 'does NOT meet it'}: {a:.1f} s, {size_a:.1f} MB"
    )


# --- the child: one render ------------------------------------------------------------------

MODES = ("renditions", "originals")


def render(mode: str, data_dir: str, report_id: int) -> dict:
    _django(data_dir)
    from django.conf import settings
    from weasyprint import HTML

    from qcloop.inspections.models import Photo
    from qcloop.reports.models import Report
    from qcloop.reports.rendering import StorageFetcher, document_html, stamp_for
    from qcloop.reports.services import draft_content

    report = Report.objects.get(pk=report_id)
    version = report.current
    content = draft_content(report)  # as the code renders it now, with the version's stamp
    if mode == "originals":
        originals = dict(Photo.objects.values_list("sha256", "original"))
        content = _pointing_at_originals(content, originals)
    before = _rss_mb()
    started = time.perf_counter()
    html = document_html(content, stamp_for(version), pdf=True)
    document = HTML(string=html, base_url=settings.SITE_URL, url_fetcher=StorageFetcher())
    document = document.render()
    pdf = document.write_pdf()
    seconds = time.perf_counter() - started
    if mode == "renditions":  # kept beside the PO, to look at
        (Path(data_dir) / "summary.pdf").write_bytes(pdf)
    annex = next(
        (i + 1 for i, page in enumerate(document.pages) if "photo-annex" in page.anchors), None
    )
    return {
        "seconds": seconds,
        "mb": len(pdf) / 1e6,
        "pages": len(document.pages),
        "annex_page": annex,
        "images": html.count("<img "),
        "rss_before_mb": before,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _pointing_at_originals(content: dict, originals: dict[str, str]) -> dict:
    """The same content, every photo's rendition and thumbnail replaced by its original."""

    def swap(value):
        if isinstance(value, dict):
            if "sha256" in value and "rendition" in value:
                original = originals[value["sha256"]]
                return {**value, "rendition": original, "thumbnail": original}
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    return swap(content)


if __name__ == "__main__":
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        mode, data_dir, report_id = sys.argv[at + 1], sys.argv[at + 2], int(sys.argv[at + 3])
        print(json.dumps(render(mode, data_dir, report_id)))
    else:
        main()
