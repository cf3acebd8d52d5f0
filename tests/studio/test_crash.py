"""The crash suite: real processes killed with SIGKILL in the middle of 100 jobs.

The task worker (`db_worker`) and the tracker (`track`) are killed at random moments while
jobs are being sent, tracked, downloaded and thumbnailed, restarted, and killed again; then
everything settles. Counted at the end, each must be 0: jobs stuck, outputs the service
made but Atelier lost, duplicate outputs, jobs sent to the service twice, orphan files
(files in MEDIA_ROOT no Asset row names, temporary files included), rows without files.
The web server is killed too, while a Generate form is being sent.

Run alone with `pytest -m crash -s` (prints the seed; CRASH_SEED=<n> replays a run's choices).
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.studio.conftest import png_bytes
from tests.studio.crash_stack import Browser, Stack, build_template, count

pytestmark = pytest.mark.crash

JOBS = 100
CHAOS_SECONDS = 25.0
# The bound on "stuck": generous, as the machine may be shared; a quiet one settles in ~20 s.
SETTLE_SECONDS = 120.0


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return build_template(tmp_path_factory.mktemp("crash-template"))


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 31))
    print(f"\ncrash suite seed: CRASH_SEED={value}")
    return value


@pytest.fixture
def crash_simulator(make_simulator):
    # Files stay downloadable for the whole run: an expiry must not pass for a crash loss.
    return make_simulator(queue_seconds=0.3, run_seconds=0.5, file_ttl_seconds=900, result_ttl_seconds=900)


def job_form(number: int, rng: random.Random) -> tuple[str, dict[str, str], dict | None]:
    """Small images mostly; big images (slow to thumbnail) and slow videos so kills land mid-file;
    edits of an uploaded photo, which the task worker sends (the tracker sends the others)."""
    tag = f"crash-{number:03d}"
    token = f"{tag}-{rng.randrange(1 << 40):x}"
    kind = number % 10
    if kind == 4:
        return "fal-ai/nano-banana/edit", {
            "client_token": token, "prompt": f"{tag} make it blue [sim: queue=0.2, run=0.4]", "aspect_ratio": "auto",
            "num_images": "1", "output_format": "png", "safety_tolerance": "4",
        }, {"image_urls": ("photo.png", png_bytes(96, 64), "image/png")}
    if kind == 0:
        return "fal-ai/veo3", {
            "client_token": token, "prompt": f"{tag} a slow video [sim: queue=0.2, run=0.4, big_mb=4, slow_download=1.5]",
            "aspect_ratio": "16:9", "duration": "8s", "resolution": "720p", "generate_audio": "on",
            "auto_fix": "on", "safety_tolerance": "4"}, None
    if kind in (1, 2):
        size = {"image_size": "custom", "image_size_width": "1536", "image_size_height": "1536", "num_images": "1"}
        slow = ""
    else:
        size = {"image_size": "square", "num_images": str(rng.randint(1, 3))}
        slow = ", slow_download=0.4" if rng.random() < 0.5 else ""
        if kind == 3:
            slow += ", slow_start=0.5"  # fal's answer to the submit comes late: a kill can land mid-send
    return "fal-ai/flux-1/schnell", {
        "client_token": token, "prompt": f"{tag} a lighthouse [sim: queue=0.2, run=0.4{slow}]",
        "num_inference_steps": "4", "guidance_scale": "3.5", "enable_safety_checker": "on",
        "output_format": "jpeg", "acceleration": "none", **size}, None


def test_killing_worker_and_tracker_at_random_loses_and_doubles_nothing(template, crash_simulator, tmp_path, seed):
    rng = random.Random(seed)
    began = time.monotonic()
    stack = Stack(tmp_path / "site", crash_simulator, template)
    try:
        for name in ("web", "worker", "tracker"):
            stack.start(name)
        browser = Browser(stack)
        forms = [job_form(number, rng) for number in range(JOBS)]
        sent: list[int] = []

        def send_all() -> None:
            pace = random.Random(seed + 1)
            for model_id, fields, files in forms:
                answer = browser.generate(model_id, fields, files=files)
                assert answer.status_code == 302, answer.text[:500]
                sent.append(answer.status_code)
                time.sleep(pace.uniform(0.0, 0.1))

        sender = threading.Thread(target=send_all, name="generate-forms")
        sender.start()
        chaos_until = time.monotonic() + CHAOS_SECONDS
        # The first kills wait for the moments that matter, so every run has them; then at random,
        # half of them again waiting for such a moment.
        moments = {"worker": [("submitting",)],
                   "tracker": [("submitting",), ("downloading",), ("thumbnailing", "placing files")]}
        scripted = [(["tracker"], ("submitting",)), (["worker"], ("submitting",)), (["tracker"], ("downloading",)),
                    (["tracker"], ("thumbnailing", "placing files"))]
        while time.monotonic() < chaos_until or sender.is_alive():
            if scripted:
                victims, moment = scripted.pop(0)
            else:
                victims = rng.choices([["worker"], ["tracker"], ["worker", "tracker"]], weights=[4, 4, 2])[0]
                moment = rng.choice(moments[victims[0]]) if len(victims) == 1 and rng.random() < 0.5 else None
            for victim in victims:
                stack.wait_ready(victim)  # a kill during start-up proves little
            time.sleep(rng.uniform(0.1, 1.0))
            if moment:
                stack.wait_for_moment(victims[0], moment, timeout=10)
            for victim in victims:
                stack.kill(victim)
                stack.start(victim)
        sender.join()
        assert len(sent) == JOBS
        phases = {"chaos": time.monotonic() - began}

        generations = stack.wait_until_final(JOBS, SETTLE_SECONDS)
        phases["settled"] = time.monotonic() - began
        # Scratch folders of killed processes go at the tracker's next sweep.
        deadline = time.monotonic() + 15
        while stack.scratch_files(except_pids=stack.live_pids()) and time.monotonic() < deadline:
            time.sleep(0.5)
        stack.stop_all()
        counts = count(stack, crash_simulator, generations)
        moments = {}
        for kill in stack.kills:
            key = f"{kill.process}:{kill.moment}"
            moments[key] = moments.get(key, 0) + 1
        print(f"crash suite: {counts}")
        print(f"crash suite: {len(stack.kills)} kills {moments}; webhooks {len(crash_simulator.webhooks.calls)}; "
              f"tracebacks in logs {stack.tracebacks()}; {time.monotonic() - began:.1f} s "
              f"(chaos ended {phases['chaos']:.1f} s, all final {phases['settled']:.1f} s)")

        assert counts.jobs == JOBS
        assert (counts.stuck, counts.lost, counts.duplicates, counts.double_submits, counts.orphans,
                counts.missing_files) == (0, 0, 0, 0, 0, 0), str(counts)
        # Only a job the service never received may end unconfirmed; everything else is done.
        assert set(counts.states) <= {"done", "failed/submit_unknown"}, str(counts)
        assert stack.key_leaks() == []
        assert sum(kill.moment in ("downloading", "thumbnailing", "placing files") for kill in stack.kills) > 0
    finally:
        stack.stop_all()


def test_killing_the_web_server_mid_submit_never_makes_a_second_job(template, crash_simulator, tmp_path, seed):
    """Resending a form after the server died under it finds the job it made, if it made one."""
    rng = random.Random(seed)
    stack = Stack(tmp_path / "site", crash_simulator, template)
    rounds = 6
    try:
        for name in ("web", "worker", "tracker"):
            stack.start(name)
        browser = Browser(stack)
        cut_off = 0
        for number in range(rounds):
            model_id, fields, _ = job_form(100 + number * 10 + 3, rng)  # small images
            outcome: list = []

            def send() -> None:
                try:
                    outcome.append(browser.generate(model_id, fields).status_code)
                except httpx.HTTPError as error:
                    outcome.append(type(error).__name__)

            thread = threading.Thread(target=send)
            thread.start()
            time.sleep(rng.uniform(0.0, 0.15))
            stack.kill("web")
            thread.join(timeout=30)
            cut_off += outcome != [302]
            stack.start("web")
            again = browser.generate(model_id, fields)  # the person presses Generate again
            assert again.status_code == 302 and "?job=" in again.headers["location"]
        generations = stack.wait_until_final(rounds, 60)
        stack.stop_all()
        counts = count(stack, crash_simulator, generations)
        print(f"web kills: {rounds}, of which {cut_off} cut a request off; {counts}")
        assert counts.jobs == rounds  # one job per form, however often it was sent
        assert (counts.stuck, counts.lost, counts.duplicates, counts.double_submits, counts.orphans) == (0, 0, 0, 0, 0)
        assert set(counts.states) == {"done"}
        assert stack.key_leaks() == []
    finally:
        stack.stop_all()
