"""The translation catalogues: find every translatable string, update the .po files, compile them.

Pure Python (Babel), so neither developers nor CI need GNU gettext. Strings are found the way
Django's `makemessages` finds them: Python through gettext-style calls, templates through
Django's own `templatize` (every {% translate %} and {% blocktranslate %}), and the model
catalogue through `studio/catalogue/strings.py`, generated from builtin.toml.

`manage.py update_translations` runs `update_catalogues()`; tests/test_translations.py fails
when a found string has no translation, or when a .mo file is older than its .po.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
LOCALE_DIR = ROOT / "locale"
SOURCE_LANGUAGE = "en"
DOMAIN = "django"
# Where user-facing strings live: the settings package and every app of ours (a new app is
# picked up by itself), templates/ and each app's templates/. Command-line tools
# (management commands, backup) talk to operators in English and are left out, like migrations.


def _our_apps() -> tuple[str, ...]:
    from django.apps import apps

    ours = [Path(config.path).relative_to(ROOT) for config in apps.get_app_configs()
            if Path(config.path).is_relative_to(ROOT)]
    # Installed packages may live under the project too (.venv): only our own folders count.
    ours = [path for path in ours if not path.parts[0].startswith(".") and "site-packages" not in path.parts]
    return tuple(sorted({"atelier", *(path.as_posix() for path in ours)}))


def _template_roots() -> tuple[str, ...]:
    dirs = [Path(directory) for engine in settings.TEMPLATES for directory in engine.get("DIRS", [])]
    dirs += [ROOT / app / "templates" for app in _our_apps()]
    return tuple(sorted({path.relative_to(ROOT).as_posix() for path in dirs if path.is_relative_to(ROOT)}))


SKIPPED_PARTS = frozenset({"migrations", "management", "__pycache__"})
SKIPPED_FILES = frozenset({"gallery/backup.py", "atelier/translations.py", "atelier/settings.py"})

# The names Django's makemessages knows, with the argument positions Babel expects.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("Translators:",)


@dataclass(frozen=True)
class Found:
    msgid: str | tuple[str, str]
    context: str | None
    location: tuple[str, int]
    comments: tuple[str, ...]


def source_files() -> Iterator[tuple[str, Path]]:
    """("python" | "template", path) for every file whose strings are translated."""
    for root in _our_apps():
        for path in sorted((ROOT / root).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if SKIPPED_PARTS.isdisjoint(relative.parts) and relative.as_posix() not in SKIPPED_FILES:
                yield "python", path
    for root in _template_roots():
        base = ROOT / root
        if base.is_dir():
            for path in sorted(base.rglob("*.html")) + sorted(base.rglob("*.txt")):
                yield "template", path


def find_strings() -> list[Found]:
    found: list[Found] = []
    for kind, path in source_files():
        text = path.read_text(encoding="utf-8")
        if kind == "template":
            if "trans" not in text:
                continue
            # Django's own template reader, as makemessages uses it; its output is Python-like
            # text for xgettext, so each line is dedented for Python's stricter tokenizer.
            text = "\n".join(line.lstrip() for line in templatize(text, origin=str(path)).split("\n"))
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract(
                "python", io.BytesIO(text.encode("utf-8")), keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
                strip_comment_tags=True, options={"encoding": "utf-8"}):
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            found.append(Found(message, context, (relative, lineno), tuple(comments)))
    return found


def template_catalogue() -> Catalog:
    """Every string found, with no translations: what each language's .po is updated from."""
    catalogue = Catalog(project="Atelier", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for item in find_strings():
        message = catalogue.get(item.msgid, item.context)
        if message is None:
            catalogue.add(item.msgid, locations=[item.location], auto_comments=item.comments,
                          context=item.context, flags=_flags(item.msgid))
        else:
            message.locations.append(item.location)
            message.auto_comments.extend(c for c in item.comments if c not in message.auto_comments)
    return catalogue


def translated_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="Atelier", charset="utf-8", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def update_catalogues() -> dict[str, list[str]]:
    """Bring every language's .po up to date with the sources, then compile it.

    New strings arrive untranslated; strings no longer used are dropped. Returns, per
    language, the strings that still need a translation.
    """
    template = template_catalogue()
    untranslated: dict[str, list[str]] = {}
    for language in translated_languages():
        catalogue = read_catalogue(language)
        created = catalogue.creation_date
        catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
        # A header date that changed on every run would make every branch's .po conflict.
        catalogue.creation_date = created
        catalogue.obsolete.clear()
        # Babel keeps line numbers for locations; ours name the file only, so the .po does
        # not change every time a line moves.
        for message in catalogue:
            if message.id:
                message.locations = sorted({(path, None) for path, _line in message.locations})
        write_po_file(language, catalogue)
        compile_catalogue(language)
        untranslated[language] = [_text(message.id) for message in catalogue if message.id and missing(message)]
    return untranslated


def write_po_file(language: str, catalogue: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=100, sort_output=True, ignore_obsolete=True, include_previous=False,
             include_lineno=False)
    path.write_bytes(buffer.getvalue())


def compile_catalogue(language: str) -> Path:
    catalogue = read_catalogue(language)
    path = po_path(language).with_suffix(".mo")
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    path.write_bytes(buffer.getvalue())
    return path


def missing(message) -> bool:
    """True when a message has no usable translation (empty, or marked fuzzy)."""
    if message.fuzzy:
        return True
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return not strings or any(not text for text in strings)


# %(name)s, %s, %d, %.1f … and {name}: whatever a translation must carry over unchanged.
PLACEHOLDER = re.compile(r"%\([a-zA-Z_][a-zA-Z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[a-zA-Z_][a-zA-Z0-9_]*\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def tags(text: str) -> list[str]:
    return sorted(match.group(0) for match in TAG.finditer(text))


def _flags(msgid) -> set[str]:
    text = " ".join(msgid) if isinstance(msgid, tuple) else msgid
    return {"python-format"} if PLACEHOLDER.search(text) and "%" in text else set()


def _text(msgid) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


def found_strings() -> dict[tuple, str]:
    """(msgid, context) of every string found → where it was first found ("path:line")."""
    found: dict[tuple, str] = {}
    for item in find_strings():
        found.setdefault((_text(item.msgid), item.context), f"{item.location[0]}:{item.location[1]}")
    return found


def problems() -> list[str]:
    """Everything that keeps the catalogues from being complete; [] when all is well."""
    found = found_strings()
    report: list[str] = []
    for language in translated_languages():
        catalogue = read_catalogue(language)
        report.extend(catalogue_problems(language, catalogue, found))
        report.extend(_stale_mo(language, catalogue))
    return report


def catalogue_problems(language: str, catalogue: Catalog, found: dict[tuple, str]) -> list[str]:
    """A found string missing from the catalogue, or there without a translation (empty or
    fuzzy); placeholders or HTML tags that differ between a string and its translation."""
    report: list[str] = []
    by_key = {(_text(message.id), message.context): message for message in catalogue if message.id}
    for key, where in found.items():
        message = by_key.get(key)
        if message is None:
            report.append(f"[{language}] not in the catalogue ({where}): {key[0]!r}")
        elif missing(message):
            report.append(f"[{language}] no translation ({where}): {key[0]!r}")
    for message in catalogue:
        if not message.id or missing(message):
            continue
        originals = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        expected = sorted(set().union(*(placeholders(text) for text in originals)))
        for text in translated:
            got = sorted(set(placeholders(text)))
            # A singular may leave its number out ("One item"); a translation must not invent one.
            if got != expected and not (len(originals) > 1 and got and set(got) <= set(expected)):
                report.append(f"[{language}] placeholders differ: {originals[0]!r} has {expected}, "
                              f"the translation {text!r} has {got}")
            if tags(text) != tags(originals[0]) and tags(text) != tags(originals[-1]):
                report.append(f"[{language}] HTML tags differ: {originals[0]!r} → {text!r}")
    return report


def _stale_mo(language: str, catalogue: Catalog) -> list[str]:
    import gettext

    path = po_path(language).with_suffix(".mo")
    if not path.exists():
        return [f"[{language}] {path} is missing: run manage.py update_translations"]
    with path.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalogue:
        if not message.id or missing(message):
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if message.context:
            key = f"{message.context}\x04{key}"
        wanted = message.string[0] if isinstance(message.string, (list, tuple)) else message.string
        held = compiled._catalog.get((key, 0)) if isinstance(message.id, tuple) else compiled._catalog.get(key)
        if held != wanted:
            return [f"[{language}] {path.name} is older than {path.with_suffix('.po').name}: "
                    "run manage.py update_translations"]
    return []
