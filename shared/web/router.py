"""Route tables of the status function: each page-family module records its handlers on its
own `Routes` table (method, path pattern, the scope a caller needs, the OpenAPI paths it
serves); `shared.web.status` joins the tables in one tuple and dispatches."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import flask

Handler = Callable[..., flask.Response]


PUBLIC = "public"


@dataclass(frozen=True)
class Route:
    """One recorded route: who may call it and which documented paths it serves."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    scope: str  # "read", "act" or PUBLIC
    paths: tuple[str, ...]  # as OpenAPI path templates, e.g. "/runs/{run_id}"


_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()\\]|\\.|\((?!\?P<)[^()]*\))*\)")


def path_templates(pattern: str) -> tuple[str, ...]:
    """The OpenAPI path template of a route pattern: named groups become {name}."""
    template = _GROUP.sub(lambda m: "{" + m.group(1) + "}", pattern).replace("\\.", ".")
    if re.search(r"[()\[\]?*+\\|]", template):
        raise ValueError(f"route {pattern!r} needs explicit `paths` for its documentation")
    return (template,)


class Routes:
    """One module's route table, in the order its handlers were recorded; iterating it
    yields its `Route`s."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def route(
        self,
        method: str,
        pattern: str,
        *,
        scope: str | None = None,
        paths: Sequence[str] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Record a handler `(request, as_json, **groups) -> Response` for a path regex.

        `scope`: "read" (default for GET), "act" (default for other methods) or "public";
        the dispatcher checks it before the handler runs, and for a browser session's POST
        also the anti-forgery token. `paths`: the documented path templates, when the
        pattern is not just literals and named groups.
        """
        needed = scope or ("read" if method == "GET" else "act")
        if needed not in ("read", "act", PUBLIC):
            raise ValueError(f"unknown scope {needed!r}")

        def record(handler: Handler) -> Handler:
            documented = tuple(paths) if paths else path_templates(pattern)
            self._routes.append(Route(method, re.compile(pattern), handler, needed, documented))
            return handler

        return record

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)
