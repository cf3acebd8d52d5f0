"""The whole studio scaled out on this machine: 2 web processes, 3 RQ workers and tracker
processes over PostgreSQL and Redis, media in an S3 bucket, fal played by the simulator.

Jobs are sent through the web form, as a person would; the figures that matter are read
back from the simulator (how often each request was sent, each file downloaded) and from
PostgreSQL (state and outputs of every job).
"""

from __future__ import annotations

import collections
import re
import time

import httpx
import pytest

from tests.scale.cluster import Cluster
from tests.scale.conftest import S3_BUCKET, S3_KEYS, bucket_keys

MODEL = "fal-ai/flux-1/schnell"
EDIT_MODEL = "fal-ai/flux-pro/kontext"
PASSWORD = "scale-test-password-1"


@pytest.fixture
def cluster(tmp_path, postgres_database, redis_database, s3_server, simulator):
    prefix = f"cluster-{postgres_database.name}"
    running = Cluster(database_url=postgres_database.url, redis_url=redis_database.url,
                      fal_base_url=simulator.base_url, var_dir=tmp_path, S3_BUCKET=S3_BUCKET,
                      S3_ENDPOINT_URL=s3_server, S3_REGION="us-east-1", S3_PREFIX=prefix, **S3_KEYS)
    running.bucket_prefix = prefix
    running.database = postgres_database
    running.manage("migrate", "--noinput")
    running.manage("createsuperuser", "--noinput", "--username", "ada", "--email", "ada@example.com",
                   DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    yield running
    running.stop()
    assert "sk-scale-test" not in running.output(), "the fal key appeared in a process's output"


def logged_in(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    client.get("/login/")
    response = client.post("/login/", data={"username": "ada", "password": PASSWORD,
                                            "csrfmiddlewaretoken": client.cookies["csrftoken"]})
    assert response.status_code == 302, response.text[:500]
    return client


def send_forms(clients: list[httpx.Client], count: int, prompt: str) -> None:
    """`count` generate forms, spread over the web processes (one session, stored in PostgreSQL)."""
    for number in range(count):
        client = clients[number % len(clients)]
        response = client.post(f"/generate/{MODEL}/", data={
            "csrfmiddlewaretoken": client.cookies["csrftoken"], "client_token": f"form-{number:04d}",
            "prompt": f"{prompt} {number}", "image_size": "square", "num_images": "1"})
        assert response.status_code == 302, response.text[:1000]


def wait_for_final(cluster: Cluster, count: int, timeout: float = 240) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = dict(cluster.database.query("SELECT state, count(*) FROM studio_generation GROUP BY state"))
        if sum(states.get(state, 0) for state in ("done", "failed", "cancelled")) >= count:
            return states
        assert not cluster.dead(), f"{cluster.dead()} stopped:\n{cluster.output()}"
        time.sleep(0.3)
    raise AssertionError(f"not all final after {timeout}s: {states}\n{cluster.output()}")


def hits_per_request(simulator) -> tuple[collections.Counter, collections.Counter, collections.Counter]:
    """How often each request was submitted (by prompt number), its result fetched, its files downloaded."""
    results, files = collections.Counter(), collections.Counter()
    for hit in simulator.log:
        if hit.method != "GET":
            continue
        if match := re.fullmatch(r"/files/([^/]+)/.+", hit.path):
            files[match[1]] += 1
        elif match := re.fullmatch(r"/fal-ai/flux-1/requests/([^/]+)", hit.path):
            results[match[1]] += 1
    submits = collections.Counter(hit.path for hit in simulator.log if hit.method == "POST")
    return submits, results, files


def outputs_per_job(cluster: Cluster) -> list[tuple]:
    return cluster.database.query(
        "SELECT g.request_id, count(a.id) FROM studio_generation g "
        "LEFT JOIN gallery_asset a ON a.generation_id = g.id GROUP BY g.request_id")


def test_generate_flow_with_three_rq_workers_collects_each_job_once(cluster, simulator, s3_server):
    jobs = 24
    webs = [cluster.start_web(f"web-{n}") for n in (1, 2)]
    for n in (1, 2, 3):
        cluster.start_worker(f"worker-{n}")
    for n in (1, 2):
        cluster.start_tracker(f"tracker-{n}")
    clients = [logged_in(webs[0])]
    clients.append(httpx.Client(base_url=webs[1], cookies=clients[0].cookies, timeout=30))  # same session
    send_forms(clients, jobs, "a harbour at dawn [sim: queue=0.2, run=0.5]")

    states = wait_for_final(cluster, jobs)
    assert states == {"done": jobs}
    submits, results, files = hits_per_request(simulator)
    assert submits == {f"/{MODEL}": jobs}  # each job sent once, whichever worker took it
    request_ids = {request_id for request_id, _ in outputs_per_job(cluster)}
    assert set(results) == request_ids and set(results.values()) == {1}  # each result fetched once
    assert set(files) == request_ids and set(files.values()) == {1}  # each file downloaded once
    assert {count for _, count in outputs_per_job(cluster)} == {1}

    # Without input images the trackers sent every job themselves: no task went through RQ.
    import redis
    from rq import Queue

    queue = Queue("default", connection=redis.Redis.from_url(cluster.env["REDIS_URL"]))
    assert queue.finished_job_registry.get_job_ids() == []

    # Any web process serves any output, straight from the bucket, after its permission check.
    deadline = time.monotonic() + 60  # thumbnails are made just after a job is done (gallery.previews)
    keys = bucket_keys(s3_server, cluster.bucket_prefix)
    while len([k for k in keys if "/thumbs/" in k]) < jobs:
        assert time.monotonic() < deadline, cluster.output()
        time.sleep(0.5)
        keys = bucket_keys(s3_server, cluster.bucket_prefix)
    assert len([key for key in keys if "/assets/" in key]) == jobs and len([k for k in keys if "/thumbs/" in k]) == jobs
    page = clients[1].get("/gallery/")
    thumbnails = re.findall(r'/gallery/assets/[0-9a-f-]+/thumbnail', page.text)
    assert thumbnails
    for client in clients:
        response = client.get(thumbnails[0])
        assert response.status_code == 200 and response.content[8:12] == b"WEBP"
    assert httpx.get(webs[0] + thumbnails[0]).status_code == 302  # not logged in: to the login page

    # Edits of a gallery item go through RQ: the workers read the picture from the bucket and send it.
    [(source_id,)] = cluster.database.query("SELECT id FROM gallery_asset WHERE source = 'output' LIMIT 1")
    edits = 6
    for number in range(edits):
        client = clients[number % len(clients)]
        response = client.post(f"/generate/{EDIT_MODEL}/", data={
            "csrfmiddlewaretoken": client.cookies["csrftoken"], "client_token": f"edit-{number:04d}",
            "prompt": f"the same harbour at night [sim: queue=0.2, run=0.5] {number}",
            "image_url_gallery": str(source_id)})
        assert response.status_code == 302, response.text[:1000]
    assert wait_for_final(cluster, jobs + edits) == {"done": jobs + edits}
    finished = queue.finished_job_registry.get_job_ids()
    assert len(finished) == edits
    workers = {job.worker_name for job in queue.job_class.fetch_many(finished, connection=queue.connection) if job}
    assert len(workers) >= 2, workers  # the RQ workers shared them
    edit_submits = [hit for hit in simulator.log if hit.method == "POST" and hit.path == f"/{EDIT_MODEL}"]
    assert len(edit_submits) == edits


def test_a_tracker_killed_mid_job_hands_its_jobs_on(cluster, simulator):
    jobs = 12
    cluster.env["TRACK_LEASE_SECONDS"] = "3"
    web = cluster.start_web("web")
    for n in (1, 2, 3):
        cluster.start_worker(f"worker-{n}")
    cluster.start_tracker("tracker-doomed")
    send_forms([logged_in(web)], jobs, "a lighthouse [sim: queue=0, run=1.5]")
    # As soon as its first job is saved, the tracker holds the rest: it dies with them.
    deadline = time.monotonic() + 120
    while not cluster.database.query("SELECT 1 FROM studio_generation WHERE state = 'done'"):
        assert time.monotonic() < deadline, cluster.output()
        time.sleep(0.05)
    held = cluster.database.query(
        "SELECT count(*) FROM studio_generation WHERE state NOT IN ('done', 'failed', 'cancelled')")[0][0]
    cluster.kill("tracker-doomed")
    cluster.start_tracker("tracker-heir")

    states = wait_for_final(cluster, jobs)
    assert held > 0
    assert states == {"done": jobs}
    assert {count for _, count in outputs_per_job(cluster)} == {1}  # no job lost, none saved twice
    _, results, _ = hits_per_request(simulator)
    assert len(results) == jobs
