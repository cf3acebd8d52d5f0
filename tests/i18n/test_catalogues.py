"""The translation catalogues are complete, consistent and compiled.

`manage.py update_translations` finds every translatable string (Python, templates, the
model catalogue) the way Django's makemessages does, but in pure Python (Babel). These
tests fail when a string has no Vietnamese translation, when a translation loses or
invents a placeholder or an HTML tag, when a .mo file lags behind its .po, when
studio/catalogue/strings.py lags behind builtin.toml, or when a template shows words
outside a translation tag.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from django.conf import settings
from django.utils import translation

from atelier import translations
from studio.catalogue.translatable import STRINGS_PATH, catalogue_strings, strings_module_text
from studio.stored_text import STORED_TEXTS, translate_stored
from tests.i18n.template_text import untranslated_text

HOW_TO_FIX = ("Run `.venv/bin/python manage.py update_translations`, then write the missing msgstr "
              "in locale/vi/LC_MESSAGES/django.po and run the command again to compile it.")


def test_every_string_has_a_vietnamese_translation():
    problems = translations.problems()
    assert not problems, HOW_TO_FIX + "\n" + "\n".join(problems)


def test_the_catalogue_holds_hundreds_of_strings_from_every_kind_of_source():
    found = translations.found_strings()
    where = {location.split(":")[0] for location in found.values()}
    assert len(found) > 500
    assert "studio/catalogue/strings.py" in where  # model titles, labels, help
    assert any(path.startswith("templates/") for path in where)
    assert "studio/stored_text.py" in where  # errors stored on jobs


def test_catalogue_strings_module_matches_builtin_toml():
    assert STRINGS_PATH.read_text(encoding="utf-8") == strings_module_text(), HOW_TO_FIX
    assert "Custom size" not in catalogue_strings()  # code words live in the code, not here
    assert "Text to image" not in catalogue_strings()


def test_a_new_string_without_translation_is_reported(tmp_path, monkeypatch):
    page = tmp_path / "new_page.html"
    page.write_text('{% load i18n %}<h1>{% translate "A heading nobody has translated yet" %}</h1>')
    original = translations.source_files
    monkeypatch.setattr(translations, "source_files", lambda: [*original(), ("template", page)])
    monkeypatch.setattr(translations, "ROOT", Path("/"))
    problems = translations.problems()
    assert any("A heading nobody has translated yet" in problem and "not in the catalogue" in problem
               for problem in problems)


def _catalogue(*messages) -> Catalog:
    catalogue = Catalog(locale="vi")
    for msgid, msgstr, *flags in messages:
        catalogue.add(msgid, msgstr, flags=flags)
    return catalogue


def test_empty_and_fuzzy_translations_count_as_missing():
    found = {("Save", None): "x.html:1", ("Delete", None): "x.html:2"}
    problems = translations.catalogue_problems("vi", _catalogue(("Save", ""), ("Delete", "Xoá", "fuzzy")), found)
    assert len(problems) == 2
    assert all("no translation" in problem for problem in problems)


def test_placeholders_and_tags_must_survive_translation():
    catalogue = _catalogue(
        ("Welcome, %(name)s.", "Chào mừng bạn."),  # placeholder lost
        ("Added to “%(album)s”.", "Đã thêm vào “%(albm)s”."),  # placeholder misspelt
        ("Hello {name}", "Xin chào {ten}"),
        ("Logged in as <strong>%(username)s</strong>.", "Đăng nhập: %(username)s."),  # tag lost
        ("Fine %(name)s", "Ổn %(name)s"),
    )
    problems = translations.catalogue_problems("vi", catalogue, {})
    assert len(problems) == 4, problems
    assert not any("Fine" in problem for problem in problems)


def test_a_plural_singular_may_leave_out_the_number():
    catalogue = Catalog(locale="vi")
    catalogue.add(("One item", "%(count)d items"), ("%(count)d mục",))
    assert translations.catalogue_problems("vi", catalogue, {}) == []


def _templates() -> list[Path]:
    return [path for kind, path in translations.source_files() if kind == "template"]


@pytest.mark.parametrize("path", _templates(), ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_templates_show_no_words_outside_translation_tags(path):
    assert untranslated_text(path) == []


def test_the_template_check_finds_untranslated_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('{% load i18n %}<h1>{% translate "Fine" %}</h1><p>Hello {{ name }}</p>'
                    '<img alt="A cat" src="x"><button data-confirm="{% translate "Sure?" %}">'
                    '{% blocktranslate %}Also fine {{ x }}{% endblocktranslate %}</button>'
                    '{% comment %}Not shown{% endcomment %}<script>var ok = "words";</script>')
    assert untranslated_text(page) == ["text: 'Hello …'", "img alt=\"…\": 'A cat'"]


# --- Messages stored on jobs -------------------------------------------------------------
WRITERS = ["fal/client.py", "gallery/ingest.py", "studio/jobs.py", "studio/input_images.py"]


def _written_messages(path: Path) -> list[str]:
    """Every message text an error or failure call writes, with "{}" where a value goes."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if not (name.endswith("Error") or name in ("SubmitOutcomeUnknown", "MissingInputImage", "_fail")):
            continue
        candidates = list(node.args[:1]) + [kw.value for kw in node.keywords if kw.arg == "message"]
        for candidate in candidates:
            text = _literal(candidate)
            if text:
                texts.append(text)
    return texts


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    if isinstance(node, ast.BoolOp):  # `status.error or "The model could not finish this job."`
        return next((text for text in map(_literal, node.values) if text), None)
    return None


@pytest.mark.parametrize("module", WRITERS)
def test_every_message_a_worker_stores_can_be_translated(module):
    messages = _written_messages(Path(settings.BASE_DIR, module))
    assert messages, f"no messages found in {module}: has the way errors are raised changed?"
    with translation.override("vi"):
        untranslatable = [text for text in messages
                          if "{}" not in text and translate_stored(text) == text and text not in IGNORED]
        patterns = [text for text in messages if "{}" in text and translate_stored(text.replace("{}", "X")) == text.replace("{}", "X")
                    and text not in IGNORED]
    assert not untranslatable + patterns, (
        "Add these to studio/stored_text.py (values as %(name)s), then translate them:\n"
        + "\n".join(untranslatable + patterns))


# Configuration mistakes raised at start-up (ValueError), never stored on a job.
IGNORED = {"base_url must be an http:// or https:// URL", "auth_scheme must be one of {}"}


def test_stored_messages_translate_with_their_values():
    with translation.override("vi"):
        assert translate_stored("The account is out of credit.") == "Tài khoản đã hết tín dụng."
        assert translate_stored("The file is larger than the 20 MB limit.") == "Tệp lớn hơn giới hạn 20 MB."
        nested = translate_stored("A file from the service could not be kept: The image is damaged or incomplete.")
        assert nested == "Không lưu được một tệp từ dịch vụ: Ảnh bị hỏng hoặc không đầy đủ."
        # The service's own words have no translation and are shown as they came.
        assert translate_stored("CUDA out of memory") == "CUDA out of memory"
    assert len(STORED_TEXTS) == len(set(STORED_TEXTS))
