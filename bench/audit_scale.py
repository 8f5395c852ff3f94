"""The audit history at 100,000 and at 1,000,000 rows, in one run on one machine.

    .venv/bin/python bench/audit_scale.py [--sizes 100000,1000000] [--runs N] [--json]

Seeds its own database (SQLite in var/bench/audit_scale.sqlite3, or DATABASE_URL from the
environment, whose database name must contain "bench") with a valid audit chain of the first size
(``_setup.seed_audit_chain``: bulk_create, HMAC-sealed), measures, extends the same chain to the
next size and measures again. At each size:

* the audit list, page 1,000 (the cursor that following "older" 999 times reaches), a filtered
  list and the text search, requested with the test client as a Viewer: SQL queries (counted on
  a warm-up request), median and p95 ms of N timed requests;
* the CSV export: time to its first 64 KB;
* ``manage.py rolemodel audit verify`` in a process of its own: wall time, rows/s, its peak
  memory (ru_maxrss from ``os.wait4``) and how many progress lines it wrote.

Then the ratio of the largest size's figures to the smallest's (the target: at most 1.5x).
With ``--json``, stdout holds one JSON object and the tables go to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402  (sets up Django; must come before Django imports)

DEFAULT_SIZES = (100_000, 1_000_000)
RATIO_TARGET = 1.5
VIEWER = "vera"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(size) for size in DEFAULT_SIZES),
                        help="audit rows to measure at, ascending, comma-separated (default 100000,1000000)")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--no-verify", action="store_true", help="skip `rolemodel audit verify`")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout; tables go to stderr")
    args = parser.parse_args()
    try:
        args.sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
    if not args.sizes or any(size < 60_000 for size in args.sizes) or args.sizes != sorted(set(args.sizes)):
        parser.error("--sizes must be ascending, each at least 60000 (page 1,000 starts at row 49,951)")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def pages_to_measure(depth_cursor: str) -> list[tuple[str, str]]:
    from django.urls import reverse

    url = reverse("audit:list")
    return [
        ("audit list", url),
        ("audit list, page 1,000", f"{url}?after={depth_cursor}"),
        ("audit filtered (type, action)", f"{url}?object_type=role&action=update"),
        ("audit filtered (person)", f"{url}?person=erin"),
        ("audit text search", f"{url}?q=OPS-4242"),  # one row in 5,000
        ("audit text search, every row", f"{url}?q=ticket"),
        ("audit text search, every row, page 1,000", f"{url}?q=ticket&after={depth_cursor}"),
    ]


def measure_pages(client, runs: int) -> dict:
    from pages import measure

    from django.urls import reverse

    depth_cursor = _setup.audit_cursor_at_page(1_000)
    results = {}
    for label, url in pages_to_measure(depth_cursor):
        result = measure(client, url, runs)
        results[label] = {"status": result["status"], "queries": result["queries"], "kb": round(result["kb"], 1),
                          "median_ms": round(_setup.median_ms(result["samples"]), 1),
                          "p95_ms": round(_setup.p95_ms(result["samples"]), 1)}
    export = _first_chunk_of_export(client, reverse("audit:export") + "?format=csv")
    results["audit CSV export, first 64 KB"] = export
    return results


def _first_chunk_of_export(client, url: str, runs: int = 10) -> dict:
    """Time to the first 64 KB of the CSV stream (the rest is not read: it would measure the disk, not the start)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        size = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            if size >= 64 * 1024:
                break
        samples.append(time.perf_counter() - started)
        response.close()
    return {"status": str(response.status_code), "median_ms": round(_setup.median_ms(samples), 1),
            "p95_ms": round(_setup.p95_ms(samples), 1)}


def measure_verify(rows: int) -> dict:
    """`rolemodel audit verify` in its own process: time, rows/s, peak RSS (``os.wait4``) and its progress lines."""
    import tempfile

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(root / "manage.py"), "rolemodel", "audit", "verify", "--as", VIEWER],
                                   cwd=root, env=os.environ.copy(), stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    progress_lines = [line for line in errors.splitlines() if line.startswith("verified ")]
    last_line = (output.strip() or errors.strip()).splitlines()[-1:] or [""]
    return {"ok": process.returncode == 0, "message": last_line[0], "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "progress_lines": len(progress_lines), "last_progress": progress_lines[-1] if progress_lines else ""}


def main() -> None:
    args = parse_args()
    out = sys.stderr if args.json else sys.stdout
    with redirect_stdout(out):
        figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=2))


def run(args) -> dict:
    database = _setup.configure("audit_scale")

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from core.permissions import EDITOR, VIEWER as VIEWER_GROUP

    _setup.print_header("Rolemodel Console: the audit history at scale")
    print(f"Database: {database}")
    print(f"Sizes: {', '.join(f'{size:,}' for size in args.sizes)} rows; {args.runs} timed requests per page after a "
          "warm-up (where queries are counted); times include the test client, not a network")
    _setup.fresh_database()
    viewer = _setup.console_user(VIEWER, VIEWER_GROUP)
    actors = [_setup.console_user(name, EDITOR) for name in ("eddie", "erin", "april")]
    client = Client(SERVER_NAME="localhost")
    client.force_login(viewer)

    figures = {"database": connection.vendor, "sizes": {}}
    seeded = 0
    for size in args.sizes:
        started, added = time.perf_counter(), size - seeded
        _setup.seed_audit_chain(added, actors=actors)
        seed_seconds = time.perf_counter() - started
        seeded = size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would do after a load this size; the planner needs it
        _setup.print_header(f"{size:,} audit rows (the last {added:,} seeded in {seed_seconds:.0f} s, "
                            f"{added / seed_seconds:,.0f} rows/s)")
        at_size = {"seed_seconds": round(seed_seconds, 1)}
        if not args.no_verify:
            at_size["verify"] = measure_verify(size)
        # The page's chain badge is recomputed at most once a minute; warm it so the pages measure the list.
        client.get(reverse("audit:list"))
        at_size["pages"] = measure_pages(client, args.runs)
        _setup.print_table(["page", "status", "SQL queries", "median ms", "p95 ms"],
                           [[label, page["status"], page.get("queries", ""), page["median_ms"], page["p95_ms"]]
                            for label, page in at_size["pages"].items()])
        if "verify" in at_size:
            verify = at_size["verify"]
            print(f"audit verify: {'ok' if verify['ok'] else 'FAILED'} in {verify['seconds']} s, {verify['rows_per_s']:,} rows/s, "
                  f"peak RSS {verify['peak_rss_mb']} MB, {verify['progress_lines']} progress lines "
                  f"({verify['last_progress'] or 'none'}); {verify['message']}")
        figures["sizes"][str(size)] = at_size

    if len(args.sizes) > 1:
        figures["ratios"] = ratios(figures, args.sizes[0], args.sizes[-1])
    return figures


def ratios(figures: dict, small: int, large: int) -> dict:
    low, high = figures["sizes"][str(small)], figures["sizes"][str(large)]
    _setup.print_header(f"{large:,} rows against {small:,} (target: at most {RATIO_TARGET}x)")
    result, rows = {}, []
    for label, page in high["pages"].items():
        before = low["pages"][label]
        median = page["median_ms"] / before["median_ms"] if before["median_ms"] else None
        p95 = page["p95_ms"] / before["p95_ms"] if before["p95_ms"] else None
        result[label] = {"median": round(median, 2), "p95": round(p95, 2)}
        rows.append([label, f"{median:.2f}x", f"{p95:.2f}x", "yes" if median <= RATIO_TARGET else "NO"])
    if "verify" in high and "verify" in low and high["verify"]["peak_rss_mb"] and low["verify"]["peak_rss_mb"]:
        memory = high["verify"]["peak_rss_mb"] / low["verify"]["peak_rss_mb"]
        result["verify peak memory"] = round(memory, 2)
        rows.append(["audit verify peak memory", f"{memory:.2f}x", "", ""])
    _setup.print_table(["measure", "median", "p95", f"<= {RATIO_TARGET}x"], rows)
    return result


if __name__ == "__main__":
    main()
