import pytest

from fal.app_id import InvalidModelId, parse_model_id


@pytest.mark.parametrize(
    ("model_id", "prefix", "endpoint"),
    [
        ("fal-ai/nano-banana", "fal-ai/nano-banana", "fal-ai/nano-banana"),
        ("fal-ai/flux-1/dev", "fal-ai/flux-1", "fal-ai/flux-1/dev"),
        ("fal-ai/flux-pro/kontext/max/multi", "fal-ai/flux-pro", "fal-ai/flux-pro/kontext/max/multi"),
        ("workflows/someone/my-flow", "workflows/someone/my-flow", "workflows/someone/my-flow"),
        ("comfy/someone/graph/run", "comfy/someone/graph", "comfy/someone/graph/run"),
        ("123-my-app", "123/my-app", "123/my-app"),
    ],
)
def test_request_prefix_uses_owner_and_app_only(model_id, prefix, endpoint):
    app = parse_model_id(model_id)
    assert app.request_prefix == prefix
    assert app.endpoint == endpoint


@pytest.mark.parametrize("model_id", ["", "flux", "fal-ai//dev", "fal-ai/flux 1", "workflows/only", "../etc/passwd"])
def test_malformed_model_ids_are_refused(model_id):
    with pytest.raises(InvalidModelId):
        parse_model_id(model_id)
