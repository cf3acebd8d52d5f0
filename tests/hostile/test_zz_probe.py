import json, pytest
from tests.hostile.test_results import *  # noqa
from django.urls import reverse

@pytest.mark.parametrize("extra", ['{"has_nsfw_concepts": 5}', '{"has_nsfw_concepts": "yes"}', '{"timings": {"inference": 1' + '0'*400 + '}}',
    '{"timings": {"inference": NaN}}', '{"timings": {"inference": 1e999}}', '{"seed": NaN}', '{"seed": -5}', '{"nested": {"deep": ' + '['*50 + ']'*50 + '}}', '{"prompt": "\\u0000"}'])
def test_probe(hostile, media_root, member_client, extra):
    result = {"images": [{"url": "http://93.184.215.14/out.png", "content_type": "image/png"}], **json.loads(extra)}
    try:
        g = hostile(result)
        print(extra[:40], g.state, g.error_message, g.inference_seconds, g.seed)
        r = member_client.get(reverse("studio:job_card", args=[g.id]))
        print("   card", r.status_code)
    except Exception as e:
        print(extra[:40], "EXC", type(e).__name__, str(e)[:100])
