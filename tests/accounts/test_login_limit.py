"""Login attempts are limited per account and per address, and recover after the wait."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts import throttle

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many attempts."


def attempt(username: str, password: str, address: str = "203.0.113.7", path: str = "/login/") -> str:
    response = Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})
    if response.status_code == 302:
        return "in"
    content = response.content.decode()
    if TOO_MANY in content:
        return "refused"
    assert "Please enter a correct username and password" in content
    return "wrong"


def fail(times: int, username: str, **kwargs) -> None:
    for _ in range(times):
        assert attempt(username, "not-the-password", **kwargs) == "wrong"


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(clock, member, password):
    fail(throttle.ACCOUNT_LIMIT.attempts, member.username)
    response = Client(REMOTE_ADDR="203.0.113.7").post("/login/", {"username": member.username, "password": password})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Too many attempts. Try again in 15 minutes." in content
    assert SESSION_KEY not in response.wsgi_request.session
    # Another address does not help: the limit is on the account.
    assert attempt(member.username, password, address="198.51.100.20") == "refused"


def test_the_wait_counts_down_and_then_the_account_recovers(clock, member, password):
    fail(5, member.username)
    clock.now += 3 * 60 + 10
    response = Client(REMOTE_ADDR="203.0.113.7").post("/login/", {"username": member.username, "password": password})
    assert "Try again in 12 minutes." in response.content.decode()
    clock.now += 12 * 60
    assert attempt(member.username, password) == "in"


def test_the_limit_ignores_the_case_of_the_username(clock, member):
    fail(5, member.username)
    assert attempt(member.username.upper(), "not-the-password") == "refused"


def test_an_unknown_account_is_refused_with_the_same_words(clock, member):
    fail(5, "nobody-here")
    fail(5, member.username)
    assert attempt("nobody-here", "whatever") == "refused"
    assert attempt(member.username, "whatever") == "refused"


def test_a_successful_login_clears_the_accounts_failures(clock, member, password):
    fail(4, member.username)
    assert attempt(member.username, password) == "in"
    fail(4, member.username)
    assert attempt(member.username, password) == "in"


def test_one_address_is_limited_across_accounts(clock, member, password):
    for index in range(throttle.ADDRESS_LIMIT.attempts):
        assert attempt(f"guess-{index}", "not-the-password") == "wrong"
    assert attempt(member.username, password) == "refused"
    assert attempt(member.username, password, address="198.51.100.20") == "in"  # elsewhere, fine
    clock.now += throttle.ADDRESS_LIMIT.window_seconds
    assert attempt(member.username, password) == "in"


def test_logins_that_work_do_not_use_up_the_address(clock, member, administrator, password):
    for _ in range(throttle.ADDRESS_LIMIT.attempts + 5):
        assert attempt(member.username, password) == "in"
    assert attempt(administrator.username, password) == "in"


def test_ipv6_neighbours_in_one_block_share_a_limit(clock, member, password):
    for index in range(throttle.ADDRESS_LIMIT.attempts):
        assert attempt(f"guess-{index}", "nope", address=f"2001:db8:1:2::{index + 1:x}") == "wrong"
    assert attempt(member.username, password, address="2001:db8:1:2:ffff::1") == "refused"
    assert attempt(member.username, password, address="2001:db8:1:3::1") == "in"


def test_forwarded_for_headers_are_not_trusted(clock, member, password):
    for index in range(throttle.ADDRESS_LIMIT.attempts):
        client = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}")
        client.post("/login/", {"username": f"guess-{index}", "password": "nope"})
    assert attempt(member.username, password) == "refused"


def test_the_admin_login_page_counts_too(clock, administrator, password):
    fail(5, administrator.username)
    response = Client(REMOTE_ADDR="203.0.113.7").post(
        "/admin/login/", {"username": administrator.username, "password": password})
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()


@pytest.mark.parametrize(("seconds", "words"), [(1, "1 minute"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")])
def test_the_wait_is_said_in_whole_minutes(seconds, words):
    assert throttle.refusal_message(seconds) == f"Too many attempts. Try again in {words}."
