"""The suite-wide key scan (tests/conftest.py) really catches a leak."""

import pytest

from tests.conftest import SENTINEL_KEY


@pytest.mark.django_db
def test_a_page_showing_the_key_would_fail_the_suite(member_client, settings):
    settings.FAL_USES_SIMULATOR = False
    settings.FAL_BASE_URL = f"https://{SENTINEL_KEY}.example"  # a page that prints the host now prints the key
    with pytest.raises(AssertionError, match="the fal key appeared"):
        member_client.get("/")


@pytest.mark.django_db
def test_the_configured_key_is_not_on_any_page(member_client, administrator_client, settings):
    settings.FAL_USES_SIMULATOR = False
    settings.FAL_KEY = SENTINEL_KEY
    for client in (member_client, administrator_client):
        for path in ("/", "/gallery/", "/gallery/albums/", "/jobs/", "/team/me/"):
            assert client.get(path).status_code == 200
    assert administrator_client.get("/team/").status_code == 200
    assert administrator_client.get("/admin/").status_code == 200
