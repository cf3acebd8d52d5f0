"""The studio pages: picker, per-model form, job cards, cancel/retry/reuse."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from studio import catalogue, jobs, upstream
from studio.models import Generation
from tests.studio.conftest import drive, make_generation, png_bytes

pytestmark = pytest.mark.django_db
State = Generation.State


def generate_url(model_id: str) -> str:
    return reverse("studio:generate", args=[model_id])


def form_data(**fields) -> dict:
    return {"client_token": "token-12345678", **fields}


def test_picker_groups_models_and_puts_the_last_used_first(member_client, member):
    make_generation(member, "fal-ai/veo3", {"prompt": "waves"})
    page = member_client.get(reverse("studio:home")).content.decode()
    assert "Text to video" in page and "Image editing" in page
    recent = page.index("Recently used")
    assert recent < page.index(generate_url("fal-ai/veo3")) < page.index("Text to image")


@pytest.mark.parametrize("spec", catalogue.builtin_catalogue().models, ids=lambda spec: spec.id)
def test_every_model_has_a_working_form(member_client, spec):
    response = member_client.get(generate_url(spec.id))
    assert response.status_code == 200
    assert spec.title in response.content.decode()


def test_unknown_or_hidden_model_is_404(member_client):
    assert member_client.get(generate_url("fal-ai/no-such-model")).status_code == 404


def test_generate_queues_one_job_even_when_sent_twice(member_client, member, django_capture_on_commit_callbacks):
    data = form_data(prompt="a lighthouse", image_size="landscape_4_3", num_images="2")
    with django_capture_on_commit_callbacks(execute=True):
        first = member_client.post(generate_url("fal-ai/flux-1/dev"), data)
        second = member_client.post(generate_url("fal-ai/flux-1/dev"), data)
    [generation] = Generation.objects.filter(user=member)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"{generate_url('fal-ai/flux-1/dev')}?job={generation.id}"
    assert generation.state == State.SUBMITTING
    assert generation.arguments == {"prompt": "a lighthouse", "image_size": "landscape_4_3", "num_images": 2,
                                    **{k: v for k, v in generation.arguments.items()
                                       if k not in ("prompt", "image_size", "num_images")}}
    # Without input images the tracker sends it (studio.sending): no task, and one job to send.
    assert not DBTaskResult.objects.exists()
    assert jobs.sendable_by_tracker(10) == [str(generation.id)]


def test_htmx_generate_returns_a_fresh_form_and_the_new_card(member_client, member):
    response = member_client.post(generate_url("fal-ai/flux-1/schnell"), form_data(prompt="quick"),
                                  headers={"HX-Request": "true"})
    page = response.content.decode()
    generation = Generation.objects.get(user=member)
    assert response.status_code == 200
    assert f'id="job-{generation.id}"' in page and 'hx-swap-oob="afterbegin:#job-list"' in page
    assert 'name="client_token"' in page and "token-12345678" not in page  # a new form, a new token


def test_htmx_generate_adds_only_the_new_card_and_a_form_sent_again_gets_the_whole_list(member_client, member):
    earlier = make_generation(member, "fal-ai/flux-1/schnell", {"prompt": "earlier"}, state=Generation.State.DONE)
    first = member_client.post(generate_url("fal-ai/flux-1/schnell"), form_data(prompt="quick"),
                               headers={"HX-Request": "true"}).content.decode()
    assert f'id="job-{earlier.id}"' not in first  # the cards on screen are left as they are
    again = member_client.post(generate_url("fal-ai/flux-1/schnell"), form_data(prompt="quick"),
                               headers={"HX-Request": "true"}).content.decode()
    generation = Generation.objects.get(user=member, prompt="quick")  # one job for the form sent twice
    assert 'hx-swap-oob="outerHTML:#job-list"' in again
    assert f'id="job-{generation.id}"' in again and f'id="job-{earlier.id}"' in again


def test_missing_prompt_is_marked_next_to_the_field(member_client, member):
    response = member_client.post(generate_url("fal-ai/flux-1/dev"), form_data(prompt=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please write a prompt" in page and "field--invalid" in page
    assert not Generation.objects.exists()


def test_job_card_reads_the_database_only(member_client, member, monkeypatch):
    def no_upstream():
        raise AssertionError("the job card must not talk to fal")

    monkeypatch.setattr(upstream, "get_client", no_upstream)
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.QUEUED,
                                 request_id="r1", queue_position=3)
    response = member_client.get(reverse("studio:job_card", args=[generation.id]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "3 jobs ahead in the queue" in page and 'hx-trigger="every 1s"' in page


def test_a_polled_job_card_costs_three_queries(member_client, member, django_assert_num_queries):
    """Session, person, job: every open card asks once a second (bench/load_job_cards.py)."""
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.RUNNING,
                                 request_id="r1", logs=[{"message": "step 3 of 28"}])
    with django_assert_num_queries(3):
        response = member_client.get(reverse("studio:job_card", args=[generation.id]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "step 3 of 28" in response.content.decode()


def test_a_collecting_job_card_shows_the_outputs_saved_so_far(member_client, member, media_root):
    from gallery.assets import store_asset
    from gallery.ingest import receive, verify
    from gallery.models import Asset

    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.COLLECTING, request_id="r1")
    path, size, checksum = receive([png_bytes()])
    asset = store_asset(verify(path, size, checksum), owner=member, source=Asset.Source.OUTPUT, generation=generation)
    page = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    # The saved output shows as a thumbnail linking to its gallery item, before the job is done.
    assert reverse("gallery:asset_thumbnail", args=[asset.id]) in page
    assert reverse("gallery:detail", args=[asset.id]) in page


def test_final_job_card_stops_polling(member_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.FAILED,
                                 error_type="payment", error_message="User is locked.")
    response = member_client.get(reverse("studio:job_card", args=[generation.id]))
    page = response.content.decode()
    assert response.status_code == 286
    assert "hx-trigger" not in page and "hx-get" not in page
    assert "out of credit" in page and "Retry" in page


def test_someone_elses_job_is_not_found(outsider_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "mine"})
    assert outsider_client.get(reverse("studio:job_card", args=[generation.id])).status_code == 404
    assert outsider_client.post(reverse("studio:cancel_job", args=[generation.id])).status_code == 404
    assert outsider_client.get(reverse("studio:job_card", args=["not-a-uuid"])).status_code == 404


def test_cancel_from_the_card(member_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"})
    response = member_client.post(reverse("studio:cancel_job", args=[generation.id]), headers={"HX-Request": "true"})
    generation.refresh_from_db()
    assert generation.state == State.CANCELLED
    assert "Cancelled" in response.content.decode()


def test_retry_makes_a_new_job_with_the_same_settings(member_client, member, uploaded_image):
    failed = make_generation(member, "fal-ai/nano-banana/edit",
                             {"prompt": "x", "image_urls": [f"asset:{uploaded_image.id}"]}, state=State.FAILED)
    failed.input_assets.add(uploaded_image)
    member_client.post(reverse("studio:retry_job", args=[failed.id]), headers={"HX-Request": "true"})
    retry = Generation.objects.exclude(id=failed.id).get()
    assert retry.arguments == failed.arguments and retry.state == State.SUBMITTING
    assert list(retry.input_assets.all()) == [uploaded_image]


def test_reuse_settings_fills_the_form_with_the_seed_used(member_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a red fox", "num_images": 3},
                                 state=State.DONE, seed=987654)
    page = member_client.get(generate_url("fal-ai/flux-1/dev") + f"?reuse={generation.id}").content.decode()
    assert "a red fox" in page and 'value="987654"' in page and 'value="3"' in page
    again = member_client.get(generate_url("fal-ai/flux-1/dev") + f"?again={generation.id}").content.decode()
    assert "a red fox" in again and 'value="987654"' not in again


def test_reusing_a_rejected_job_marks_the_field(member_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.FAILED,
                                 error_type="invalid_input", field_errors={"prompt": ["Prompt is too spicy."]})
    page = member_client.get(generate_url("fal-ai/flux-1/dev") + f"?reuse={generation.id}").content.decode()
    assert "Prompt is too spicy." in page and "field--invalid" in page


def test_edit_model_with_an_uploaded_image_end_to_end(fal_service, member_client, member,
                                                     django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("photo.png", png_bytes(400, 300), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(generate_url("fal-ai/nano-banana/edit"),
                           form_data(prompt="make it blue [sim: queue=0, run=0]", aspect_ratio="auto", image_urls=upload))
    generation = Generation.objects.get(user=member)
    [source] = generation.input_assets.all()
    assert source.source == "upload" and (source.width, source.height) == (400, 300)
    assert generation.arguments["image_urls"] == [f"asset:{source.id}"]
    # Reading and encoding the image is a task worker's job, not the tracker's.
    assert DBTaskResult.objects.filter(task_path="studio.tasks.submit_generation").count() == 1
    assert jobs.sendable_by_tracker(10) == []
    generation = drive(generation)
    [output] = generation.assets.all()
    assert generation.state == State.DONE and (output.width, output.height) == (400, 300)


def test_edit_model_with_a_gallery_item_end_to_end(fal_service, member_client, member, uploaded_image):
    member_client.post(generate_url("fal-ai/flux-pro/kontext"),
                       form_data(prompt="night time [sim: queue=0, run=0]", image_url_gallery=str(uploaded_image.id)))
    generation = Generation.objects.get(user=member)
    assert generation.arguments["image_url"] == f"asset:{uploaded_image.id}"
    generation = drive(generation)
    [output] = generation.assets.all()
    assert generation.state == State.DONE and (output.width, output.height) == (320, 200)


def test_outputs_are_served_to_logged_in_people_only(fal_service, member_client, client, member):
    generation = drive(make_generation(member, "fal-ai/flux-1/schnell", {"prompt": "x [sim: queue=0, run=0]"}))
    [asset] = generation.assets.all()
    file_url = reverse("gallery:asset_file", args=[asset.id])
    response = member_client.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert member_client.get(reverse("gallery:asset_thumbnail", args=[asset.id]))["Content-Type"] == "image/webp"
    assert client.get(file_url).status_code == 302  # to the login page
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    # The card's output opens the item's page (keyboard navigation, reuse, albums), not the bare file.
    assert reverse("gallery:detail", args=[asset.id]) in card
