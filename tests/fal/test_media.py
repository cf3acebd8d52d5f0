from fal.media import extract_media


def test_images_list_keeps_order_and_dimensions():
    result = {
        "images": [
            {"url": "https://v3.fal.media/a.jpg", "width": 1024, "height": 768, "content_type": "image/jpeg"},
            {"url": "https://v3.fal.media/b.jpg", "width": 1024, "height": 768, "content_type": "image/jpeg"},
        ],
        "seed": 42,
        "prompt": "https://not-a-file.example/ is in the prompt",
    }
    media = extract_media(result)
    assert [m.url for m in media] == ["https://v3.fal.media/a.jpg", "https://v3.fal.media/b.jpg"]
    assert [m.path for m in media] == ["images[0]", "images[1]"]
    assert all(m.kind == "image" and (m.width, m.height) == (1024, 768) for m in media)


def test_single_image_object():
    media = extract_media({"image": {"url": "https://cdn.example/x.png", "file_name": "x.png"}})
    assert len(media) == 1
    assert media[0].kind == "image" and media[0].file_name == "x.png" and media[0].path == "image"


def test_video_with_file_size_and_no_content_type_is_found_by_key():
    media = extract_media({"video": {"url": "https://cdn.example/clip", "file_size": 123456, "file_name": "clip.mp4"}})
    assert media[0].kind == "video"
    assert media[0].file_size == 123456


def test_audio_and_nested_objects_and_bare_urls():
    result = {
        "output": {"clips": [{"audio": {"url": "https://cdn.example/a.wav", "content_type": "audio/wav"}}]},
        "video": "https://cdn.example/v.mp4",
        "extras": {"mask": {"url": "https://cdn.example/m.png"}},
    }
    media = {m.path: m for m in extract_media(result)}
    assert media["output.clips[0].audio"].kind == "audio"
    assert media["video"].kind == "video"
    assert media["extras.mask"].kind == "image"


def test_data_uri_kind_and_duplicates_once():
    uri = "data:image/webp;base64,UklGRg=="
    media = extract_media({"images": [{"url": uri}, {"url": uri}]})
    assert len(media) == 1 and media[0].kind == "image"


def test_hostile_values_become_none():
    media = extract_media({"images": [{"url": "https://cdn.example/a.jpg", "width": "huge", "height": True,
                                       "file_size": -5, "content_type": 7}]})
    assert (media[0].width, media[0].height, media[0].file_size, media[0].content_type) == (None, None, None, None)


def test_nothing_to_find():
    assert extract_media({"description": "no files", "seed": 1}) == []
    assert extract_media(None) == []
