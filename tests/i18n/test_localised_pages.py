"""Pages in Vietnamese: catalogue words, job cards, stored errors, dates, numbers and relative times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from studio.models import Generation
from studio.templatetags.studio_tags import seconds_text

pytestmark = pytest.mark.django_db

VI = {"HTTP_ACCEPT_LANGUAGE": "vi"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_model_picker_shows_catalogue_words_in_vietnamese(member_client):
    page = member_client.get(reverse("studio:home"), **VI).content.decode()
    assert "Văn bản thành ảnh" in page  # the kind "Text to image"
    assert "Ảnh chất lượng cao từ mô tả bằng chữ; lựa chọn toàn diện." in page  # FLUX.1 [dev]'s description
    assert "FLUX.1 [dev]" in page  # product names stay as they are
    # The filter finds a model by its Vietnamese words and by its English ones.
    assert 'data-search="flux.1 [dev] ảnh chất lượng cao' in page
    assert "high-quality pictures from a text description" in page


def test_the_generate_form_shows_labels_help_and_choices_in_vietnamese(member_client):
    page = member_client.get(reverse("studio:generate", args=["fal-ai/flux-1/dev"]), **VI).content.decode()
    assert "Mô tả điều bạn muốn thấy: chủ thể, bối cảnh, phong cách và ánh sáng." in page  # help
    assert ">Kích thước</label>" in page  # field label
    assert ">Ngang 4:3</option>" in page  # choice label from [choice_labels]
    assert ">Kích thước tuỳ chỉnh</option>" in page
    assert "Thiết lập nâng cao" in page
    english = member_client.get(reverse("studio:generate", args=["fal-ai/flux-1/dev"]), **EN).content.decode()
    assert ">Landscape 4:3</option>" in english


def test_form_errors_are_in_vietnamese(member_client):
    response = member_client.post(reverse("studio:generate", args=["fal-ai/flux-1/dev"]),
                                  {"client_token": "token-token-1", "prompt": "", "image_size": "landscape_4_3",
                                   "num_images": "9"}, **VI)
    page = response.content.decode()
    assert "Vui lòng viết prompt: mô tả điều bạn muốn thấy." in page
    assert "Giá trị cao nhất được phép là 4." in page


def _failed_job(user, **fields) -> Generation:
    return Generation.objects.create(
        user=user, model_id="fal-ai/flux-1/dev", model_title="FLUX.1 [dev]", kind="text-to-image",
        arguments={"prompt": "a lighthouse"}, prompt="a lighthouse", client_token="failed-1",
        state=Generation.State.FAILED, finished_at=datetime.now(dt_timezone.utc), **fields)


def test_a_failed_job_card_gives_advice_and_the_stored_error_in_vietnamese(member_client, member):
    job = _failed_job(member, error_type="payment", error_message="The account is out of credit.")
    page = member_client.get(reverse("studio:job_card", args=[job.id]), **VI).content.decode()
    assert "Tài khoản fal đã hết tín dụng. Hãy nhờ quản trị viên nạp thêm rồi thử lại." in page  # advice
    assert "Tài khoản đã hết tín dụng." in page  # the message the worker stored in English
    assert ">Thất bại<" in page  # the state
    assert ">Thử lại</button>" in page
    english = member_client.get(reverse("studio:job_card", args=[job.id]), **EN).content.decode()
    assert "The account is out of credit." in english


def test_an_error_worded_by_the_service_is_shown_as_it_came(member_client, member):
    job = _failed_job(member, error_type="upstream", error_message="CUDA out of memory on worker 7")
    page = member_client.get(reverse("studio:job_card", args=[job.id]), **VI).content.decode()
    assert "CUDA out of memory on worker 7" in page
    assert "Dịch vụ không hoàn tất được lượt tạo này." in page


def test_a_queued_job_says_how_many_are_ahead_in_vietnamese(member_client, member):
    job = _failed_job(member, error_type="")
    Generation.objects.filter(id=job.id).update(state=Generation.State.QUEUED, queue_position=3, finished_at=None,
                                                waiting_reason="Waiting for the service to answer. Atelier keeps trying.")
    page = member_client.get(reverse("studio:job_card", args=[job.id]), **VI).content.decode()
    assert "Còn 3 lượt tạo phía trước trong hàng chờ." in page
    assert "Đang chờ dịch vụ phản hồi. Atelier vẫn đang thử lại." in page


def test_durations_use_the_readers_words_and_decimal_separator():
    with translation.override("vi"):
        assert seconds_text(4.25) == "4,2 giây" or seconds_text(4.25) == "4,3 giây"
        assert seconds_text(185) == "3 phút 05 giây"
        assert seconds_text(3 * 3600 + 60) == "3 giờ 01 phút"
    with translation.override("en"):
        assert seconds_text(4.25) in ("4.2 s", "4.3 s")
        assert seconds_text(185) == "3 min 05 s"


def test_dates_and_relative_times_are_localised(member_client, member, make_item):
    asset = make_item(member, minutes_ago=3)
    gallery = member_client.get(reverse("gallery:index"), **VI).content.decode()
    assert "3\xa0phút trước" in gallery
    assert "3\xa0minutes ago" in member_client.get(reverse("gallery:index"), **EN).content.decode()

    when = asset.created_at.astimezone(dt_timezone.utc)
    detail = member_client.get(reverse("gallery:detail", args=[asset.id]), **VI).content.decode()
    assert when.strftime("%d/%m/%Y %H:%M") in detail
    english = member_client.get(reverse("gallery:detail", args=[asset.id]), **EN).content.decode()
    assert f"{when.day} {when.strftime('%b %Y, %H:%M')}" in english


def test_numbers_and_file_sizes_are_localised():
    template = Template("{{ size|filesizeformat }} · {{ ratio }}")
    with translation.override("vi"):
        assert template.render(Context({"size": 1_500_000, "ratio": 3.5})) == "1,4\xa0MB · 3,5"
    with translation.override("en"):
        assert template.render(Context({"size": 1_500_000, "ratio": 3.5})) == "1.4\xa0MB · 3.5"


def test_an_outsider_opening_a_share_link_sees_their_own_language(member_client, member, make_item, client):
    asset = make_item(member)
    member_client.post(reverse("gallery:share_asset", args=[asset.id]), {"allow_download": "on"})
    token = asset.share_links.get().token
    page = client.get(reverse("gallery:shared", args=[token]), **VI).content.decode()
    assert '<html lang="vi">' in page
    assert ">Tải xuống</a>" in page


def test_the_error_pages_are_translated(member_client):
    page = member_client.get("/no/such/page/", **VI).content.decode()
    assert '<html lang="vi">' in page
    assert "Không tìm thấy trang này" in page
