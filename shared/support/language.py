"""Which language a customer wrote in (py3langid's model, shipped in its package).

Short messages are ambiguous ("refund?" reads as German at 17%), so a language other than
the default is reported only when the model is sure of it; otherwise the message counts as
written in the thread's language, or the default. The candidates are the languages a
European shop's customers write in; the model knows 97, but an open choice between all of
them mislabels short English messages as Danish or Latin.
"""

from __future__ import annotations

from functools import cache
from typing import Any

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "fi": "Finnish",
    "cs": "Czech",
    "ro": "Romanian",
    "el": "Greek",
    "hu": "Hungarian",
    "tr": "Turkish",
}
MIN_PROBABILITY = 0.9


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(LANGUAGE_NAMES))
    return identifier


def detect_language(text: str, default: str = "en") -> str:
    """The ISO 639-1 code of the text's language, or `default` when the model is not sure."""
    if not text.strip():
        return default
    language, probability = _identifier().classify(text)
    return str(language) if probability >= MIN_PROBABILITY else default


def language_name(code: str) -> str:
    """The English name of a language code ("de" -> "German"), or the code itself."""
    return LANGUAGE_NAMES.get(code, code)
