"""Two app servers and two RQ workers on loopback against one PostgreSQL, one Redis and one
S3-compatible bucket (bench/scale_out.py at a small bounded load): phones sending their
records and chunked photo uploads round-robin to both servers lose nothing, duplicate
nothing, and every photo is processed on a worker, each worker taking its share."""

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import in_ci, subprocess_env

BENCH = Path(__file__).resolve().parents[3] / "bench" / "scale_out.py"
INSPECTORS, ROUNDS = 4, 3


def load_bench():
    spec = importlib.util.spec_from_file_location("scale_out", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scale_out", module)
    spec.loader.exec_module(module)
    return module


def test_two_app_servers_and_two_workers_keep_every_record_and_photo_exactly_once():
    bench = load_bench()
    # Redis database 13: the suite's own tests use 14, the bench's default run 12.
    options = bench.Options(
        inspectors=INSPECTORS, rounds=ROUNDS, dashboard_every=2, compare=False, redis_db=13
    )
    missing = bench.unavailable(options)
    if missing:
        if in_ci():
            pytest.fail(f"CI must have PostgreSQL, Redis and moto_server: {'; '.join(missing)}")
        pytest.skip("; ".join(missing))
    lines = []

    outcome = bench.run(options, base_env=subprocess_env(), out=lines.append)

    report = "\n".join(lines)
    assert outcome["ok"], report
    (phase,) = outcome["phases"]
    rows = {row["endpoint"]: row for row in phase["rows"]}
    assert phase["failures"] == [] and rows["overall"]["errors"] == 0, report
    assert rows["field sync"]["requests"] == INSPECTORS * ROUNDS
    assert rows["upload declare"]["requests"] == INSPECTORS * ROUNDS
    assert rows["upload chunk"]["requests"] >= INSPECTORS * ROUNDS
    assert rows["dashboard"]["requests"] == INSPECTORS  # round 2 of 3
    assert len(phase["by_port"]) == 2 and all(phase["by_port"].values()), phase["by_port"]
    check = phase["check"]
    records = INSPECTORS * ROUNDS
    for kind, sent in (("defects", records), ("readings", 2 * records), ("ops", 4 * records)):
        assert check[kind] == {
            "pushed": sent,
            "once": sent,
            "missing": 0,
            "duplicated": 0,
            "unacked": 0,
            "unacked_present": 0,
            "extra": 0,
        }, (kind, report)
    assert check["answers"] == {"items": records, "once": records, "stale": 0}, report
    photos = check["photos"]
    assert len(phase["pushed"].photos) == records, report
    assert photos["present"] == photos["ready"] == photos["ready_with_files"] == records, report
    assert photos["missing"] == photos["duplicated"] == photos["pending"] == 0, report
    assert photos["uploads_open"] == photos["chunks_left"] == photos["unfinished"] == 0, report
    assert check["bucket"]["staging_left"] == 0, report
    ingests = [counts["ingest_photo"] for counts in phase["jobs"]["by_worker"].values()]
    assert len(ingests) == 2 and all(ingests) and sum(ingests) == records, report
    assert phase["jobs"]["failed"] == [] and phase["jobs"]["retried"] == 0, report
