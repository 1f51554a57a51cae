"""Page times of the program dashboard and the supplier scorecards at scale, on SQLite and on
PostgreSQL: p50 and p95 of N requests per page (default 30, after two warm-ups), and the SQL
queries each page runs, against the aim of p95 under 300 ms on PostgreSQL.

The program (bench/scale_program.py): one buyer with 20,000 POs over ~24 months, 80,000
milestones and 2,000,000 defect records, plus a small second tenant served by the same agency.
Each backend runs in its own process (the settings read DATABASE_URL at import): this script
re-invokes itself with --backend sqlite and --backend postgres and prints one table.

    .venv/bin/python bench/dashboard_scale.py [--pos 20000] [--defects 2000000]
        [--requests 30] [--reuse] [--backends sqlite,postgres] [--workers 2]

SQLite: a file database under /tmp/qcloop-bench-scale (WAL, as the settings configure it;
PRAGMA synchronous=OFF while generating only). PostgreSQL: the database `qcloop_bench` at
--pg (default postgres://postgres@127.0.0.1:5432), dropped and created afresh; when no server
answers there the PostgreSQL run is skipped with a message. --reuse keeps a database that
already holds a program of that size. Pages are requested through Django's test Client,
signed in as the buyer's manager and as the agency's coordinator; each request's time is the
whole request (middleware, queries, template), without the network."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

AIM_MS = 300.0
# A page slower than a second gets fewer timed requests (at least MIN_REQUESTS, and as many as
# fit in PAGE_SECONDS), so that a slow backend does not hold the run for a quarter of an hour.
PAGE_SECONDS = 20.0
MIN_REQUESTS = 10
DATA_DIR = Path(tempfile.gettempdir()) / "qcloop-bench-scale"
PG_DATABASE = "qcloop_bench"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the parent: one child per backend, one table -----------------------------------------------


def postgres_answers(url: str) -> str | None:
    """None when a server answers at `url`, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(f"{url}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def run_backends(args) -> None:
    results = {}
    for backend in args.backends.split(","):
        if backend == "postgres" and (why := postgres_answers(args.pg)):
            print(f"\nPostgreSQL skipped: no server at {args.pg} ({why}).")
            print("  Start one (trust auth for user postgres) or pass --pg; see bench/README.md.")
            continue
        print(f"\n=== {backend} ===", flush=True)
        out = DATA_DIR / f"result-{backend}.json"
        out.unlink(missing_ok=True)
        command = [sys.executable, __file__, "--backend", backend, "--out", str(out)]
        command += ["--pos", str(args.pos), "--defects", str(args.defects)]
        command += ["--requests", str(args.requests), "--workers", str(args.workers)]
        command += ["--pg", args.pg] + (["--reuse"] if args.reuse else [])
        if subprocess.run(command).returncode != 0 or not out.exists():
            print(f"{backend}: the run failed (see above).")
            continue
        results[backend] = json.loads(out.read_text())
    if results:
        print_table(results)


def print_table(results: dict) -> None:
    backends = list(results)
    print("\nGeneration")
    for backend, result in results.items():
        g = result["generation"]
        how = "reused" if g["reused"] else f"{g['seconds']:.0f} s"
        print(f"  {backend:9} {how}")
    first = results[backends[0]]["generation"]["counts"]
    print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in first.items()))
    print("  POs flagged escalating (a class / a class or a code, of the POs with a sample):")
    for backend, result in results.items():
        for group, (by_class, by_any, pos) in result["generation"]["flags"].items():
            shares = f"{100 * by_class / max(pos, 1):.1f} % / {100 * by_any / max(pos, 1):.1f} %"
            print(f"    {backend:9} {group:30} {shares:>16} of {pos:,}")
        drift = result["generation"]["drifting"]
        print(
            f"    {backend:9} suppliers drifting on the live dashboard: rising "
            f"{drift['rising'][0]} of {drift['rising'][1]}, stable {drift['stable'][0]} of "
            f"{drift['stable'][1]}"
        )
    names = [p["name"] for p in results[backends[0]]["pages"]]
    head = f"\n{'page (signed in as)':54}"
    for backend in backends:
        head += f" | {backend + ' p50':>12} {'p95':>7} {'SQL':>4}"
    print(head + f" | aim: PostgreSQL p95 < {AIM_MS:.0f} ms")
    for name in names:
        line = f"{name:54}"
        verdict = ""
        for backend in backends:
            page = next((p for p in results[backend]["pages"] if p["name"] == name), None)
            if page is None:
                line += f" | {'-':>12} {'-':>7} {'-':>4}"
                continue
            line += f" | {page['p50']:>9.0f} ms {page['p95']:>4.0f} ms {page['queries']:>4}"
            if backend == "postgres":
                verdict = "met" if page["p95"] < AIM_MS else "MISSED"
        print(line + f" | {verdict}")
    for backend in backends:
        print(f"\nSlowest queries on {backend} (one request per page, ms):")
        for page in results[backend]["pages"]:
            top = page["slowest"][0] if page["slowest"] else None
            if top:
                print(f"  {page['name'][:50]:50} {top[0]:7.1f}  {top[1][:150]}")


# --- the child: one backend ----------------------------------------------------------------------


def prepare_database(backend: str, args) -> bool:
    """Point the settings at the bench database. True when it must be (re)generated."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(QCLOOP_DATA_DIR=str(DATA_DIR), DJANGO_SETTINGS_MODULE="qcloop.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if backend == "sqlite":
        path = DATA_DIR / "scale.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        if args.reuse and path.exists():
            return False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return True
    import psycopg

    os.environ["DATABASE_URL"] = f"{args.pg}/{PG_DATABASE}"
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]
        ).fetchone()
        if args.reuse and exists:
            return False
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    return True


def holds_program(size) -> bool:
    from qcloop.accounts.models import Organisation
    from qcloop.orders.models import PurchaseOrder

    buyer = Organisation.objects.filter(slug="northwind-home-apparel").first()
    return buyer is not None and PurchaseOrder.objects.filter(buyer=buyer).count() == size.pos


def run_backend(backend: str, args) -> None:
    fresh = prepare_database(backend, args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from scale_program import ProgramSize, build_program

    size = ProgramSize(pos=args.pos, defects=args.defects)
    if not fresh:
        call_command("migrate", verbosity=0)
        if not holds_program(size):
            print("  --reuse: the database holds no program of that size; generating afresh")
            connection.close()
            args.reuse = False
            fresh = prepare_database(backend, args)
    seconds = 0.0
    rising_file = DATA_DIR / f"escalating-suppliers-{backend}.json"
    if fresh:
        call_command("migrate", verbosity=0)
        if backend == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")  # the bench's own file, generation only
        print(f"  generating {size.pos:,} POs and {size.defects:,} defects ...", flush=True)
        program = build_program(size, workers=args.workers, log=lambda s: print(s, flush=True))
        seconds = program.seconds
        rising_file.write_text(json.dumps(program.escalating_supplier_ids))
        print(f"  generated in {seconds:.0f} s", flush=True)
        connection.close()  # the timed requests start on a connection with default pragmas
    # As served: DEBUG off, static files from the collected manifest.
    call_command("collectstatic", interactive=False, verbosity=0)
    rising = json.loads(rising_file.read_text())
    result = {
        "backend": backend,
        "generation": {
            "reused": not fresh,
            "seconds": seconds,
            "counts": row_counts(),
            "flags": flag_volume(rising),
            "drifting": drifting_suppliers(rising),
        },
        "pages": time_pages(args.requests),
    }
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))


def row_counts() -> dict[str, int]:
    from qcloop.alerts.models import Escalation
    from qcloop.analytics.models import MilestoneTally, TrendFlag
    from qcloop.capa.models import CorrectiveAction
    from qcloop.inspections.models import Defect, Milestone
    from qcloop.orders.models import PurchaseOrder
    from qcloop.reports.models import Report

    models = [PurchaseOrder, Milestone, Defect, MilestoneTally, Report, CorrectiveAction]
    counts = {m.__name__: m.objects.count() for m in [*models, Escalation, TrendFlag]}
    counts["active TrendFlag"] = sum(
        f.active for f in TrendFlag.objects.only("pk", "cleared_at", "escalating", "projected")
    )
    return counts


def flag_volume(rising_suppliers: list[int]) -> dict[str, list[int]]:
    """POs with a trend flag saying "escalating" (of a class or a code, standing or cleared
    since), against all POs with a published sampled milestone: of the stable suppliers (every
    such flag a false alarm) and of the suppliers whose rates rose over the last months, their
    POs inspected in that time (where a flag is a detection). [flagged by class, by class or
    code, POs]."""
    from datetime import timedelta

    from django.utils import timezone
    from scale_program import ESCALATING_MONTHS

    from qcloop.analytics.models import MilestoneTally, TrendFlag

    since = timezone.localdate() - timedelta(days=30 * ESCALATING_MONTHS)
    sampled = MilestoneTally.objects.filter(sampled_units__gt=0, kind__in=["DUPRO", "PSI"])
    groups = {
        "stable suppliers": sampled.exclude(supplier__in=rising_suppliers),
        "rising suppliers, last months": sampled.filter(
            supplier__in=rising_suppliers, inspected_on__gte=since
        ),
    }
    escalating = TrendFlag.objects.filter(escalating=True)
    by_class = set(escalating.filter(defect_code="").values_list("po", flat=True))
    by_any = set(escalating.values_list("po", flat=True))
    volume = {}
    for name, tallies in groups.items():
        pos = set(tallies.values_list("po", flat=True))
        volume[name] = [len(pos & by_class), len(pos & by_any), len(pos)]
    return volume


def drifting_suppliers(rising_suppliers: list[int]) -> dict[str, list[int]]:
    """The live dashboard's "suppliers drifting" list, as the buyer's manager sees it:
    [listed, of] for the suppliers whose rates rose and for the stable ones."""
    from qcloop.accounts.models import Membership, Role
    from qcloop.analytics.dashboard import Dashboard, Scope, parse_filters
    from qcloop.orders.models import Supplier

    buyer = Supplier.objects.filter(code="V-NW001").get().buyer
    manager = Membership.objects.get(organisation=buyer, role=Role.BUYER_MANAGER).user
    scope = Scope.of_user(manager)
    listed = {d.supplier_id for d in Dashboard(scope, parse_filters({}, scope)).drifting}
    everyone = set(Supplier.objects.filter(buyer=buyer).values_list("pk", flat=True))
    rising = everyone & set(rising_suppliers)
    stable = everyone - rising
    return {
        "rising": [len(listed & rising), len(rising)],
        "stable": [len(listed & stable), len(stable)],
    }


def pages_to_time() -> list[tuple[str, str, str]]:
    """(name, user email, URL): the pages with a few filter variants each."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils import timezone

    from qcloop.accounts.models import Membership, Role
    from qcloop.analytics.models import TrendFlag
    from qcloop.orders.models import Supplier

    buyer = Supplier.objects.filter(code="V-NW001").get().buyer
    manager = Membership.objects.get(organisation=buyer, role=Role.BUYER_MANAGER).user.email
    coordinator = Membership.objects.filter(role=Role.COORDINATOR).get().user.email
    biggest = (
        Supplier.objects.filter(buyer=buyer)
        .annotate(n=Count("purchase_orders"))
        .order_by("-n", "pk")
        .first()
    )
    flagged = (
        TrendFlag.objects.filter(buyer=buyer, cleared_at__isnull=True)
        .filter(Q(escalating=True) | Q(projected=True))
        .values("supplier")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    rising = flagged["supplier"] if flagged else biggest.pk
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    dashboard, scorecards = reverse("analytics:dashboard"), reverse("analytics:scorecards")

    def card(pk):
        return reverse("analytics:scorecard", args=[pk])

    return [
        ("dashboard live (manager)", manager, dashboard),
        (f"dashboard period={last_month} (manager)", manager, f"{dashboard}?period={last_month}"),
        ("dashboard supplier=biggest (manager)", manager, f"{dashboard}?supplier={biggest.pk}"),
        ("dashboard category=garments (manager)", manager, f"{dashboard}?category=garments"),
        ("dashboard market=US (manager)", manager, f"{dashboard}?market=US"),
        ("scorecards (manager)", manager, scorecards),
        ("scorecards category=garments (manager)", manager, f"{scorecards}?category=garments"),
        ("scorecard biggest supplier (manager)", manager, card(biggest.pk)),
        ("scorecard most-flagged supplier (manager)", manager, card(rising)),
        ("dashboard live (coordinator)", coordinator, dashboard),
        ("dashboard buyer=NW (coordinator)", coordinator, f"{dashboard}?buyer={buyer.pk}"),
        ("scorecards (coordinator)", coordinator, scorecards),
        ("scorecard biggest supplier (coordinator)", coordinator, card(biggest.pk)),
        ("PO list, for reference (manager)", manager, reverse("orders:po_list")),
    ]


def time_pages(requests: int) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qcloop.accounts.models import User

    results = []
    clients: dict[str, Client] = {}
    for name, email, url in pages_to_time():
        if email not in clients:
            clients[email] = Client(HTTP_HOST="127.0.0.1")
            clients[email].force_login(User.objects.get(email=email))
        client = clients[email]
        for _ in range(2):  # warm-up: templates compiled, caches filled
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        # Read at once: the next request's start clears the connection's query log.
        queries = list(captured.captured_queries)
        slowest = sorted(((1000 * float(q["time"]), q["sql"]) for q in queries), reverse=True)[:3]
        times = []
        budget = time.monotonic() + PAGE_SECONDS
        while len(times) < requests and (len(times) < MIN_REQUESTS or time.monotonic() < budget):
            began = time.perf_counter()
            client.get(url)
            times.append(1000 * (time.perf_counter() - began))
        page = {
            "name": name,
            "url": url,
            "p50": statistics.median(times),
            "p95": percentile(times, 0.95),
            "requests": len(times),
            "max": max(times),
            "queries": len(queries),
            "bytes": len(response.content),
            "slowest": slowest,
        }
        print(
            f"  {name:54} p50 {page['p50']:6.0f} ms  p95 {page['p95']:6.0f} ms  "
            f"{page['queries']:3} queries  {page['bytes'] / 1024:5.0f} KiB  "
            f"({len(times)} requests)",
            flush=True,
        )
        results.append(page)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--pos", type=int, default=20_000)
    parser.add_argument("--defects", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--reuse", action="store_true", help="keep a database already generated")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=2, help="processes for the trend flags")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        run_backend(args.backend, args)
    else:
        began = time.monotonic()
        run_backends(args)
        print(f"\nwhole run: {(time.monotonic() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
