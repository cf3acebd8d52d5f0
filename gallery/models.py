"""Stored results: every file we keep, with what is known about it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    TEAM = "team", _("The team")
    PRIVATE = "private", _("Only me")


def asset_path(asset: Asset, filename: str) -> str:
    """Paths come from ids, never from prompts or upstream file names."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"assets/{asset.created_at:%Y/%m}/{asset.id}.{extension}"


def thumbnail_path(asset: Asset, filename: str) -> str:
    return f"thumbs/{asset.created_at:%Y/%m}/{asset.id}.webp"


class Asset(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        VIDEO = "video", _("Video")
        AUDIO = "audio", _("Audio")
        FILE = "file", _("File")

    class Source(models.TextChoices):
        OUTPUT = "output", _("Generated")
        UPLOAD = "upload", _("Uploaded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assets")
    generation = models.ForeignKey("studio.Generation", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="assets")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the generation's outputs.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.OUTPUT)
    file = models.FileField(upload_to=asset_path, max_length=255)
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=255, blank=True)
    # Outputs are saved before their thumbnail exists (see gallery.previews): set while one is
    # owed, and pushed forward while a tracker makes it (a lease, like Generation.next_check_at).
    thumbnail_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    content_type = models.CharField(max_length=100)
    bytes = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file, hex.")
    nsfw = models.BooleanField(default=False)
    # A copy of the generation's visibility, so the grid filters without a join.
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    original_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The grid pages by (created_at, id), newest first, with or without an owner filter.
        indexes = [
            models.Index(fields=["source", "-created_at", "-id"], name="asset_grid"),
            models.Index(fields=["owner", "source", "-created_at", "-id"], name="asset_grid_owner"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["generation", "position"], name="asset_unique_output_position",
                                    condition=models.Q(source="output")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id}"

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def is_video(self) -> bool:
        return self.kind == self.Kind.VIDEO

    @property
    def has_preview(self) -> bool:
        """Something to show in a tile: the thumbnail, or an image's original until it exists."""
        return bool(self.thumbnail) or self.is_image


class Favourite(models.Model):
    """One person's favourite. Favourites are personal: the filter shows your own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "asset"], name="favourite_once")]


class Album(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="albums")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    cover = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    members_may_add = models.BooleanField(default=False, help_text="Colleagues may add their work to this team album.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlbumItem(models.Model):
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="items")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="album_items")
    position = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "added_at"]
        constraints = [models.UniqueConstraint(fields=["album", "asset"], name="album_item_once")]


class ShareLink(models.Model):
    """A link for people without an account: one item or one album, revocable, maybe expiring."""

    token = models.CharField(max_length=64, unique=True)  # 256 random bits, URL-safe
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="share_links")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="share_links")
    expires_at = models.DateTimeField(null=True, blank=True)
    allow_download = models.BooleanField(default=False)
    show_prompts = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(asset__isnull=False) ^ models.Q(album__isnull=False),
                                   name="share_link_one_target"),
        ]

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
