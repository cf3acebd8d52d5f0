from tests.gallery.conftest import make_item  # noqa: F401  (gallery items for the localised pages)
