"""Tokenisation shared by the BM25 index and the hashing embedder.

bm25s' tokenizer does the work: lower-casing, its word pattern (two or more word characters)
and its default English stopword list ("en", 33 words). Its larger NLTK list ("en_plus",
179 words) was tried and retrieved slightly worse on the bundled evaluation set (hit@3 0.84
against 0.87): words such as "where", "how" and "not" carry some meaning in support questions,
and BM25's IDF already weighs frequent words down.

On top, `light_stem` folds the common English inflections (plural -s/-es/-ies, -ed, -ing) so
that "refunded", "refunds" and "refund" meet, without a stemmer dependency. It is deliberately
conservative: it only strips suffixes, never rewrites stems the way Porter does, and it is the
same function for documents and queries, which is all BM25 needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import bm25s

STOPWORDS = "en"
_VOWELS = frozenset("aeiouy")
# After stripping -ed/-ing, a doubled final consonant is undoubled ("shipped" -> "ship"),
# except these, which English doubles in the stem itself ("bill", "pass", "buzz").
_KEEP_DOUBLE = frozenset("lsz")


def light_stem(word: str) -> str:
    """Strip one inflectional suffix; words of three letters or fewer are left alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and _VOWELS & set(stem):
            return _normalise_stem(stem)
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) == 4:  # only plurals: "rugs", "days", "fees"
        return word[:-1] if word.endswith("s") and not word.endswith(("ss", "us", "is")) else word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return _normalise_stem(word[:-1])
    return _normalise_stem(word)


def _normalise_stem(stem: str) -> str:
    # "charge", "charged", "charges", "charging" all end as "charg"; British "cancelled" and
    # "cancel" meet because long stems ending in "ll" lose one "l" whether suffixed or not.
    if len(stem) >= 6 and stem.endswith("ll"):
        return stem[:-1]
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | _KEEP_DOUBLE:
        return stem[:-1]
    if len(stem) > 3 and stem.endswith("e"):
        return stem[:-1]
    return stem


def stem_words(words: list[str]) -> list[str]:
    """`light_stem` over a list (the shape bm25s.tokenize calls a stemmer with)."""
    return [light_stem(word) for word in words]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default pattern


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.tokenization import _infer_stopwords

    return frozenset(_infer_stopwords(STOPWORDS))


def tokenize_one(text: str) -> list[str]:
    """The tokens `tokenize` gives one text, without bm25s's batch machinery (a query is
    one short text, and building a vocabulary and progress bars for it cost more than the
    search); the same split, stopwords and stemmer, as a test checks."""
    stopwords = _stopwords()
    return [light_stem(token) for token in _TOKEN.findall(text.lower()) if token not in stopwords]


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed, stopword-free tokens of each text, with bm25s' tokenizer."""
    if not texts:
        return []
    tokens = bm25s.tokenize(
        list(texts),
        stopwords=STOPWORDS,
        stemmer=stem_words,
        return_ids=False,
        show_progress=False,
    )
    return [list(doc) for doc in tokens]
