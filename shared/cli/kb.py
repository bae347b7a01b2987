"""`controlroom kb ...`: ingest a directory of articles into Firestore, or try a search.

    controlroom kb ingest DIR [--embedder auto|none|hashing|openai|vertex|local]
    controlroom kb search "where is my parcel" [-k 3] [--dir DIR]

Firestore is found as the official client finds it: FIRESTORE_EMULATOR_HOST for the emulator,
GOOGLE_CLOUD_PROJECT for the project. `search --dir DIR` needs neither: it reads the articles
of DIR into memory and searches them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, cast

from google.auth.exceptions import DefaultCredentialsError

from shared.kb.ingest import ChunkingOptions, ingest_directory
from shared.kb.memory import InMemoryKnowledgeStore
from shared.kb.retrieval import KnowledgeBase
from shared.wiring.kb import (
    EMBEDDER_KINDS,
    EmbedderKind,
    build_embedder,
    knowledge_store,
)
from shared.wiring.settings import get_settings


def add_kb_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `kb` command (with `ingest` and `search`) to an argparse subparsers object."""
    kb: argparse.ArgumentParser = subparsers.add_parser(
        "kb",
        help="the support agent's knowledge base",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = kb.add_subparsers(dest="kb_command", required=True)
    ingest = commands.add_parser(
        "ingest", help="index a directory of .md/.html/.txt articles (only changes are written)"
    )
    ingest.add_argument("directory", type=Path)
    ingest.add_argument("--max-chars", type=int, default=ChunkingOptions.max_chars)
    ingest.add_argument("--overlap", type=int, default=ChunkingOptions.overlap_chars)
    search = commands.add_parser("search", help="show the best chunks for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=3)
    search.add_argument(
        "--dir", type=Path, help="search this folder of articles, in memory (no Firestore)"
    )
    for command in (ingest, search):
        command.add_argument(
            "--embedder",
            choices=EMBEDDER_KINDS,
            default="auto",
            help="auto: OpenAI if a key is set, else Vertex AI if a location is, else none",
        )
        command.add_argument("--embedding-model", help="model name for openai/vertex/local")
        command.add_argument("--dimensions", type=int, help="vector size, where adjustable")
    return kb


def run_kb(args: argparse.Namespace) -> int:
    """Run a parsed `kb` command; the exit status."""
    settings = get_settings()
    kind = cast(EmbedderKind, args.embedder)
    embedder = build_embedder(settings, kind, args.embedding_model, args.dimensions)
    if args.kb_command == "search" and args.dir is not None:
        if not args.dir.is_dir():
            print(f"kb search: not a directory: {args.dir}", file=sys.stderr)
            return 2
        memory = InMemoryKnowledgeStore()
        ingest_directory(args.dir, memory, embedder)
        return _print_hits(KnowledgeBase(memory, embedder), args.query, args.k)
    try:
        store = knowledge_store(settings)
        if args.kb_command == "search":
            return _print_hits(KnowledgeBase(store, embedder), args.query, args.k)
    except DefaultCredentialsError:
        print(
            "kb: no Firestore to use: start the local cloud (make local-cloud sets "
            "FIRESTORE_EMULATOR_HOST) or set GOOGLE_CLOUD_PROJECT with credentials; "
            "`kb search --dir DIR` searches a folder without either",
            file=sys.stderr,
        )
        return 2
    if args.kb_command == "ingest":
        if not args.directory.is_dir():
            print(f"kb ingest: not a directory: {args.directory}", file=sys.stderr)
            return 2
        options = ChunkingOptions(args.max_chars, args.overlap)
        report = ingest_directory(args.directory, store, embedder, options)
        for outcome in ("added", "updated", "removed"):
            for source in getattr(report, outcome):
                print(f"{outcome:8} {source}")
        print(report.summary())
        return 0
    return 0


def _print_hits(kb: KnowledgeBase, query: str, k: int) -> int:
    retrieval = kb.retrieve(query, k)
    print(f"confidence {retrieval.confidence:.2f}")
    for hit in retrieval.hits:
        print(f"{hit.rank}. {hit.score:.3f} {hit.chunk.source} [{hit.chunk.heading or '-'}]")
        print("   " + hit.chunk.text.replace("\n", "\n   "))
    return 0
