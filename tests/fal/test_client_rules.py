"""Client rules that need answers no honest server gives on demand (in-process transport)."""

import logging

import httpx
import pytest

from fal import FalClient, RetryPolicy
from fal import errors
from fal.client import parse_retry_after

KEY = "sk-live-abcdef123456"


def make_client(handler, **kwargs):
    sleeps: list[float] = []
    client = FalClient("https://proxy.example/fal", KEY, auth_scheme="bearer",
                       transport=httpx.MockTransport(handler), sleep=sleeps.append,
                       resolve=kwargs.pop("resolve", lambda host: {"93.184.216.34"}),
                       retry=kwargs.pop("retry", RetryPolicy(max_attempts=3, base_delay=0.1, jitter=0)), **kwargs)
    return client, sleeps


def test_foreign_host_in_submit_answer_is_never_followed():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "r1", "status_url": "https://evil.example/steal",
                                             "response_url": "https://queue.fal.run/fal-ai/flux-1/requests/r1"})
        return httpx.Response(200, json={"status": "COMPLETED"})

    client, _ = make_client(handler)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert handle.status_url == "https://proxy.example/fal/fal-ai/flux-1/requests/r1/status"
    assert handle.response_url == "https://proxy.example/fal/fal-ai/flux-1/requests/r1"
    client.status(handle)
    assert all(url.startswith("https://proxy.example/fal/") for url in seen)


def test_key_never_in_repr_errors_or_logs(caplog):
    def handler(request):
        return httpx.Response(401, json={"detail": f"Invalid key {KEY}"})

    client, _ = make_client(handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(errors.AuthenticationError) as caught:
        client.submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert "[redacted]" in str(caught.value)
    assert KEY not in repr(client)
    assert KEY not in caplog.text


def test_submit_that_timed_out_after_sending_is_not_resent():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    client, sleeps = make_client(handler)
    with pytest.raises(errors.SubmitOutcomeUnknown) as caught:
        client.submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert len(calls) == 1 and sleeps == []
    assert caught.value.retryable is False


def test_submit_that_could_not_connect_is_retried():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"request_id": "r9"})

    client, sleeps = make_client(handler)
    assert client.submit("fal-ai/flux-1/dev", {"prompt": "x"}).request_id == "r9"
    assert sleeps == [0.1, 0.2]  # exponential backoff (jitter off here)


def test_user_start_timeout_504_is_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(504, json={"detail": "Request timed out", "error_type": "request_timeout"},
                              headers={"X-Fal-Request-Timeout-Type": "user"})

    client, _ = make_client(handler)
    with pytest.raises(errors.UpstreamError) as caught:
        client.status(client.handle_for("fal-ai/flux-1/dev", "r1"))
    assert len(calls) == 1 and caught.value.retryable is False and caught.value.error_type == "request_timeout"


def test_model_error_from_result_is_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, json={"detail": "CUDA out of memory"}, headers={"x-fal-request-id": "r1"})

    client, _ = make_client(handler)
    with pytest.raises(errors.UpstreamError):
        client.result(client.handle_for("fal-ai/flux-1/dev", "r1"))
    assert len(calls) == 1


def test_retry_after_longer_than_the_cap_is_raised_to_the_caller():
    def handler(request):
        return httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "600"})

    client, sleeps = make_client(handler, max_retry_after=60)
    with pytest.raises(errors.RateLimitError) as caught:
        client.status(client.handle_for("fal-ai/flux-1/dev", "r1"))
    assert caught.value.retry_after == 600 and sleeps == []


def test_retry_after_as_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None


def test_non_json_answer_is_a_protocol_error():
    client, _ = make_client(lambda request: httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(errors.ProtocolError):
        client.status(client.handle_for("fal-ai/flux-1/dev", "r1"))


def test_unknown_status_word_is_a_protocol_error():
    client, _ = make_client(lambda request: httpx.Response(200, json={"status": "EXPLODED"}))
    with pytest.raises(errors.ProtocolError, match="EXPLODED"):
        client.status(client.handle_for("fal-ai/flux-1/dev", "r1"))


def test_file_downloads_carry_no_credentials():
    seen = []

    def handler(request):
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, content=b"bytes", headers={"content-type": "image/png"})

    client, _ = make_client(handler)
    with client.download("https://v3.fal.media/files/x.png") as download:
        assert b"".join(download.iter_bytes()) == b"bytes"
        assert download.content_type == "image/png"
    assert seen == [None]


def test_data_uri_result_file_is_decoded():
    client, _ = make_client(lambda request: httpx.Response(500))
    with client.download("data:image/png;base64,aGVsbG8=") as download:
        assert download.content_type == "image/png"
        assert b"".join(download.iter_bytes()) == b"hello"


def test_validation_detail_as_string_becomes_a_request_level_message():
    client, _ = make_client(lambda request: httpx.Response(422, json={"detail": "Image too large"}))
    with pytest.raises(errors.ValidationError) as caught:
        client.submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert caught.value.messages_by_field() == {"": ["Image too large"]}



@pytest.mark.parametrize("url", [
    "http://10.0.0.5/out.png", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/x.png",
    "file:///etc/passwd", "ftp://cdn.example/x.png", "gopher://x",
])
def test_result_files_on_private_addresses_or_odd_schemes_are_refused(url):
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, content=b"secret")

    client, _ = make_client(handler, resolve=lambda host: {host.strip("[]")} if host[0].isdigit() or ":" in host
                            else {"93.184.216.34"})
    with pytest.raises(errors.UnsafeURLError):
        with client.download(url):
            pass
    assert seen == []


def test_a_name_resolving_to_a_private_address_is_refused():
    client, _ = make_client(lambda request: httpx.Response(200), resolve=lambda host: {"192.168.1.10"})
    with pytest.raises(errors.UnsafeURLError):
        with client.download("https://innocent.example/x.png"):
            pass


def test_a_redirect_to_a_private_address_is_refused():
    def handler(request):
        if request.url.host == "cdn.example":
            return httpx.Response(302, headers={"location": "http://10.1.2.3/internal"})
        return httpx.Response(200, content=b"internal")

    resolve = lambda host: {"10.1.2.3"} if host == "10.1.2.3" else {"93.184.216.34"}  # noqa: E731
    client, _ = make_client(handler, resolve=resolve)
    with pytest.raises(errors.UnsafeURLError):
        with client.download("https://cdn.example/x.png"):
            pass


def test_the_configured_base_host_is_trusted_even_on_a_private_address():
    client, _ = make_client(lambda request: httpx.Response(200, content=b"ok"), resolve=lambda host: {"10.0.0.1"})
    with client.download("https://proxy.example/files/x.png") as download:
        assert b"".join(download.iter_bytes()) == b"ok"
