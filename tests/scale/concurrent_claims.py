"""Trackers on several machines claiming a burst of done jobs at once, in a process of its own
(see test_claim_sharing.py).

Run as `python -m tests.scale.concurrent_claims DATABASE_URL TRACKERS`. It migrates that
database, makes 60 jobs fal has finished (waiting for a collector) and 20 running ones, all
due now, then TRACKERS threads, each with its own connection like a tracker process, claim
through a barrier with `jobs.claim_due_rows` until nothing is left: at most 5 jobs to look at
and 6 to collect per claim, and each spends a little time per claimed job, as its collectors
would. Prints one JSON line with what each claimed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback

COLLECTING, RUNNING = 60, 20
WATCH_LIMIT, COLLECT_LIMIT = 5, 6


def main(database_url: str, trackers: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from studio import jobs
    from studio.models import Generation

    person = get_user_model().objects.create_user("claimer", password=None)
    due = timezone.now() - timezone.timedelta(seconds=1)
    Generation.objects.bulk_create([
        Generation(user=person, model_id="fal-ai/flux-1/dev", model_title="FLUX.1 [dev]", kind="text-to-image",
                   arguments={"prompt": f"burst {n}"}, prompt=f"burst {n}", client_token=f"burst-{n:04d}",
                   request_id=f"req-{n:04d}", next_check_at=due,
                   state=Generation.State.COLLECTING if n < COLLECTING else Generation.State.RUNNING)
        for n in range(COLLECTING + RUNNING)])
    connection.close()

    barrier = threading.Barrier(trackers)
    claims: list[list[dict]] = [[] for _ in range(trackers)]
    errors: list[str] = []

    def tracker(number: int) -> None:
        from django.db import connection as own_connection

        try:
            barrier.wait(timeout=30)
            empty = 0
            while empty < 3:
                rows = jobs.claim_due_rows(WATCH_LIMIT, COLLECT_LIMIT)
                if not rows:
                    empty += 1
                    time.sleep(0.02)
                    continue
                empty = 0
                claims[number].append({
                    "collect": [str(row.id) for row in rows if row.state == Generation.State.COLLECTING],
                    "watch": [str(row.id) for row in rows if row.state != Generation.State.COLLECTING]})
                time.sleep(0.02 * len(rows))  # its collectors at work
        except Exception:
            errors.append(traceback.format_exc(limit=5))
        finally:
            own_connection.close()

    threads = [threading.Thread(target=tracker, args=(number,)) for number in range(trackers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"vendor": connection.vendor, "claims": claims, "errors": errors,
                      "collecting": COLLECTING, "running": RUNNING,
                      "limits": {"watch": WATCH_LIMIT, "collect": COLLECT_LIMIT}}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
