"""The labels of every page: each visible text of the reports and the dashboard, in English and Chinese.

The texts live in `labels.toml` beside this module, one key per concept with its `en` and `zh`
text; keys with a dot are groups (`section.<lever>`, `field.<scenario field>`, `unit.<schema unit>`).
`labels(lang)` gives one language's texts by key.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "zh")
"""The languages of every label, in the order `labels.toml` gives them."""

Labels = Mapping[str, str]
"""One language's labels: text by key."""


def _entries(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, texts by language) of every label of a table of `labels.toml`, groups flattened to dotted keys."""
    for name, value in table.items():
        key = f"{prefix}{name}"
        if not isinstance(value, dict):
            raise ValueError(f"labels.toml: {key} must be a table of texts by language")
        if not all(isinstance(v, dict) for v in value.values()):
            yield key, value
        else:
            yield from _entries(value, f"{key}.")


def read(text: str) -> dict[str, Labels]:
    """Every label by language, from the text of a labels file.

    Args:
        text: TOML: each label a table of its texts by language, groups nested (see `labels.toml`).

    Returns:
        Each language's labels, by key (read-only).

    Raises:
        ValueError: If a label lacks a language, has another one, or a text is not a string.
    """
    tables: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for key, texts in _entries(tomllib.loads(text)):
        if sorted(texts) != sorted(LANGUAGES) or not all(isinstance(t, str) for t in texts.values()):
            raise ValueError(f"labels.toml: {key} must have exactly the texts {', '.join(LANGUAGES)}")
        for lang in LANGUAGES:
            tables[lang][key] = texts[lang]
    return {lang: MappingProxyType(table) for lang, table in tables.items()}


@functools.cache
def _by_language() -> dict[str, Labels]:
    """Every label by language, read from `labels.toml` once."""
    return read(resources.files(__package__).joinpath("labels.toml").read_text(encoding="utf-8"))


def labels(lang: str) -> Labels:
    """The labels of a language.

    Args:
        lang: "en" or "zh".

    Returns:
        Every visible text of the reports and the dashboard in that language, by key (read-only).

    Raises:
        ValueError: For any other language.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    return _by_language()[lang]
