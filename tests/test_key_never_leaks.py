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


@pytest.mark.django_db
def test_no_admin_page_shows_the_key(administrator_client, administrator, settings, monkeypatch):
    """Every admin list, add and change page, with the key in the settings and the environment.

    The key is an environment setting, not a model field: no admin page has a place for it.
    The suite-wide scan fails the test if any page shows it anyway.
    """
    from django.contrib import admin
    from django.urls import reverse

    from audit.models import AuditEvent
    from studio.models import CatalogueEntry

    monkeypatch.setenv("FAL_KEY", SENTINEL_KEY)
    settings.FAL_USES_SIMULATOR = False
    settings.FAL_KEY = SENTINEL_KEY
    CatalogueEntry.objects.create(model_id="fal-ai/flux-1/schnell", hidden=True)
    AuditEvent.objects.create(actor=administrator, actor_name="ada", action=AuditEvent.Action.PERSON_ADDED, target="x")
    visited = 0
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls = [reverse("admin:%s_%s_changelist" % info), reverse("admin:%s_%s_add" % info)]
        first = model._default_manager.first()
        if first is not None:
            urls.append(reverse("admin:%s_%s_change" % info, args=[first.pk]))
        for url in urls:
            response = administrator_client.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            visited += 1
    assert visited >= 9  # users, groups, catalogue, audit log, tasks … all were opened


def test_error_reports_mask_the_key(rf, settings):
    """What DEBUG pages and e-mailed error reports show: settings and request environment
    (runserver copies os.environ into it) with the key masked."""
    import sys

    from django.views.debug import ExceptionReporter

    settings.DEBUG = True
    settings.FAL_KEY = SENTINEL_KEY
    request = rf.get("/jobs/", FAL_KEY=SENTINEL_KEY, HTTP_AUTHORIZATION=f"Key {SENTINEL_KEY}")
    try:
        raise RuntimeError("a view failed")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert "a view failed" in text and "FAL_KEY" in html  # the report is there, its value masked
    assert SENTINEL_KEY not in html and SENTINEL_KEY not in text


def test_error_reports_hide_passwords_in_connection_urls(settings):
    """A DEBUG page or an error mail lists the settings: URLs with passwords show as stars."""
    from django.views.debug import get_default_exception_reporter_filter

    settings.DATABASE_URL = "postgres://atelier:db-password-123@db.internal:5432/atelier"
    settings.REDIS_URL = "redis://:redis-password-456@cache.internal:6379/0"
    settings.RQ_QUEUES = {"default": {"URL": settings.REDIS_URL}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://:redis-password-456@cache.internal:6379/1"}}
    shown = repr(get_default_exception_reporter_filter().get_safe_settings())
    assert "db-password-123" not in shown
    assert "redis-password-456" not in shown
    assert "FAL_KEY" in shown and "********" in shown
