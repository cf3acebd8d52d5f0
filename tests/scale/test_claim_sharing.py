"""Several trackers share a burst of finished jobs on PostgreSQL: each job claimed by one
tracker, each tracker taking only as many as its collectors can start, every tracker helping.

The claims run in a process of their own (tests/scale/concurrent_claims.py), one thread and
connection per tracker, on a scratch PostgreSQL database, where SELECT … FOR UPDATE SKIP LOCKED
is what keeps two trackers from the same job.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.scale.cluster import REPO

TRACKERS = 4


def test_trackers_share_a_burst_of_finished_jobs_each_job_once(postgres_database, tmp_path: Path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "atelier.settings", "ATELIER_VAR_DIR": str(tmp_path),
           "DATABASE_URL": postgres_database.url, "TASKS_BACKEND": "database", "LOG_LEVEL": "warning"}
    done = subprocess.run([sys.executable, "-m", "tests.scale.concurrent_claims", postgres_database.url,
                           str(TRACKERS)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["vendor"] == "postgresql" and outcome["errors"] == []

    passes = [claim for tracker in outcome["claims"] for claim in tracker]
    collected = collections.Counter(job for claim in passes for job in claim["collect"])
    watched = collections.Counter(job for claim in passes for job in claim["watch"])
    # Every finished job went to exactly one tracker; so did every running one.
    assert len(collected) == outcome["collecting"] and set(collected.values()) == {1}
    assert len(watched) == outcome["running"] and set(watched.values()) == {1}
    # No tracker took more finished jobs at once than its collectors could start.
    assert max(len(claim["collect"]) for claim in passes) <= outcome["limits"]["collect"]
    assert max(len(claim["watch"]) for claim in passes) <= outcome["limits"]["watch"]
    # And every tracker collected part of the burst: none sat idle while another queued it.
    per_tracker = [sum(len(claim["collect"]) for claim in tracker) for tracker in outcome["claims"]]
    assert all(count > 0 for count in per_tracker), per_tracker
