"""Finds words in templates that a reader would see but no translation tag covers.

The template is tokenised with Django's own lexer. Text inside {% blocktranslate %} and
{% comment %} is set aside, every other tag and variable becomes a marker, and what is
left is read as HTML: text between tags, plus the attributes people see or hear (alt,
title, placeholder, aria-label, data-confirm, ...). A word there is untranslated text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

MARK = "\x00"
VISIBLE_ATTRIBUTES = frozenset({"alt", "title", "placeholder", "aria-label", "aria-description", "data-confirm",
                                "label", "data-text-none", "data-text-one", "data-text-many", "data-copied-text",
                                "data-by-hand-text"})
# Names and symbols that are the same in every language.
ALLOWED_WORDS = frozenset({"Atelier", "Esc", "px", "fal"})
WORD = re.compile(r"[^\W\d_]{2,}")
# CSS class names handed to a block (`{% block page_class %} page--narrow{% endblock %}`).
CLASS_NAME = re.compile(r"\S*(?:--|__)\S*")


def skeleton(source: str) -> str:
    """The template with translated text, comments, tags and variables replaced by markers."""
    pieces: list[str] = []
    depth = {"blocktranslate": 0, "comment": 0}
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in ("blocktranslate", "blocktrans"):
                depth["blocktranslate"] += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                depth["blocktranslate"] -= 1
            elif name == "comment":
                depth["comment"] += 1
            elif name == "endcomment":
                depth["comment"] -= 1
            pieces.append(f" {MARK} ")
        elif token.token_type in (TokenType.VAR, TokenType.COMMENT):
            pieces.append(MARK)
        elif any(depth.values()):
            pieces.append(MARK)
        else:
            pieces.append(token.contents)
    return "".join(pieces)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value, f'{tag} {name}="…"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data, "text")

    def _check(self, text: str, where: str) -> None:
        plain = CLASS_NAME.sub(" ", text.replace(MARK, " "))
        words = [word for word in WORD.findall(plain) if word not in ALLOWED_WORDS]
        if words:
            self.found.append(f"{where}: {' '.join(text.replace(MARK, '…').split())!r}")


def untranslated_text(path: Path) -> list[str]:
    reader = _Reader()
    reader.feed(skeleton(path.read_text(encoding="utf-8")))
    reader.close()
    return reader.found
