"""Checks on a drafted answer before it may be sent: grounded, cited, short, polite, and
free of what no customer may read (template syntax, placeholders, internal ids: the copy
check every customer-facing text passes) (pure)."""

from __future__ import annotations

import re

from shared.core.copy_check import copy_problems

_URL = re.compile(r"https?://[^\s)\]>]+")
_FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
_CITATION = re.compile(r"\[(\d+)\]")
_RUDE = ("stupid", "idiot", "shut up", "your fault", "calm down")
_PROMISES = ("we guarantee", "we promise", "guaranteed", "100%", "will definitely")


def validate_answer(answer: str, sources: list[str], max_chars: int = 1200) -> list[str]:
    """Problems with the answer (empty when it may be sent).

    `sources` are the retrieved passages in citation order: [1] is sources[0].
    """
    problems = []
    if not answer.strip():
        return ["empty answer"]
    if len(answer) > max_chars:
        problems.append(f"too long ({len(answer)} > {max_chars} characters)")
    cited = {int(n) for n in _CITATION.findall(answer)}
    if not cited:
        problems.append("no citation")
    missing = sorted(n for n in cited if not 1 <= n <= len(sources))
    if missing:
        problems.append(f"cites passages that were not retrieved: {missing}")
    corpus = " ".join(sources)
    uncited_text = _CITATION.sub("", answer)
    for url in _URL.findall(uncited_text):
        if url.rstrip(".,;") not in corpus:
            problems.append(f"URL not in the sources: {url}")
    for figure in _FIGURE.findall(_URL.sub("", uncited_text)):
        if figure not in corpus:
            problems.append(f"figure not in the sources: {figure}")
    lowered = answer.lower()
    for phrase in _PROMISES:
        if phrase in lowered and phrase not in corpus.lower():
            problems.append(f"promise not in the sources: {phrase!r}")
    for phrase in _RUDE:
        if phrase in lowered:
            problems.append(f"tone: {phrase!r}")
    problems.extend(copy_problems(uncited_text, quoted=corpus))
    return problems
