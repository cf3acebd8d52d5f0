"""A small, lived-in Atelier built straight in the database, for page tours and screenshots.

A team of three (plus one person still to choose a password), a dozen finished pictures in
several shapes, a video, an edit made from an earlier picture, jobs waiting, running and
failed, an album with a share link. Pictures are the simulator's own placeholders, so the
screenshots look like a demo install; every name and prompt is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts import people
from accounts.links import set_password_path
from accounts.models import Profile
from fal.simulator import drawing, video
from gallery.ingest import receive, verify
from gallery.assets import store_asset
from gallery.models import Album, AlbumItem, Asset, Favourite, ShareLink
from gallery.sharing import new_token
from studio.models import Generation

PASSWORD = "a-long-test-passphrase-42"
STILL_MODEL = ("fal-ai/flux-1/schnell", "FLUX.1 [schnell]", "text-to-image")
EDIT_MODEL = ("fal-ai/flux-pro/kontext", "FLUX.1 Kontext [pro]", "image-edit")
VIDEO_MODEL = ("fal-ai/veo3", "Veo 3", "text-to-video")

# (prompt, width, height, seed, minutes ago): different shapes, so the grid shows its layout.
PICTURES = [
    ("A lighthouse at dusk, watercolour, soft light on the waves", 1024, 768, 11, 400),
    ("Portrait of a ceramicist in her studio, morning light, 35 mm film", 768, 1024, 12, 380),
    ("Flat-lay of spring stationery on linen, pastel palette", 1024, 1024, 13, 300),
    ("Rice terraces in Mu Cang Chai after rain, aerial view", 1280, 720, 14, 240),
    ("A paper boat on a puddle reflecting city lights", 1024, 768, 15, 180),
    ("Minimal poster: a single red kite over a pale sky", 720, 1280, 16, 120),
    ("Coffee cup with latte art on a marble counter, top view", 1024, 1024, 17, 90),
    ("Night market lanterns in Hoi An, long exposure", 1280, 720, 18, 60),
]


@dataclass
class World:
    administrator: object
    member: object
    pictures: list[Asset]
    edit: Asset
    video: Asset
    album: Album
    album_link: ShareLink
    welcome_path: str
    running_job: Generation


def build_world() -> World:
    User = get_user_model()
    administrator = User.objects.create_superuser("ada", "ada@example.com", PASSWORD,
                                                  first_name="Ada", last_name="Lovelace")
    member = User.objects.create_user("mina", "mina@example.com", PASSWORD, first_name="Mina", last_name="Tran")
    viewer = User.objects.create_user("vera", "vera@example.com", PASSWORD, first_name="Vera", last_name="Lind")
    viewer.profile.role = Profile.Role.VIEWER
    viewer.profile.save(update_fields=["role"])
    newcomer = people.add_person(username="bao", name="Bao Nguyen", email="bao@example.com")

    now = timezone.now()
    pictures = [_finished_picture(member, STILL_MODEL, prompt, width, height, seed, now - timedelta(minutes=ago))
                for prompt, width, height, seed, ago in PICTURES]
    edit = _finished_picture(member, EDIT_MODEL, "Make it night-time, lamps lit in the windows", 1024, 768, 21,
                             now - timedelta(minutes=30), inputs=[pictures[0]])
    clip = _finished_video(member, "Waves rolling onto a pebble beach, slow pan", now - timedelta(minutes=20))
    Favourite.objects.create(user=member, asset=pictures[3])

    _job(member, STILL_MODEL, "Fishing boats at sunrise, Mui Ne, warm haze", Generation.State.QUEUED,
         now - timedelta(seconds=5), queue_position=2)
    running = _job(member, STILL_MODEL, "A bicycle leaning on a yellow wall, Hanoi old quarter",
                   Generation.State.RUNNING, now - timedelta(seconds=14),
                   logs=[{"message": "Loading the model"}, {"message": "Step 2 of 4"}])
    _job(member, STILL_MODEL, "A tiny house on stilts", Generation.State.FAILED, now - timedelta(minutes=3),
         error_type="upstream", error_message="The service stopped answering in the middle of the job.")

    album = Album.objects.create(owner=member, name="Lighthouse campaign",
                                 description="Pictures for the spring coast campaign: light, water, calm.",
                                 cover=pictures[0])
    for position, asset in enumerate([pictures[0], edit, pictures[4], pictures[3], clip]):
        AlbumItem.objects.create(album=album, asset=asset, position=position)
    album_link = ShareLink.objects.create(token=new_token(), created_by=member, album=album,
                                          show_prompts=True, allow_download=True)
    return World(administrator=administrator, member=member, pictures=pictures, edit=edit, video=clip,
                 album=album, album_link=album_link, welcome_path=set_password_path(newcomer),
                 running_job=running)


def _finished_picture(user, model, prompt: str, width: int, height: int, seed: int, when, inputs=()) -> Asset:
    generation = _job(user, model, prompt, Generation.State.DONE, when, seed=seed, inputs=inputs)
    data = drawing.render_image(width=width, height=height, seed=seed, prompt=prompt, model_id=model[0],
                                image_format="jpeg")
    return _store(user, generation, data, when)


def _finished_video(user, prompt: str, when) -> Asset:
    generation = _job(user, VIDEO_MODEL, prompt, Generation.State.DONE, when, seed=31)
    return _store(user, generation, video.asset_bytes("landscape.mp4"), when)


def _store(user, generation: Generation, data: bytes, when) -> Asset:
    path, size, checksum = receive([data])
    asset = store_asset(verify(path, size, checksum), owner=user, source=Asset.Source.OUTPUT, generation=generation)
    Asset.objects.filter(id=asset.id).update(created_at=when)
    asset.refresh_from_db()
    return asset


def _job(user, model, prompt: str, state: str, when, *, inputs=(), **fields) -> Generation:
    model_id, title, kind = model
    final = state in Generation.FINAL_STATES
    generation = Generation.objects.create(
        user=user, model_id=model_id, model_title=title, kind=kind, prompt=prompt,
        arguments={"prompt": prompt}, client_token=f"world-{prompt[:40]}", state=state, created_at=when,
        submitted_at=when + timedelta(seconds=1), request_id=f"world-{abs(hash(prompt))}",
        started_at=when + timedelta(seconds=3) if state != Generation.State.QUEUED else None,
        finished_at=when + timedelta(seconds=9) if final else None,
        inference_seconds=4.2 if state == Generation.State.DONE else None,
        # Far in the future: no tracker in these tests, but none should ever pick these up.
        next_check_at=None if final else when + timedelta(days=365),
        **fields)
    generation.input_assets.set(inputs)
    return generation
