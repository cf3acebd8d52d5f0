"""A realistic gallery for the page benchmarks: users, generations with varied prompts, output assets.

`GalleryFiller(seed).grow_to(n)` adds Generations and their output Assets (1–4 per
generation) until there are `n` output assets, so one database can be measured at 1k, then
grown to 10k and 100k. Rows go in with `bulk_create` in batches; every Asset points at one
of a handful of real small files under MEDIA_ROOT. Prompts are drawn from word lists with
Zipf-like weights, plus two marker words of known selectivity for the search figures:
COMMON_WORD (in ~30 % of prompts) and RARE_WORD (in ~0.1 %).
"""

from __future__ import annotations

import hashlib
import io
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

COMMON_WORD = "cinematic"
RARE_WORD = "axolotl"
COMMON_SHARE = 0.30
RARE_SHARE = 0.001
USERS = 8
PRIVATE_SHARE = 0.10
SPREAD_DAYS = 240

# (model id, title, catalogue kind, asset kind, share of generations)
MODELS = [
    ("fal-ai/flux-1/dev", "FLUX.1 [dev]", "text-to-image", "image", 0.34),
    ("fal-ai/flux-1/schnell", "FLUX.1 [schnell]", "text-to-image", "image", 0.20),
    ("fal-ai/nano-banana", "Nano Banana", "text-to-image", "image", 0.14),
    ("fal-ai/bytedance/seedream/v4/text-to-image", "Seedream 4.0", "text-to-image", "image", 0.12),
    ("fal-ai/flux-pro/kontext", "FLUX.1 Kontext [pro]", "image-edit", "image", 0.10),
    ("fal-ai/veo3", "Veo 3", "text-to-video", "video", 0.06),
    ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", "Kling 2.5 Turbo Pro", "text-to-video", "video", 0.04),
]
TOP_MODEL = MODELS[0][0]

SUBJECTS = """woman man child dog cat fox owl horse robot astronaut knight dragon city street forest
mountain lake ocean lighthouse castle cottage bicycle car train sneaker bottle perfume watch chair
lamp teapot cake burger coffee flower orchid sunflower cactus jellyfish whale butterfly tiger
wolf deer bear penguin parrot octopus skyscraper bridge market cafe library garden desert glacier
volcano waterfall canyon island harbor temple cathedral museum stadium""".split()
ADJECTIVES = """vintage futuristic minimalist colorful moody dreamy elegant rustic playful serene
dramatic cozy gritty glossy surreal whimsical majestic tiny giant ancient neon pastel golden
silver frozen misty sunny rainy snowy abandoned bustling quiet luxurious""".split()
SETTINGS = """at sunset|at dawn|at night|in the rain|in winter|in autumn|on a beach|in a studio|in space|
underwater|in a forest clearing|on a rooftop|in a busy market|on a white background|in the fog|
by the sea|in a desert|in tokyo|in paris|in new york|on mars|in a greenhouse|in a neon alley""".replace("\n", "").split("|")
STYLES = """photorealistic|studio photography|oil painting|watercolor|isometric 3d render|pixel art|
anime style|product shot|editorial photo|flat illustration|charcoal sketch|low poly|claymation|
line art|pop art|art deco poster|ukiyo-e print|double exposure|macro photo|aerial view|
tilt-shift|polaroid|35mm film|infrared photo""".replace("\n", "").split("|")
LIGHTING = """soft light|golden hour|rim light|volumetric light|hard shadows|backlit|candlelight|
overcast|neon glow|high key|low key|bioluminescent""".replace("\n", "").split("|")
EXTRAS = """highly detailed|8k|bokeh|wide angle|close-up|symmetrical|shallow depth of field|
trending|award winning|muted colors|vibrant colors|high contrast|grain|sharp focus|
for a campaign banner|for instagram|brand colors teal and orange|negative space for text""".replace("\n", "").split("|")

IMAGE_SIZES = [(1024, 1024), (768, 1344), (1344, 768), (1024, 768), (768, 1024), (1536, 640)]
VIDEO_SIZES = [(1280, 720), (720, 1280)]


def fal_result(serial: int, prompt: str, seed: int, outputs: int, kind: str, created: datetime) -> tuple[dict, list]:
    """What fal sends back and what the tracker logs: the JSON a real row carries (~1 kB)."""
    key = "video" if kind == "video" else "images"
    files = [{"url": f"https://v3.fal.media/files/bench/{serial}_{n}.{'mp4' if kind == 'video' else 'png'}",
              "width": 1024, "height": 1024, "content_type": "video/mp4" if kind == "video" else "image/png",
              "file_name": f"{serial}_{n}", "file_size": 1_400_000} for n in range(outputs)]
    result = {key: files[0] if kind == "video" else files, "seed": seed, "prompt": prompt,
              "timings": {"inference": 2.81}, "has_nsfw_concepts": [False] * outputs}
    logs = [{"message": message, "level": "INFO", "source": "stdout",
             "timestamp": (created + timedelta(seconds=3 + n)).isoformat()}
            for n, message in enumerate(("Loading model", "Model loaded", "Generating", "100%|##########| 28/28"))]
    return result, logs


def _zipf_weights(count: int, s: float = 1.0) -> list[float]:
    return [1.0 / (rank + 1) ** s for rank in range(count)]


@dataclass
class Files:
    """The few real files every Asset shares."""
    thumbnails: list[str] = field(default_factory=list)
    image: str = ""
    video: str = ""
    image_bytes: int = 0
    video_bytes: int = 0


def write_media_files(media_root: str) -> Files:
    """A handful of small real files under MEDIA_ROOT (thumbnails WebP, an image, a 'video')."""
    from pathlib import Path

    from PIL import Image

    root = Path(media_root)
    (root / "thumbs" / "bench").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "bench").mkdir(parents=True, exist_ok=True)
    files = Files()
    for index, colour in enumerate([(200, 80, 60), (60, 140, 200), (90, 170, 90), (230, 200, 70), (120, 90, 160)]):
        name = f"thumbs/bench/thumb{index}.webp"
        Image.new("RGB", (96, 96), colour).save(root / name, "WEBP")
        files.thumbnails.append(name)
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 40, 40)).save(buffer, "PNG")
    files.image, files.image_bytes = "assets/bench/image.png", len(buffer.getvalue())
    (root / files.image).write_bytes(buffer.getvalue())
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(2048)
    files.video, files.video_bytes = "assets/bench/video.mp4", len(video)
    (root / files.video).write_bytes(video)
    return files


class GalleryFiller:
    """Grows one database's gallery; deterministic for a given seed."""

    BATCH = 2000  # generations per transaction

    def __init__(self, media_root: str, seed: int = 20260101) -> None:
        self.rng = random.Random(seed)
        self.files = write_media_files(media_root)
        self.now = datetime.now(dt_timezone.utc).replace(microsecond=0)
        self.serial = 0
        self.assets = 0
        self.generations = 0
        self.users: list = []
        self.album = None
        self.model_weights = [share for *_, share in MODELS]

    # --- People -------------------------------------------------------------------------
    def make_users(self) -> None:
        from django.contrib.auth import get_user_model

        from gallery.models import Album

        User = get_user_model()
        User.objects.bulk_create([User(username=f"member{i}", password="!", first_name=f"Member {i}")
                                  for i in range(USERS)])
        self.users = list(User.objects.filter(username__startswith="member").order_by("username"))
        self.album = Album.objects.create(owner=self.users[1], name="Campaign shortlist")
        Album.objects.create(owner=self.users[0], name="Moodboard")

    @property
    def viewer(self):
        """The person the benchmark logs in as (owns about 1/USERS of everything)."""
        return self.users[0]

    # --- Prompts ------------------------------------------------------------------------
    def prompt(self) -> str:
        rng = self.rng
        parts = [f"{rng.choices(ADJECTIVES, _ZIPF_ADJ)[0]} {rng.choices(SUBJECTS, _ZIPF_SUBJ)[0]}"]
        if rng.random() < 0.6:
            parts[0] += " " + rng.choices(SETTINGS, _ZIPF_SET)[0]
        parts.append(rng.choices(STYLES, _ZIPF_STY)[0])
        if rng.random() < 0.5:
            parts.append(rng.choices(LIGHTING, _ZIPF_LIG)[0])
        parts.extend(rng.sample(EXTRAS, rng.randint(0, 3)))
        if rng.random() < COMMON_SHARE:
            parts.insert(rng.randint(1, len(parts)), f"{COMMON_WORD} lighting")
        if rng.random() < RARE_SHARE:
            parts.insert(1, f"with a pink {RARE_WORD}")
        return ", ".join(parts)

    # --- Rows ---------------------------------------------------------------------------
    def grow_to(self, target_assets: int) -> None:
        from django.db import transaction

        while self.assets < target_assets:
            with transaction.atomic():
                self._batch(target_assets)

    def _batch(self, target_assets: int) -> None:
        from gallery.models import AlbumItem, Asset, Favourite
        from studio.models import Generation

        rng = self.rng
        # Private work (where the schema has it): ~10 % of jobs, outputs copy the job's setting.
        has_visibility = {model: any(f.name == "visibility" for f in model._meta.fields) for model in (Generation, Asset)}
        generations, assets = [], []
        while len(generations) < self.BATCH and self.assets + len(assets) < target_assets:
            self.serial += 1
            model_id, title, catalogue_kind, asset_kind, _ = rng.choices(MODELS, self.model_weights)[0]
            user = self.users[rng.randrange(USERS)]
            created = self.now - timedelta(seconds=rng.uniform(60, SPREAD_DAYS * 86400))
            prompt = self.prompt()
            outputs = 1 if asset_kind == "video" else rng.choice((1, 1, 2, 4))
            outputs = min(outputs, target_assets - self.assets - len(assets))
            seed = rng.randrange(2**31)
            private = {"visibility": "private" if rng.random() < PRIVATE_SHARE else "team"}
            generation = Generation(**(private if has_visibility[Generation] else {}),
                id=uuid.uuid4(), user=user, model_id=model_id, model_title=title, kind=catalogue_kind,
                arguments={"prompt": prompt, "num_images": outputs, "seed": seed}, prompt=prompt,
                client_token=f"bench-{self.serial}", state=Generation.State.DONE,
                request_id=f"req-{self.serial}", seed=seed, inference_seconds=rng.uniform(1.5, 40.0),
                created_at=created, submitted_at=created + timedelta(seconds=1),
                started_at=created + timedelta(seconds=3), completed_at=created + timedelta(seconds=20),
                finished_at=created + timedelta(seconds=22))
            generation.result, generation.logs = fal_result(self.serial, prompt, seed, outputs, asset_kind, created)
            generations.append(generation)
            for position in range(outputs):
                if asset_kind == "video":
                    width, height = rng.choice(VIDEO_SIZES)
                    name, size, content_type = self.files.video, self.files.video_bytes, "video/mp4"
                else:
                    width, height = rng.choice(IMAGE_SIZES)
                    name, size, content_type = self.files.image, self.files.image_bytes, "image/png"
                asset_id = uuid.uuid4()
                assets.append(Asset(**(private if has_visibility[Asset] else {}),
                    id=asset_id, owner=user, generation=generation, position=position, kind=asset_kind,
                    source=Asset.Source.OUTPUT, file=name, thumbnail=rng.choice(self.files.thumbnails),
                    content_type=content_type, bytes=size, width=width, height=height,
                    checksum=hashlib.sha256(asset_id.bytes).hexdigest(), nsfw=rng.random() < 0.01,
                    created_at=created + timedelta(seconds=21, milliseconds=position)))
        Generation.objects.bulk_create(generations)
        Asset.objects.bulk_create(assets)
        favourites = [Favourite(user=self.viewer if rng.random() < 0.6 else rng.choice(self.users), asset=asset)
                      for asset in assets if rng.random() < 0.03]
        Favourite.objects.bulk_create(favourites, ignore_conflicts=True)
        picked = [asset for asset in assets if rng.random() < 0.005]
        AlbumItem.objects.bulk_create([AlbumItem(album=self.album, asset=asset, position=self.assets + i)
                                       for i, asset in enumerate(picked)], ignore_conflicts=True)
        self.generations += len(generations)
        self.assets += len(assets)


_ZIPF_ADJ = _zipf_weights(len(ADJECTIVES), 0.8)
_ZIPF_SUBJ = _zipf_weights(len(SUBJECTS), 0.9)
_ZIPF_SET = _zipf_weights(len(SETTINGS), 0.7)
_ZIPF_STY = _zipf_weights(len(STYLES), 0.9)
_ZIPF_LIG = _zipf_weights(len(LIGHTING), 0.8)


def analyze() -> None:
    """Fresh planner statistics, as a long-running install would have (VACUUM for PG's visibility map)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def check_search_index() -> dict:
    """Is SQLite's FTS table in step with the generations? Its triggers fire on bulk_create.

    A migration that makes Django remake `studio_generation` on SQLite (e.g. AddField of a NOT
    NULL column with a default) drops the table's triggers with it: then new prompts are not
    indexed. That is reported, and the missing rows are copied in so search can still be timed.
    """
    from django.db import connection

    from studio.models import Generation

    total = Generation.objects.count()
    state = {"generations": total, "indexed": total, "triggers": 3, "backfilled": 0}
    if connection.vendor != "sqlite":
        return state
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'studio_generation' AND name LIKE 'studio_generation_fts_%'")
        state["triggers"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM studio_generation_fts")
        state["indexed"] = cursor.fetchone()[0]
        if state["indexed"] < total:
            cursor.execute("INSERT INTO studio_generation_fts (generation_id, prompt) SELECT id, prompt "
                           "FROM studio_generation WHERE id NOT IN (SELECT generation_id FROM studio_generation_fts)")
            state["backfilled"] = cursor.rowcount
    return state
