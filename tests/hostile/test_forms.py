"""Hostile form input: the generate form, albums, the Team page and the gallery's URL filters.

Whatever is typed or forged, the answer is a page (never a 500), the problem is said in plain
words next to the field it concerns, and nothing is stored for rejected input. Text that is
accepted comes back escaped wherever it is shown.
"""

from __future__ import annotations

import base64
import html
import re
import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from gallery.models import Album, Visibility
from studio import catalogue
from studio.models import Generation

pytestmark = pytest.mark.django_db

MiB = 1_000_000
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TEXT_TO_IMAGE = ["fal-ai/flux-1/dev", "fal-ai/flux-1/schnell", "fal-ai/nano-banana", "fal-ai/imagen4/preview"]
WITH_PROMPT = TEXT_TO_IMAGE + ["fal-ai/veo3", "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"]
# Hypothesis: each example is a real request, so keep the counts modest; no example database.
QUICK = hypothesis_settings(max_examples=40, deadline=None, database=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def generate_url(model_id: str) -> str:
    return reverse("studio:generate", args=[model_id])


def token() -> str:
    return f"tok-{uuid.uuid4().hex}"


def errors_of(page: str, field: str) -> list[str]:
    """The messages shown next to one input (templates/_form_field.html: id="id_<name>_error")."""
    match = re.search(rf'id="id_{re.escape(field)}_error">(.*?)</ul>', page, re.S)
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)] if match else []


def alert_of(page: str) -> str:
    """The text of the problem box above a form (templates/_form_errors.html)."""
    match = re.search(r'<div class="form-alert" role="alert">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def assert_no_raw_markup(page: str) -> None:
    assert "<script>alert(1)" not in page
    assert "<img src=x onerror" not in page


# --- Huge and odd text ----------------------------------------------------------------------------
@pytest.mark.parametrize("model_id, field", [(model, "prompt") for model in WITH_PROMPT[:3]]
                         + [("fal-ai/veo3", "prompt"), ("fal-ai/veo3", "negative_prompt")])
def test_a_one_megabyte_prompt_is_refused_with_a_message(member_client, model_id, field):
    data = {"client_token": token(), "prompt": "a lighthouse", field: "lighthouse " * (MiB // 11)}
    response = member_client.post(generate_url(model_id), data)
    assert response.status_code == 200
    assert any("Please shorten this to" in error for error in errors_of(response.content.decode(), field))
    assert not Generation.objects.exists()


def test_a_body_over_djangos_form_limit_is_a_400_not_a_500(member_client):
    """3 MB of text fields is over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): Django answers 400."""
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), {"client_token": token(), "prompt": "x" * 3 * MiB})
    assert response.status_code == 400
    assert not Generation.objects.exists()


def test_the_400_page_says_what_went_wrong(member_client):
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), {"client_token": token(), "prompt": "x" * 3 * MiB})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Bad Request (400)" not in page and "<title>" in page


ODD_TEXT = [
    "an apple \u202eelppa na\u202c on a table",  # right-to-left override
    "zero\u200bwidth\u200cjoiners\u200d and \ufeffBOM",
    "family 👨\u200d👩\u200d👧 under a 🌈, 東京の夜景",
    "Z\u0351\u0345\u0350\u033f\u0300a\u0317\u0326l\u0322\u0318g\u0340o\u0360 text",  # stacked combining marks
    "tabs\tand\nnew lines\r\nand a bell \x07",
    "\U0001f600" * 500,
]


@pytest.mark.parametrize("prompt", ODD_TEXT, ids=["rtl", "zero-width", "emoji-cjk", "zalgo", "controls", "astral"])
def test_odd_unicode_in_a_prompt_is_kept_as_typed_and_shown_escaped(member_client, member, prompt):
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), {"client_token": token(), "prompt": prompt})
    assert response.status_code == 302, errors_of(response.content.decode(), "prompt")
    generation = Generation.objects.get(user=member)
    assert generation.prompt == prompt.strip() == generation.arguments["prompt"]
    card = member_client.get(reverse("studio:job_card", args=[generation.id]))
    assert card.status_code == 200


@pytest.mark.parametrize("model_id", WITH_PROMPT)
def test_a_nul_byte_in_a_prompt_is_refused_next_to_the_prompt(member_client, model_id):
    response = member_client.post(generate_url(model_id), {"client_token": token(), "prompt": "a cat\x00 on a mat"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in errors_of(response.content.decode(), "prompt")
    assert not Generation.objects.exists()


@pytest.mark.parametrize("encoded", ["%ED%A0%80", "%ED%BF%BF%ED%A0%80", "%FF%FE", "%C0%AF", "%F4%90%80%80"],
                         ids=["lone-surrogate", "surrogate-pair-as-cesu", "bom-bytes", "overlong-slash", "above-max"])
def test_bytes_that_are_not_utf8_never_reach_the_database_as_such(member_client, member, encoded):
    """Browsers cannot send a lone surrogate; a forged body can. Django decodes with replacement."""
    body = f"client_token={token()}&prompt=a+lighthouse+{encoded}+at+dusk"
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), body,
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302)
    for generation in Generation.objects.filter(user=member):
        generation.prompt.encode("utf-8")  # no surrogate escapes: storable and JSON-safe anywhere
        assert "\ufffd" in generation.prompt and "lighthouse" in generation.prompt


# --- Markup in prompts ------------------------------------------------------------------------------
def test_markup_in_a_prompt_is_escaped_on_the_job_card(member_client, member):
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), {"client_token": token(), "prompt": SCRIPT})
    assert response.status_code == 302
    generation = Generation.objects.get(user=member)
    assert generation.prompt == SCRIPT  # kept as typed: it is the person's text
    for url in (reverse("studio:job_card", args=[generation.id]), reverse("studio:job_list"),
                generate_url("fal-ai/flux-1/dev"), generate_url("fal-ai/flux-1/dev") + f"?reuse={generation.id}"):
        page = member_client.get(url).content.decode()
        assert_no_raw_markup(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in member_client.get(
        reverse("studio:job_card", args=[generation.id])).content.decode()


def test_markup_in_prompts_is_escaped_in_the_gallery(member_client, member, make_item):
    item = make_item(member, prompt=SCRIPT)
    item.generation.arguments = {**item.generation.arguments, "negative_prompt": SCRIPT}
    item.generation.save(update_fields=["arguments"])
    for url in (reverse("gallery:detail", args=[item.id]), reverse("gallery:index"),
                reverse("gallery:index") + "?q=" + SCRIPT):
        response = member_client.get(url)
        assert response.status_code == 200
        assert_no_raw_markup(response.content.decode())
    detail = member_client.get(reverse("gallery:detail", args=[item.id])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail


# --- Numbers -------------------------------------------------------------------------------------
NUMBERS = [
    ("num_images", "-1", "The lowest allowed value is 1."),
    ("num_images", "0", "The lowest allowed value is 1."),
    ("num_images", str(10**30), "The highest allowed value is 4."),
    ("num_images", "9" * 5000, "Please enter a whole number."),  # past Python's int() digit limit
    ("num_images", "1.5", "Please enter a whole number."),
    ("num_images", "0x10", "Please enter a whole number."),
    ("num_inference_steps", "1e309", "Please enter a whole number."),
    ("num_inference_steps", "NaN", "Please enter a whole number."),
    ("num_inference_steps", "-0", "The lowest allowed value is 1."),
    ("guidance_scale", "NaN", "Please enter a number, such as 3.5."),
    ("guidance_scale", "inf", "Please enter a number, such as 3.5."),
    ("guidance_scale", "-Infinity", "Please enter a number, such as 3.5."),
    ("guidance_scale", "1e309", "Please enter a number, such as 3.5."),
    ("guidance_scale", "-1e-309", "The lowest allowed value is 0."),
    ("guidance_scale", "1e30", "The highest allowed value is 20."),
    ("seed", "-1", "The lowest allowed value is 0."),
    ("seed", str(2**32), "The highest allowed value is 4294967295."),
    ("seed", str(10**30), "The highest allowed value is 4294967295."),
    ("image_size_width", "-1", "The lowest allowed value is 64."),
    ("image_size_height", str(10**30), "The highest allowed value is 4096."),
]


@pytest.mark.parametrize("field, value, message", NUMBERS, ids=[f"{f}={v[:12]}" for f, v, _ in NUMBERS])
def test_out_of_range_and_unreadable_numbers_are_refused_next_to_the_field(member_client, field, value, message):
    data = {"client_token": token(), "prompt": "a lighthouse", "image_size": "custom",
            "image_size_width": "512", "image_size_height": "512", field: value}
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), data)
    assert response.status_code == 200
    assert message in errors_of(response.content.decode(), field)
    assert not Generation.objects.exists()


def test_a_custom_size_without_its_sides_is_explained(member_client):
    response = member_client.post(generate_url("fal-ai/flux-1/dev"),
                                  {"client_token": token(), "prompt": "x", "image_size": "custom"})
    page = response.content.decode()
    assert errors_of(page, "image_size_width") == ["Enter the width in pixels, or choose one of the named sizes."]
    assert errors_of(page, "image_size_height") == ["Enter the height in pixels, or choose one of the named sizes."]
    assert not Generation.objects.exists()


# --- The form's own token -----------------------------------------------------------------------
@pytest.mark.parametrize("sent", [None, "", "short", "<script>alert(1)</script>", "x" * 65, "tok en with spaces"],
                         ids=["missing", "empty", "short", "markup", "too-long", "spaces"])
def test_a_missing_or_forged_client_token_is_explained_and_recoverable(member_client, member, sent):
    data = {"prompt": "a lighthouse"}
    if sent is not None:
        data["client_token"] = sent
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), data)
    page = response.content.decode()
    assert response.status_code == 200 and not Generation.objects.exists()
    assert_no_raw_markup(page)
    assert "This form is out of date" in alert_of(page)
    # Pressing Generate again on the page we were given works.
    fresh = re.search(r'name="client_token" value="([^"]+)"', page)
    assert fresh is not None
    again = member_client.post(generate_url("fal-ai/flux-1/dev"),
                               {"client_token": html.unescape(fresh.group(1)), "prompt": "a lighthouse"})
    assert again.status_code == 302 and Generation.objects.filter(user=member).count() == 1


# --- Forged choices -------------------------------------------------------------------------------
FORGED = [
    ("fal-ai/flux-1/dev", "image_size", "../../etc/passwd"),
    ("fal-ai/flux-1/dev", "image_size", "square_hd\x00"),
    ("fal-ai/flux-1/dev", "output_format", "gif"),
    ("fal-ai/flux-1/dev", "acceleration", "warp"),
    ("fal-ai/flux-lora", "acceleration", "high"),  # a choice of the template this model removed
    ("fal-ai/flux-pro/kontext/text-to-image", "aspect_ratio", "999:1"),
    ("fal-ai/flux-pro/kontext/text-to-image", "safety_tolerance", "7"),
    ("fal-ai/veo3", "duration", "800s"),
    ("fal-ai/veo3", "resolution", "8K"),
    ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", "duration", "5 OR 1=1"),
]


@pytest.mark.parametrize("model_id, field, value", FORGED, ids=[f"{m.split('/')[-1]}-{f}" for m, f, _ in FORGED])
def test_forged_choices_are_refused_next_to_the_field(member_client, model_id, field, value):
    response = member_client.post(generate_url(model_id), {"client_token": token(), "prompt": "x", field: value})
    assert response.status_code == 200
    assert "Please choose one of the options." in errors_of(response.content.decode(), field)
    assert not Generation.objects.exists()


def test_inputs_the_model_does_not_have_are_ignored(member_client, member):
    data = {"client_token": token(), "prompt": "x", "sync_mode": "true", "webhook_url": "http://10.0.0.1/",
            "image_url": "file:///etc/passwd", "__proto__": "polluted", "arguments": '{"a": 1}'}
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), data)
    assert response.status_code == 302
    generation = Generation.objects.get(user=member)
    spec_names = {field.name for field in catalogue.get_model("fal-ai/flux-1/dev").fields}
    assert set(generation.arguments) <= spec_names


@pytest.mark.parametrize("value", ["../../etc/passwd", "asset:not-a-uuid", str(uuid.UUID(int=0)),
                                   ",".join(str(uuid.uuid4()) for _ in range(300))],
                         ids=["path", "bad-asset-ref", "unknown-uuid", "300-unknown"])
def test_forged_gallery_picks_are_explained_next_to_the_picture(member_client, value):
    response = member_client.post(generate_url("fal-ai/flux-pro/kontext"),
                                  {"client_token": token(), "prompt": "x", "image_url_gallery": value})
    assert response.status_code == 200
    assert "That gallery item no longer exists." in errors_of(response.content.decode(), "image_url")
    assert not Generation.objects.exists()


def test_someone_elses_private_picture_cannot_be_picked(member_client, outsider, make_item):
    private = make_item(outsider, prompt="mine only")
    private.visibility = Visibility.PRIVATE
    private.save(update_fields=["visibility"])
    response = member_client.post(generate_url("fal-ai/flux-pro/kontext"),
                                  {"client_token": token(), "prompt": "x", "image_url_gallery": str(private.id)})
    assert response.status_code == 200
    assert not Generation.objects.filter(input_assets=private).exists()
    assert str(private.id) not in response.content.decode()


@pytest.mark.parametrize("text, message", [
    ("javascript:alert(1)", "https://"),
    ("file:/etc/passwd", "https://"),
    ("data:application/octet-stream;base64,AAAA", "https://"),
])
def test_lora_addresses_must_be_web_addresses(member_client, text, message):
    response = member_client.post(generate_url("fal-ai/flux-lora"),
                                  {"client_token": token(), "prompt": "x", "loras": text})
    assert response.status_code == 200
    assert any(message in error for error in errors_of(response.content.decode(), "loras"))
    assert not Generation.objects.exists()


@pytest.mark.parametrize("text, message", [
    ("ftp://x.example/a.safetensors", "must start with https:// or http://"),
    ("https://x.example/a.safetensors nan", "must be between 0 and 4"),
    ("https://x.example/a.safetensors inf", "must be between 0 and 4"),
    ("https://x.example/a.safetensors 1e309", "must be between 0 and 4"),
    ("https://x.example/a.safetensors -0.5", "must be between 0 and 4"),
    ("https://x.example/a.safetensors 0.8 extra", "optionally one space and a strength"),
    ("https://x.example/a.safetensors <b>", "is not a number"),
])
def test_bad_lora_lines_are_explained(member_client, text, message):
    response = member_client.post(generate_url("fal-ai/flux-lora"),
                                  {"client_token": token(), "prompt": "x", "loras": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert any(message in error for error in errors_of(page, "loras")), errors_of(page, "loras")
    assert "“<b>”" not in page  # the forged strength is quoted back escaped
    assert not Generation.objects.exists()


# --- Hypothesis: the generate form ------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@QUICK
@given(prompt=TEXT, num_images=TEXT, guidance=TEXT, image_size=TEXT)
@example(prompt="\x00", num_images="1e309", guidance="NaN", image_size="../../etc")
@example(prompt=SCRIPT, num_images="-1", guidance="inf", image_size="custom")
def test_any_text_in_the_generate_form_gives_a_page_never_a_500(member_client, member, prompt, num_images,
                                                               guidance, image_size):
    before = Generation.objects.count()
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), {
        "client_token": token(), "prompt": prompt, "num_images": num_images, "guidance_scale": guidance,
        "image_size": image_size})
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert Generation.objects.count() == before
        assert_no_raw_markup(response.content.decode())
    else:
        generation = Generation.objects.latest("created_at")
        assert "\x00" not in generation.prompt and generation.prompt.strip() == generation.prompt
        assert 1 <= generation.arguments.get("num_images", 1) <= 4


# --- Albums ---------------------------------------------------------------------------------------
def test_markup_in_album_names_is_escaped_everywhere(member_client, member, make_item):
    make_item(member)
    response = member_client.post(reverse("gallery:album_create"),
                                  {"name": SCRIPT, "description": SCRIPT, "visibility": "team"})
    assert response.status_code == 302
    album = Album.objects.get()
    assert album.name == SCRIPT
    for url in (reverse("gallery:album", args=[album.id]), reverse("gallery:albums"), reverse("gallery:index")):
        page = member_client.get(url).content.decode()
        assert_no_raw_markup(page)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("data, message", [
    ({"name": "x" * 10_000}, "at most 120 characters"),
    ({"name": "a\x00b"}, "Null characters are not allowed."),
    ({"name": "   "}, ""),
    ({"name": "ok", "visibility": "public"}, "is not one of the available choices"),
    ({"name": "ok", "description": "d" * 5000}, "at most 2000 characters"),
    ({"name": "ok", "description": "a\x00"}, "Null characters are not allowed."),
], ids=["long", "nul", "blank", "forged-visibility", "long-description", "nul-description"])
def test_bad_album_input_is_refused_with_a_message(member_client, data, message):
    response = member_client.post(reverse("gallery:album_create"), {"visibility": "team", **data})
    page = response.content.decode()
    assert response.status_code == 200
    shown = " ".join(errors_of(page, "name") + errors_of(page, "visibility") + errors_of(page, "description"))
    assert shown and message in shown
    assert not Album.objects.exists()


@pytest.mark.parametrize("name", ["\u200b", "\u202e\u202c", "\ufeff\u2060"], ids=["zwsp", "bidi", "bom-wj"])
def test_an_album_name_that_shows_as_nothing_is_refused(member_client, name):
    response = member_client.post(reverse("gallery:album_create"), {"name": name, "visibility": "team"})
    assert response.status_code == 200
    assert "Give the album a name." in errors_of(response.content.decode(), "name")
    assert not Album.objects.exists()


def test_a_new_album_named_from_the_gallery_is_validated(member_client, member, make_item):
    item = make_item(member)
    response = member_client.post(reverse("gallery:add_to_album", args=[item.id]), {"new_album": "trip\x00 2026"})
    assert response.status_code == 302
    # (SQLite's LIKE stops at a NUL, so look in Python.)
    assert [album.name for album in Album.objects.all()] == ["trip 2026"]


def test_album_edit_with_bad_input_keeps_the_album_and_says_why(member_client, member):
    album = Album.objects.create(owner=member, name="Holiday")
    response = member_client.post(reverse("gallery:album_edit", args=[album.id]),
                                  {"name": "x" * 500, "visibility": "everyone"}, follow=True)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "at most 120 characters" in page and "not one of the available choices" in page
    album.refresh_from_db()
    assert album.name == "Holiday" and album.visibility == Visibility.TEAM


# --- The Team page -----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, field, message", [
    ({"username": SCRIPT}, "username", "Enter a valid username"),
    ({"username": "ad\u200bmin"}, "username", "Enter a valid username"),
    ({"username": "a\x00b"}, "username", "Null characters are not allowed."),
    ({"username": "ＭＩＮＡ"}, "username", "Someone already has this username."),  # NFKC of an existing name
    ({"username": "zed", "role": "superuser"}, "role", "is not one of the available choices"),
    ({"username": "zed", "email": "<a>@@example"}, "email", "Enter a valid email address."),
    ({"username": "zed", "name": "Zed\x00"}, "name", "Null characters are not allowed."),
], ids=["markup", "zero-width", "nul", "fullwidth-duplicate", "forged-role", "bad-email", "nul-name"])
def test_hostile_team_page_input_is_refused_next_to_the_field(administrator_client, member, django_user_model,
                                                              data, field, message):
    before = django_user_model.objects.count()
    response = administrator_client.post(reverse("accounts:add_person"), {"role": "member", **data})
    page = response.content.decode()
    assert response.status_code == 200
    assert any(message in error for error in errors_of(page, field)), errors_of(page, field)
    assert_no_raw_markup(page)
    assert django_user_model.objects.count() == before


def test_an_over_long_username_is_explained_once(administrator_client, django_user_model):
    response = administrator_client.post(reverse("accounts:add_person"), {"username": "x" * 10_000, "role": "member"})
    assert errors_of(response.content.decode(), "username") == [
        "Ensure this value has at most 150 characters (it has 10000)."]
    assert django_user_model.objects.count() == 1


def test_a_forged_role_change_is_refused_in_words(administrator_client, member):
    response = administrator_client.post(reverse("accounts:change_role", args=[member.username]),
                                         {"role": "god"}, follow=True)
    assert response.status_code == 200
    assert "Choose administrator, member or viewer." in response.content.decode()
    member.profile.refresh_from_db()
    assert member.profile.role == "member"
    assert administrator_client.post(reverse("accounts:change_role", args=["<x>..ada"]),
                                     {"role": "viewer"}).status_code == 404


# --- Gallery filters in the URL -------------------------------------------------------------------
def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE_QUERIES = [
    "kind=<x>&after=%%%&model=" + "m" * 5000,
    "kind=video%00&scope=everyone&favourites=maybe",
    "q=%22*)(NEAR AND OR NOT ^&q=second",
    "q=%00%01%02",
    "q=" + "word " * 2000,
    "album=<x>",
    "album=" + str(uuid.UUID(int=0)),
    "date_from=yesterday&date_to=tomorrow",
    "date_from=2026-01-01T00:00:00",
    "date_from=2026-12-01&date_to=2026-01-01",
    "date_from=9999-12-31",
    "after=" + _cursor("garbage"),
    "after=" + _cursor("2026-01-01T00:00:00+00:00|not-a-uuid"),
    "after=" + _cursor("9999-12-31T23:59:59+00:00|" + str(uuid.UUID(int=0))),
    "after=" + "A" * 10_000,
]


@pytest.mark.parametrize("query", GARBAGE_QUERIES)
def test_garbage_filters_show_the_gallery(member_client, member, make_item, query):
    item = make_item(member)
    for url in (reverse("gallery:index"), reverse("gallery:detail", args=[item.id])):
        response = member_client.get(f"{url}?{query}")
        assert response.status_code == 200
        assert_no_raw_markup(response.content.decode())


def test_a_date_that_is_not_a_date_is_explained(member_client, member, make_item):
    make_item(member)
    page = html.unescape(member_client.get(reverse("gallery:index") + "?date_from=yesterday").content.decode())
    assert "“From” must be a date such as 2026-11-25." in page


@pytest.mark.parametrize("query", ["date_from=0000-00-00", "date_to=2026-02-30", "date_from=2026-13-01",
                                   "date_to=9999-12-31"])
def test_impossible_dates_are_explained_not_a_500(member_client, member, make_item, query):
    item = make_item(member)
    for url in (reverse("gallery:index"), reverse("gallery:detail", args=[item.id])):
        response = member_client.get(f"{url}?{query}")
        assert response.status_code == 200
        if "9999" not in query:
            assert "must be a date such as" in html.unescape(response.content.decode())


def test_the_earliest_date_works_in_any_time_zone(member_client, member, make_item, settings):
    settings.TIME_ZONE = "America/Adak"
    make_item(member)
    assert member_client.get(reverse("gallery:index") + "?date_from=0001-01-01").status_code == 200


@pytest.mark.parametrize("cursor", ["2026-01-01T00:00:00|" + str(uuid.UUID(int=0)),
                                    "0001-01-01T00:00:00+14:00|" + str(uuid.UUID(int=0))], ids=["naive", "overflow"])
def test_a_forged_page_cursor_starts_over(member_client, member, make_item, cursor):
    make_item(member)
    assert member_client.get(reverse("gallery:index") + "?after=" + _cursor(cursor)).status_code == 200


FILTER_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@QUICK
@given(q=FILTER_TEXT, model=FILTER_TEXT, kind=FILTER_TEXT, album=FILTER_TEXT, scope=FILTER_TEXT,
       favourites=FILTER_TEXT)
@example(q='"*) NEAR(a b) OR', model="<x>", kind="<x>", album="%%%", scope="mine", favourites="1")
def test_any_free_text_filter_gives_the_gallery(member_client, member, q, model, kind, album, scope, favourites):
    response = member_client.get(reverse("gallery:index"), {"q": q, "model": model, "kind": kind, "album": album,
                                                            "scope": scope, "favourites": favourites})
    assert response.status_code == 200
    assert_no_raw_markup(response.content.decode())


DATE_LIKE = st.one_of(FILTER_TEXT, st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
                      st.dates().map(lambda day: day.isoformat()))
CURSOR_LIKE = st.one_of(FILTER_TEXT, st.builds(
    lambda moment, suffix: _cursor(moment.isoformat() + suffix),
    st.datetimes(), st.sampled_from(["|" + str(uuid.UUID(int=0)), "+14:00|" + str(uuid.UUID(int=1)), "|x"])))


@QUICK
@given(date_from=DATE_LIKE, date_to=DATE_LIKE, after=CURSOR_LIKE)
@example(date_from="0000-00-00", date_to="", after="")
@example(date_from="", date_to="9999-12-31", after="")
@example(date_from="", date_to="", after=_cursor("2026-01-01T00:00:00|" + str(uuid.UUID(int=0))))
def test_any_date_or_cursor_in_the_url_gives_the_gallery(member_client, member, date_from, date_to, after):
    response = member_client.get(reverse("gallery:index"), {"date_from": date_from, "date_to": date_to,
                                                            "after": after})
    assert response.status_code == 200
