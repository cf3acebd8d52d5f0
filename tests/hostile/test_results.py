"""Hostile results: the model's answer names files Atelier must not fetch or must not keep.

Results are untrusted input. Atelier fetches result files only over http(s), only from
public addresses, and re-checks every redirect; the configured base host (the simulator in
these tests, a proxy in production) is the one trusted exception. A refused file fails the
job in plain words, and nothing is stored: no Asset, no file, no temporary leftover.

How the hostile answer is produced: the job sits in "collecting" and the client's
`result()` (what `studio.jobs.collect` calls first) is patched to return the hostile JSON;
`download()` is the real one. No test here touches a real network: every outbound
connection to an address other than 127.0.0.1 is diverted to a local server that serves a
PNG (and recorded), so a check that wrongly lets a private address through shows up as a
stored picture rather than as a hanging connection.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from fal import FalClient, RetryPolicy
from gallery.models import Asset
from studio import jobs
from studio.models import Generation
from tests.studio.conftest import drive, make_generation, png_bytes

pytestmark = pytest.mark.django_db
State = Generation.State
PNG = png_bytes(96, 64)


# --- A local file host, and a guard on every outbound connection ---------------------------
class FileHost:
    """A tiny HTTP server: any path serves a PNG; /redirect?to=URL answers 302 to URL."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                host.hits.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", parse_qs(parts.query)["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def file_host():
    host = FileHost()
    yield host
    host.stop()


@pytest.fixture
def outbound(monkeypatch, file_host) -> list[tuple[str, int]]:
    """Connections to anything but 127.0.0.1 are recorded and served by `file_host` instead."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        host, port = address[0], address[1]
        if host != "127.0.0.1":
            attempts.append((host, port))
            return real(("127.0.0.1", file_host.port), *args, **kwargs)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


@pytest.fixture
def hostile(fal_service, monkeypatch, member, outbound):
    """hostile(result) → the job after one collect step, its upstream result being `result`."""
    client = jobs.get_client()

    def run(result: dict) -> Generation:
        monkeypatch.setattr(client, "result", lambda handle: result)
        generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a hostile answer"},
                                     state=State.COLLECTING, request_id="req-hostile")
        jobs.collect(generation)
        generation.refresh_from_db()
        return generation

    return run


def stored_files(media_root) -> list[str]:
    """Every file under the media folder (assets, thumbnails and temporary files alike)."""
    if not media_root.exists():
        return []
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


def assert_refused(generation: Generation, media_root, *, words: tuple[str, ...]) -> None:
    assert generation.state == State.FAILED, (generation.state, generation.waiting_reason)
    message = generation.error_message
    assert any(word in message for word in words), message
    assert "Traceback" not in message and "Error(" not in message
    assert not Asset.objects.exists()
    assert stored_files(media_root) == []


PRIVATE_TARGETS = [
    "http://169.254.169.254/latest/meta-data",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/x.png",
    "http://10.0.0.1/x.png",
    "http://192.168.1.20:8080/x.png",
    "http://172.16.0.9/x.png",
    "http://[::1]:9000/x.png",
    "http://[::ffff:10.0.0.1]/x.png",
    "http://0.0.0.0/x.png",
    "http://2130706433/x.png",  # 127.0.0.1 written as one number
    "http://localhost/x.png",
    "http://100.64.0.1/x.png",  # carrier-grade NAT
]


# --- Private addresses and odd schemes ----------------------------------------------------------
@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_result_file_on_a_private_address_is_refused(hostile, media_root, outbound, url):
    generation = hostile({"images": [{"url": url, "content_type": "image/png"}], "seed": 1})
    assert_refused(generation, media_root, words=("private network",))
    assert outbound == [], "Atelier opened a connection to a private address"


def test_another_port_on_the_simulator_host_is_refused(hostile, media_root, file_host):
    generation = hostile({"images": [{"url": f"{file_host.url}/admin/secret.png", "content_type": "image/png"}]})
    assert_refused(generation, media_root, words=("private network",))
    assert file_host.hits == []


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "ftp://files.example.com/x.png",
    "gopher://127.0.0.1:25/x",
    "javascript:alert(1)",
    "//169.254.169.254/latest/meta-data",
])
def test_result_file_with_a_non_web_address_is_never_fetched(hostile, media_root, outbound, url):
    """Not http(s): the client refuses it; extract_media does not even offer it as a file."""
    generation = hostile({"images": [{"url": url, "content_type": "image/png"}], "image": url})
    assert_refused(generation, media_root, words=("no files", "not a web URL"))
    assert outbound == []


def test_a_redirect_from_the_trusted_host_to_a_private_address_is_refused(
        monkeypatch, member, media_root, file_host, outbound):
    """The configured proxy itself answers 302 → http://10.0.0.1/…: the second hop is checked too."""
    client = FalClient(file_host.url, "test-key", retry=RetryPolicy(max_attempts=1), sleep=lambda _: None)
    monkeypatch.setattr(jobs, "get_client", lambda: client)
    monkeypatch.setattr(client, "result", lambda handle: {
        "images": [{"url": f"{file_host.url}/redirect?to=http://10.0.0.1/internal.png", "content_type": "image/png"}]})
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.COLLECTING,
                                 request_id="req-redirect")
    try:
        jobs.collect(generation)
    finally:
        client.close()
    generation.refresh_from_db()
    assert_refused(generation, media_root, words=("private network",))
    assert outbound == []
    assert file_host.hits[0].startswith("/redirect")  # the trusted hop itself was fine


def test_a_redirect_from_a_public_host_to_metadata_is_refused(hostile, media_root, file_host, outbound):
    target = "http://169.254.169.254/latest/meta-data"
    generation = hostile({"images": [{"url": f"http://93.184.215.14/redirect?to={target}",
                                      "content_type": "image/png"}]})
    assert_refused(generation, media_root, words=("private network",))
    assert outbound == [("93.184.215.14", 80)]  # the public hop only



@pytest.mark.parametrize("url", ["http://[::1/x.png", "http://[not-an-ip]/x.png"])
def test_a_malformed_file_address_fails_the_job_in_plain_words(hostile, media_root, outbound, url):
    generation = hostile({"images": [{"url": url, "content_type": "image/png"}]})
    assert_refused(generation, media_root, words=("not a web URL", "not a valid", "address"))
    assert outbound == []

# --- What must keep working ---------------------------------------------------------------------
def test_files_on_the_simulator_host_are_still_fetched(fal_service, member, media_root):
    generation = drive(make_generation(member, "fal-ai/flux-1/schnell", {"prompt": "fine [sim: queue=0, run=0]"}))
    [asset] = generation.assets.all()
    assert generation.state == State.DONE and asset.kind == "image"
    assert all(hit.path.startswith(("/fal-ai", "/files/")) for hit in fal_service.log)


def test_a_file_on_a_public_address_is_fetched(hostile, media_root, outbound):
    generation = hostile({"images": [{"url": "http://93.184.215.14/out.png", "content_type": "image/png"}]})
    assert generation.state == State.DONE, generation.error_message
    [asset] = Asset.objects.all()
    assert (asset.width, asset.height, asset.content_type) == (96, 64, "image/png")
    assert outbound == [("93.184.215.14", 80)]


# --- data: URIs ---------------------------------------------------------------------------------
def test_a_huge_data_uri_is_refused_over_the_download_limit(hostile, media_root, settings):
    settings.ATELIER_MAX_DOWNLOAD_BYTES = 1_000_000
    payload = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 3_000_000).decode()
    generation = hostile({"images": [{"url": f"data:image/png;base64,{payload}"}]})
    assert_refused(generation, media_root, words=("larger than the 1 MB limit",))


def test_an_unreadable_data_uri_fails_in_plain_words(hostile, media_root):
    generation = hostile({"images": [{"url": "data:image/png;base64,@@@not base64@@@"}]})
    assert_refused(generation, media_root, words=("unreadable data URI",))


def test_a_data_uri_that_is_not_the_picture_it_claims_leaves_nothing(hostile, media_root):
    html = base64.b64encode(b"<html><script>alert(1)</script></html>").decode()
    generation = hostile({"images": [{"url": f"data:image/png;base64,{html}", "content_type": "image/png"}]})
    assert_refused(generation, media_root, words=("does not contain the image/png",))


def test_an_html_page_listed_as_an_image_is_not_kept(hostile, media_root):
    html = base64.b64encode(b"<html><script>alert(1)</script></html>").decode()
    generation = hostile({"images": [{"url": f"data:text/html;base64,{html}"}]})
    assert_refused(generation, media_root, words=("not", "picture", "image"))


# --- Names in results ---------------------------------------------------------------------------
def test_file_names_in_results_cannot_carry_paths_or_control_characters(hostile, media_root):
    generation = hostile({"images": [{"url": "http://93.184.215.14/x.png", "content_type": "image/png",
                                      "file_name": "../../etc/cron.d/evil\x00\u202egnp.sh"}]})
    assert generation.state == State.DONE, generation.error_message
    [asset] = Asset.objects.all()
    assert asset.file.name.startswith("assets/") and str(asset.id) in asset.file.name
    assert ".." not in asset.file.name and "evil" not in asset.file.name
    assert "/" not in asset.original_name and "\\" not in asset.original_name
    assert all(character.isprintable() for character in asset.original_name)


# --- Odd values next to the files -------------------------------------------------------------------
# What `response.json()` makes of a proxy's answer: Python's json accepts NaN, Infinity and
# integers of any length. The picture itself is fine; the odd metadata must not break the job.
MALFORMED_METADATA = {
    "nsfw-flags-not-a-list": '{"has_nsfw_concepts": 5}',
    "inference-huge-int": '{"timings": {"inference": 1' + "0" * 400 + '}}',
    "inference-nan": '{"timings": {"inference": NaN}}',
    "inference-infinity": '{"timings": {"inference": Infinity}}',
    "seed-nan": '{"seed": NaN}',
}


@pytest.mark.parametrize("extra", list(MALFORMED_METADATA.values()), ids=list(MALFORMED_METADATA))
def test_odd_metadata_in_a_result_does_not_break_the_job(hostile, media_root, extra):
    result = {"images": [{"url": "http://93.184.215.14/out.png", "content_type": "image/png"}],
              **json.loads(extra)}
    generation = hostile(result)
    assert generation.state == State.DONE, generation.error_message
    [asset] = Asset.objects.all()
    assert asset.nsfw is False
    assert generation.inference_seconds is None or 0 <= generation.inference_seconds < 10**6


@pytest.mark.parametrize("extra", ['{"has_nsfw_concepts": "yes"}', '{"seed": -5}', '{"seed": 1e300}',
                                   '{"timings": "fast"}', '{"deep": ' + "[" * 200 + "]" * 200 + "}",
                                   '{"prompt": "\\u0000<script>alert(1)</script>"}'])
def test_odd_metadata_that_is_ignored(hostile, media_root, member_client, extra):
    result = {"images": [{"url": "http://93.184.215.14/out.png", "content_type": "image/png"}],
              **json.loads(extra)}
    generation = hostile(result)
    assert generation.state == State.DONE, generation.error_message
    assert generation.seed in (None, -5)
    card = member_client.get(reverse("studio:job_card", args=[generation.id]))
    assert card.status_code == 286 and "<script>alert(1)" not in card.content.decode()


def test_markup_in_upstream_errors_and_logs_is_escaped_on_the_card(member_client, member):
    script = "<script>alert(1)</script>"
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.FAILED,
                                 error_type="invalid_input", error_message=script,
                                 field_errors={"<img src=x onerror=alert(2)>": [script]},
                                 logs=[{"message": script, "level": "INFO", "at": ""}])
    response = member_client.get(reverse("studio:job_card", args=[generation.id]))
    page = response.content.decode()
    assert response.status_code == 286
    assert "<script>alert(1)" not in page and "<img src=x onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
