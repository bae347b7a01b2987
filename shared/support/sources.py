"""The sources under a support answer: each article the answer cites, by its number, title
and (when the help centre is public) its link (pure).

    How long do refunds take? -> "... within 3 business days [1].

    Sources:
    [1] Refunds: https://help.northwind.example/articles/refunds"

An article's link is the help centre's base URL (CONTROLROOM_KB_ARTICLES_URL) followed by the
article's file name without its extension, the way help centres publish one page per article
(`refunds.md` -> `.../refunds`). Without a base URL the title alone is given. Only cited
passages are listed, each article once, in the order of their numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

SOURCES_HEADING = "Sources:"


def article_url(base_url: str, source: str) -> str:
    """The public page of the article stored as `source` (a file name or path)."""
    slug = PurePosixPath(source).with_suffix("").as_posix()
    return f"{base_url.rstrip('/')}/{quote(slug)}"


def with_sources(answer: str, passages: Sequence[Mapping[str, Any]], base_url: str | None) -> str:
    """`answer` with a line per cited article under it; unchanged when it cites none."""
    lines, seen = [], set()
    for passage in sorted(passages, key=lambda p: int(p["n"])):
        if f"[{passage['n']}]" not in answer or passage["source"] in seen:
            continue
        seen.add(passage["source"])
        title = str(passage.get("title") or PurePosixPath(str(passage["source"])).stem)
        link = f": {article_url(base_url, str(passage['source']))}" if base_url else ""
        lines.append(f"[{passage['n']}] {title}{link}")
    if not lines or SOURCES_HEADING in answer:
        return answer
    return f"{answer.rstrip()}\n\n{SOURCES_HEADING}\n" + "\n".join(lines)
