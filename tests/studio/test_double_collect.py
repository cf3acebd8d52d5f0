"""Two trackers collecting the same job at once (a lease that ran out while a collect waited):
each output is kept once, and the loser's copies leave no file behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gallery import assets
from gallery.models import Asset
from studio import jobs
from studio.models import Generation
from tests.studio.conftest import make_generation

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_collectors_at_the_same_moment_keep_each_output_once(fal_service, member, media_root, monkeypatch):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "twice [sim: queue=0, run=0]", "num_images": 2})
    jobs.submit(str(generation.id))
    generation.refresh_from_db()
    while generation.state != Generation.State.COLLECTING:
        Generation.objects.filter(id=generation.id).update(next_check_at=None)
        jobs.check(str(generation.id), collect_with=lambda g: None)  # seen done, not collected yet
        generation.refresh_from_db()

    # Both collectors hold their files in place before either saves its row: the worst moment.
    meet = threading.Barrier(2, timeout=20)
    real_place = assets.place

    def place(temp_path: Path, name: str) -> str:
        stored = real_place(temp_path, name)
        if name.startswith("assets/"):
            meet.wait()
        return stored

    monkeypatch.setattr(assets, "place", place)
    errors: list[BaseException] = []

    def collector() -> None:
        try:
            jobs.collect(Generation.objects.get(id=generation.id))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=collector) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    generation.refresh_from_db()
    assert generation.state == Generation.State.DONE
    assert sorted(generation.assets.values_list("position", flat=True)) == [0, 1]
    recorded = {name for asset in Asset.objects.all() for name in (asset.file.name, asset.thumbnail.name)}
    on_disk = {str(path.relative_to(media_root)) for path in Path(media_root).rglob("*") if path.is_file()}
    assert on_disk == recorded  # the loser's copies are gone, no temporary file stays
