"""Gallery pages at 1k / 10k / 100k output assets, on SQLite and PostgreSQL.

Each database runs in its own child process (settings are read at import): a throw-away
SQLite file in a temp ATELIER_VAR_DIR, or a scratch PostgreSQL database created and dropped
on the server named by --postgres (trust auth; needs psycopg). The child fills the gallery
with bulk_create (bench/_gallery_data.py), grows it 1k -> 10k -> 100k, runs ANALYZE (VACUUM
ANALYZE on PostgreSQL) at each size, then requests every page with Django's test Client
logged in as a member (force_login): warm-ups first, then timed runs. Server time is
time.perf_counter around client.get (whole middleware stack, view, template; the DB
connection stays open between requests, as with CONN_MAX_AGE > 0). Queries are counted with
CaptureQueriesContext, whose summed SQL time is shown as "sql".

Pages: the first grid page; a page ~90 % deep through the keyset cursor (`after=`); a
filtered page (mine + images + the most used model); prompt search for a common word (~30 %
of prompts) and a rare one (~0.1 %).

    python bench/gallery_pages.py                                  # both DBs, 1k/10k/100k
    python bench/gallery_pages.py --db sqlite --sizes 1000,10000   # quick look
    python bench/gallery_pages.py --explain                        # + query plans at the largest size
    python bench/gallery_pages.py --postgres postgres://postgres@127.0.0.1:5432/postgres

Goals (issue): first page <= 50 ms p50 and <= 10 queries at 100k, and <= 1.5x the 1k figure;
prompt search <= 200 ms p50 at 100k.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, ScratchPostgres, pct, setup_django, temp_dir  # noqa: E402

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
FIRST_PAGE_MS = 50.0
FIRST_PAGE_QUERIES = 10
FIRST_PAGE_GROWTH = 1.5
SEARCH_MS = 200.0


# --- Child: one database ------------------------------------------------------------------
def pages() -> list[tuple[str, str, dict]]:
    """(label, url, headers) for every page measured at the current size."""
    from gallery.browse import encode_cursor
    from gallery.models import Asset
    from _gallery_data import COMMON_WORD, RARE_WORD, TOP_MODEL

    count = Asset.objects.filter(source=Asset.Source.OUTPUT).count()
    deep = (Asset.objects.filter(source=Asset.Source.OUTPUT).order_by("-created_at", "-id")
            .only("id", "created_at")[int(count * 0.9)])
    return [
        ("first", "/gallery/", {}),
        ("deep 90%", f"/gallery/?after={encode_cursor(deep)}", {}),
        ("filtered", f"/gallery/?scope=mine&kind=image&model={TOP_MODEL}", {}),
        (f"q={COMMON_WORD}", f"/gallery/?q={COMMON_WORD}", {}),
        (f"q={RARE_WORD}", f"/gallery/?q={RARE_WORD}", {}),
    ]


def page_query(queries: list[dict]) -> str:
    """The grid's own SELECT among a request's queries."""
    for query in queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT") and 'FROM "gallery_asset"' in sql and "ORDER BY" in sql:
            return sql
    return ""


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(f"{row[1]:>3} {row[3]}" for row in cursor.fetchall())


def measure(client, url: str, headers: dict, runs: int, warmup: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    server, sql, counts = [], [], []
    queries: list[dict] = []
    spent = [0.0]

    def timed(execute, sql_text, params, many, context):  # finer than CaptureQueriesContext's 1 ms
        begun = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            spent[0] += time.perf_counter() - begun

    for _ in range(runs):
        spent[0] = 0.0
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            server.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries = captured.captured_queries
        counts.append(len(queries))
        sql.append(spent[0])
    return {
        "p50": pct(server, 50) * 1000, "p95": pct(server, 95) * 1000, "sql_p50": pct(sql, 50) * 1000,
        "queries": max(counts), "tiles": response.content.count(b"data-tile"),
        "page_sql": page_query(queries),
    }


def check_cursor_walk(client) -> None:
    """Follow `after=` a few pages: no duplicates, newest first (a sanity check, not timed)."""
    import re

    seen: list[str] = []
    url = "/gallery/"
    for _ in range(4):
        body = client.get(url, headers={"HX-Request": "true"} if seen else {}).content.decode()
        seen.extend(re.findall(r'name="ids" value="([0-9a-f-]{36})"', body))
        more = re.search(r'href="/gallery/\?(?:[^"]*&amp;)?after=([\w-]+)"', body)
        if not more:
            break
        url = f"/gallery/?after={more.group(1)}"
    assert len(seen) == len(set(seen)), "cursor pages repeat items"


def child(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        var_dir = stack.enter_context(temp_dir("atelier-gallery-"))
        database_url = stack.enter_context(ScratchPostgres(args.postgres)) if args.child == "postgres" else None
        setup_django(var_dir, "http://127.0.0.1:9", database_url)  # fal is never called here
        from django.conf import settings
        from django.test import Client

        import _gallery_data as data

        filler = data.GalleryFiller(str(settings.MEDIA_ROOT))
        filler.make_users()
        client = Client(HTTP_HOST="localhost")
        client.force_login(filler.viewer)
        results = []
        for size in args.sizes:
            started = time.perf_counter()
            filler.grow_to(size)
            data.analyze()
            index = data.check_search_index()
            fill_seconds = time.perf_counter() - started
            print(f"[{args.child}] {size} assets / {index['generations']} generations filled in {fill_seconds:.1f}s",
                  file=sys.stderr, flush=True)
            if index["backfilled"]:
                index_problem = (f"FTS table had {index['indexed']} rows for {index['generations']} generations "
                                 f"({index['triggers']}/3 triggers on studio_generation); backfilled to time search")
                print(f"[{args.child}] WARNING {index_problem}", file=sys.stderr, flush=True)
                results.append({"db": args.child, "size": size, "problem": index_problem})
            check_cursor_walk(client)
            for label, url, headers in pages():
                result = measure(client, url, headers, args.runs, args.warmup)
                if args.explain and size == args.sizes[-1] and result["page_sql"]:
                    print(f"\n[{args.child} {size}] {label}: {url}\n{explain(result['page_sql'])}",
                          file=sys.stderr, flush=True)
                result.pop("page_sql")
                results.append({"db": args.child, "size": size, "page": label, **result})
        Path(args.out).write_text(json.dumps(results))


# --- Parent: both databases, one table ------------------------------------------------------
def run_child(db: str, args: argparse.Namespace, out: str) -> list[dict]:
    command = [sys.executable, __file__, "--child", db, "--out", out, "--sizes", ",".join(map(str, args.sizes)),
               "--runs", str(args.runs), "--warmup", str(args.warmup), "--postgres", args.postgres]
    if args.explain:
        command.append("--explain")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "ATELIER_VAR_DIR")}
    if subprocess.run(command, cwd=REPO, env=env).returncode != 0:
        return [{"db": db, "size": 0, "problem": "the benchmark process failed (see its traceback above)"}]
    return json.loads(Path(out).read_text())


def report(results: list[dict]) -> None:
    problems = [row for row in results if "problem" in row]
    results = [row for row in results if "problem" not in row]
    print(f"\n{'db':<9}{'size':>7}  {'page':<14}{'p50 ms':>8}{'p95 ms':>8}{'sql ms':>8}{'queries':>8}{'tiles':>6}")
    print("-" * 68)
    for row in results:
        print(f"{row['db']:<9}{row['size']:>7}  {row['page']:<14}{row['p50']:>8.1f}{row['p95']:>8.1f}"
              f"{row['sql_p50']:>8.1f}{row['queries']:>8}{row['tiles']:>6}")
    print("\nGoals at the largest size")
    for row in problems:
        print(f"  {row['db']:<9}MISS  at {row['size']}: {row['problem']}")
    for db in dict.fromkeys(row["db"] for row in results):
        rows = [row for row in results if row["db"] == db]
        largest, smallest = max(row["size"] for row in rows), min(row["size"] for row in rows)
        first = {row["size"]: row for row in rows if row["page"] == "first"}
        big, small = first[largest], first[smallest]
        growth = big["p50"] / small["p50"]
        checks = [
            (f"first page p50 {big['p50']:.1f} ms <= {FIRST_PAGE_MS:.0f}", big["p50"] <= FIRST_PAGE_MS),
            (f"first page {big['queries']} queries <= {FIRST_PAGE_QUERIES}", big["queries"] <= FIRST_PAGE_QUERIES),
            (f"first page {largest} vs {smallest}: {growth:.2f}x <= {FIRST_PAGE_GROWTH}", growth <= FIRST_PAGE_GROWTH),
        ]
        for row in rows:
            if row["size"] == largest and row["page"].startswith("q="):
                checks.append((f"{row['page']} p50 {row['p50']:.1f} ms <= {SEARCH_MS:.0f}", row["p50"] <= SEARCH_MS))
        for text, ok in checks:
            print(f"  {db:<9}{'ok  ' if ok else 'MISS'}  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--sizes", default="1000,10000,100000", help="output assets, ascending")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="server + maintenance DB used to CREATE/DROP a scratch database")
    parser.add_argument("--explain", action="store_true", help="print the grid query's plan at the largest size")
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sizes = sorted(int(size) for size in str(args.sizes).split(","))
    if args.child:
        child(args)
        return
    started = time.perf_counter()
    results: list[dict] = []
    with temp_dir("atelier-gallery-out-") as out_dir:
        for db in [name.strip() for name in args.db.split(",") if name.strip()]:
            results += run_child(db, args, os.path.join(out_dir, f"{db}.json"))
    report(results)
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n(total {time.perf_counter() - started:.0f} s; {args.runs} timed runs after {args.warmup} warm-ups per page; "
          f"load average {load} on {os.cpu_count()} CPUs: other work on the machine shows up in p95)")


if __name__ == "__main__":
    main()
