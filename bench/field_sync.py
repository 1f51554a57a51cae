"""Field sync of a PSI with 150 photos over loopback: renditions made on the phone against
sending the originals (a script, not a test).

Sets up a throwaway qcloop (SQLite in a temp dir) served by gunicorn on 127.0.0.1 as in
production, with two PSIs booked for two inspectors, and makes 150 phone photos of 12 MP
(bench/photo_ingest.make_photo: real photos upscaled and varied, with EXIF and GPS; every tenth
a HEIC, which Chromium cannot decode, so it goes as it is in both modes). Then, for each mode,
headless Chromium runs the field app as an inspector would:

  sign in, download the PSI, go offline, answer the checklist, record a defect, add the
  150 photos from the camera input (timed: the phone's work: SHA-256, thumbnails and, in the
  first mode, the 1600 px renditions), come back online and sync (timed), until the queue is
  empty.

Printed per mode: the phone's preparation time, the sync time until the QC lead has every
finding with a viewable photo (records + renditions, or the originals when there are none),
the time until everything (originals too) is on the server, and the bytes sent (counted by the
app, cross-checked with what the server received). Loopback has no bandwidth limit, so the
times are CPU and protocol; the bytes are what a weak uplink pays for, and the script also
prints what they would take at 2 Mbit/s (a typical factory-floor 4G uplink), computed.

Run:  .venv/bin/python bench/field_sync.py [--photos 150]   (about 5 minutes)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_ingest import PHOTOS, make_photo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-field-2026"
UPLINK_BITS = 2_000_000
MODES = [("renditions", False), ("originals", True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_site(data_dir: str, modes: int) -> list[dict]:
    """Migrate a fresh database and book one PSI per mode, each for its own inspector."""
    os.environ["QCLOOP_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "qcloop.settings"
    # Playwright's sync API runs an event loop in this thread; the ORM calls stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    from qcloop.testing import build_world, start_inspection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    inspections = []
    for index in range(modes):
        world = build_world(f"bench{index}")
        psi = start_inspection(world, "PSI", start=False)
        world.inspector.set_password(PASSWORD)
        world.inspector.save()
        inspections.append({"email": world.inspector.email, "milestone": psi.pk})
    return inspections


def make_photos(folder: str, count: int) -> list[str]:
    with ProcessPoolExecutor(2) as pool:
        return list(pool.map(make_photo, [(index, folder) for index in range(count)]))


def serve(data_dir: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "QCLOOP_DATA_DIR": data_dir}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "qcloop"), "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("the server did not start")


def received_bytes(milestone_id: int) -> int:
    from django.db.models import Sum

    from qcloop.field.models import FieldUpload

    done = FieldUpload.objects.filter(milestone_id=milestone_id, completed_at__isnull=False)
    return done.aggregate(total=Sum("size"))["total"] or 0


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/?next=/field/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("html[data-ready=true]")
    page.wait_for_selector("html[data-offline-ready=true]")


def stats(page) -> dict:
    return page.evaluate("() => window.qcloopField.stats()")


def viewable(milestone_id: int) -> int:
    """Photos the QC lead can already see: each one's first file is on the server."""
    from qcloop.inspections.models import PhotoAttachment

    return PhotoAttachment.objects.filter(milestone_id=milestone_id).count()


def record_and_sync(browser, base_url: str, who: dict, paths: list[str], originals_only: bool):
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(600_000)
    sign_in(page, who["email"])
    if originals_only:  # the app's own setting, as the inspector would tick it on Wi-Fi
        page.goto("/field/#/queue")
        page.check("#originals-only")
        page.wait_for_function("() => !!document.querySelector('#originals-only:checked')")
    milestone = who["milestone"]
    page.goto("/field/#/")
    page.click(f"[data-download='{milestone}']")
    page.wait_for_selector("#start-inspection")
    context.set_offline(True)
    page.click("#start-inspection")
    page.wait_for_selector("#photo-input")
    started = time.perf_counter()
    page.set_input_files("#photo-input", paths)
    page.wait_for_function(
        f"() => window.qcloopField.stats().pending_photos >= {len(paths)}", polling=250
    )
    prepare_s = time.perf_counter() - started
    before = stats(page)["bytes_sent"]
    context.set_offline(False)
    started = time.perf_counter()
    page.evaluate("() => { window.qcloopField.syncNow(); }")
    first_s = bytes_first = None
    while True:
        now = stats(page)
        if first_s is None and viewable(milestone) >= len(paths):
            first_s, bytes_first = time.perf_counter() - started, now["bytes_sent"] - before
        if now["pending_photos"] == 0 and now["pending_ops"] == 0 and first_s is not None:
            break
        time.sleep(0.1)
    all_s = time.perf_counter() - started
    result = {
        "prepare_s": prepare_s,
        "first_s": first_s,
        "all_s": all_s,
        "bytes_first": bytes_first,
        "bytes_sent": stats(page)["bytes_sent"] - before,
    }
    context.close()
    return result


def main() -> None:
    if not PHOTOS.is_dir():
        sys.exit(f"the shared photos are not at {PHOTOS}")
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    count = int(sys.argv[sys.argv.index("--photos") + 1]) if "--photos" in sys.argv else 150
    with tempfile.TemporaryDirectory(prefix="qcloop-field-bench-") as tmp:
        print(f"cores: {os.cpu_count()}; making {count} phone photos of 12 MP ...", flush=True)
        paths = make_photos(tmp, count)
        total = sum(Path(p).stat().st_size for p in paths)
        heic = sum(p.endswith(".HEIC") for p in paths)
        print(f"{count} photos, {heic} HEIC, {total / 1e6:.0f} MB of originals", flush=True)
        people = prepare_site(str(Path(tmp) / "site"), len(MODES))
        port = free_port()
        server = serve(str(Path(tmp) / "site"), port)
        results = []
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
                )
                for (mode, originals_only), who in zip(MODES, people, strict=True):
                    print(f"\n{mode}: recording offline and syncing ...", flush=True)
                    result = record_and_sync(
                        browser, f"http://127.0.0.1:{port}", who, paths, originals_only
                    )
                    result["server_bytes"] = received_bytes(who["milestone"])
                    results.append((mode, result))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    report(results, total)


def report(results: list[tuple[str, dict]], originals_bytes: int) -> None:
    print()
    header = (
        f"{'mode':<12}{'phone prep s':>13}{'findings viewable s':>21}{'all on server s':>17}"
        f"{'MB sent':>10}{'MB recv by server':>19}{'at 2 Mbit/s (min)':>19}"
    )
    print(header)
    for mode, r in results:
        minutes = r["bytes_first"] * 8 / UPLINK_BITS / 60
        print(
            f"{mode:<12}{r['prepare_s']:>13.1f}{r['first_s']:>21.1f}{r['all_s']:>17.1f}"
            f"{r['bytes_sent'] / 1e6:>10.1f}{r['server_bytes'] / 1e6:>19.1f}{minutes:>19.1f}"
        )
    (_, quick), (_, plain) = results
    print(
        f"\nfindings viewable: {plain['first_s'] / quick['first_s']:.1f}x faster with phone "
        f"renditions over loopback, {plain['bytes_first'] / quick['bytes_first']:.1f}x fewer bytes "
        f"before the QC lead sees every photo; the originals follow "
        f"({originals_bytes / 1e6:.0f} MB)."
    )


if __name__ == "__main__":
    main()
