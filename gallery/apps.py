from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        from gallery.search import ensure_sqlite_fts

        post_migrate.connect(lambda sender, using="default", **kwargs: ensure_sqlite_fts(using),
                             sender=self, weak=False)
