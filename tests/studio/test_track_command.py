"""`manage.py track` runs below the web server's priority, unless told otherwise."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from studio import tracker
from studio.management.commands import track


@pytest.fixture
def niceness_asked(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(track.os, "nice", asked.append)
    monkeypatch.setattr(tracker, "run_forever", lambda **_: None)
    return asked


def test_the_tracker_lowers_its_priority_before_it_starts(niceness_asked):
    call_command("track", stdout=io.StringIO())
    assert niceness_asked == [track.NICENESS] and track.NICENESS > 0


def test_niceness_zero_keeps_the_priority_it_was_started_with(niceness_asked):
    call_command("track", "--niceness", "0", stdout=io.StringIO())
    assert niceness_asked == []
