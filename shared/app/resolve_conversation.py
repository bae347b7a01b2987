"""Use cases: a person answers an escalated conversation, then approves the answer for the KB.

Documents written (besides those of shared/support/records.py):
    conversations/{key}/messages/resolve-{ticket}  the person's answer (role "human")
    runs/support-{message}/effects/resolve         the answer's effect record (shared.core.effects)
    tickets/{ticket}                               status "solved", `resolution` (Resolution)
    conversations/{key}                            status "resolved", resolved_by, resolved_at
    kb_drafts/{ticket}                             KbDraftDoc: the answer as a candidate article

Guarantees:
- resolve: the effect mechanism of every side effect (shared.core.effects), keyed by the escalated
  message's run and the step "resolve": the answer is recorded as the intent, the platform's
  ReplySender sends it (idempotency key "resolve:{ticket}"), then the "done" mark, the answer,
  the solved ticket, the resolved conversation and the draft are written in one batch that
  creates the message and the draft, so of two racing resolves only one commits. Locally (the
  site chat, or a vendor without credentials) the thread is the delivery, so the answer goes
  out exactly once; a vendor without dedupe is at-least-once, as for the agent's replies. A
  resolve of a solved ticket (or of one whose effect is done) sends and writes nothing; a
  retry after a crash between intent and batch sends the text recorded first.
- approve: the draft's article is saved through the KnowledgeStore under a stable id (a hash of
  `kb_drafts/{id}.md`), then the draft is marked approved; a crash between the two is healed by
  approving again (the same article is saved again). An approved draft is never saved again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from shared.core.documents import EffectRecord, KbDraftDoc, MessageDoc, Resolution
from shared.core.effects import perform_once, support_run_id
from shared.core.envelope import describe_validation_error
from shared.core.errors import ConflictError, InvalidRequestError, NotFoundError
from shared.core.messages import MAX_TEXT_CHARS
from shared.core.ports import ConversationStore

if TYPE_CHECKING:
    # The knowledge base (bm25s, markdown-it, BeautifulSoup) is imported only when a draft is
    # approved: the document shapes here are also read by the conversations adapter, which
    # the webhooks function loads.
    from shared.kb.embeddings import Embedder
    from shared.kb.models import Article
    from shared.kb.ports import KnowledgeStore
    from shared.support.outbound import ReplySender

MAX_NAME_CHARS = 100
MAX_TITLE_CHARS = 200
DEFAULT_ACTOR = "status page"
_WHITESPACE = re.compile(r"\s+")


# --- documents -------------------------------------------------------------------------


# --- request bodies --------------------------------------------------------------------

Actor = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]


class ResolveRequest(BaseModel):
    """The body of POST /conversations/{key}/resolve (form fields or a JSON object)."""

    model_config = ConfigDict(extra="forbid")
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)
    ]
    resolved_by: Actor = DEFAULT_ACTOR


class ApproveRequest(BaseModel):
    """The body of POST /kb/drafts/{id}/approve (optional)."""

    model_config = ConfigDict(extra="forbid")
    approved_by: Actor = DEFAULT_ACTOR


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], fields: dict[str, object]) -> M:
    """The request body as `model`, or InvalidRequestError naming what is wrong."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc)) from exc


# --- resolve ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolveOutcome:
    """What a resolve did: `changed` is False when the conversation was resolved before."""

    conversation_key: str
    ticket_id: str
    draft_id: str
    changed: bool


def resolve_conversation(
    key: str,
    request: ResolveRequest,
    *,
    conversations: ConversationStore,
    replies: Callable[[str], ReplySender],
    clock: Callable[[], datetime],
) -> ResolveOutcome:
    """Send a person's answer to an escalated conversation once, solve its ticket, draft a KB
    article from it."""
    conversation = conversations.get_conversation(key)
    if conversation is None:
        raise NotFoundError(f"no conversation {key!r}")
    if conversation.ticket_id is None:
        raise ConflictError(f"conversation {key!r} was never escalated; nothing to resolve")
    ticket = conversations.get_ticket(conversation.ticket_id)
    if ticket is None:
        raise ConflictError(f"conversation {key!r} names a ticket that does not exist")
    unchanged = ResolveOutcome(key, ticket.ticket_id, ticket.ticket_id, changed=False)
    if ticket.status == "solved":
        return unchanged
    question = next(
        (m.text for m in conversations.list_messages(key) if m.message_id == ticket.message_id),
        None,
    )
    if question is None:
        raise ConflictError(f"ticket {ticket.ticket_id!r} names a message not in the thread")
    platform = key.partition(":")[0]
    reply_id = f"resolve-{ticket.ticket_id}"

    def send(record: EffectRecord) -> dict[str, object]:
        # The ticket names the inbound id "platform:id"; the platform knows the message by its id.
        replies(platform).send_reply(
            key,
            ticket.message_id.removeprefix(f"{platform}:"),
            _answer(record, request),
            f"resolve:{ticket.ticket_id}",
        )
        return {"message": reply_id}

    def record_resolution(record: EffectRecord, result: object) -> None:
        now = clock()
        answer = _answer(record, request)
        reply = MessageDoc(
            message_id=reply_id, role="human", text=answer, at=now, in_reply_to=ticket.message_id
        )
        resolution = Resolution(
            ticket_id=ticket.ticket_id,
            message_id=reply_id,
            resolved_by=request.resolved_by,
            resolved_at=now,
        )
        draft = KbDraftDoc(
            draft_id=ticket.ticket_id,
            question=question,
            answer=answer,
            conversation_key=key,
            ticket_id=ticket.ticket_id,
            sources=ticket.sources,
            created_by=request.resolved_by,
            created_at=now,
        )
        conversations.complete_resolution(
            support_run_id(ticket.message_id), reply, resolution, draft, key, now
        )

    outcome = perform_once(
        conversations,
        support_run_id(ticket.message_id),
        "resolve",
        send,
        clock=clock,
        intent={"text": request.answer},
        complete=record_resolution,
    )
    return ResolveOutcome(key, ticket.ticket_id, ticket.ticket_id, changed=outcome.performed)


def _answer(record: EffectRecord, request: ResolveRequest) -> str:
    """The answer decided on the first attempt (a retry re-sends it, not a new text)."""
    return str((record.intent or {}).get("text", request.answer))


# --- approve ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApproveOutcome:
    """What an approval did: `changed` is False when the draft was approved before."""

    draft_id: str
    article_id: str
    changed: bool


def draft_article(draft: KbDraftDoc) -> Article:
    """The draft as a Markdown article: the question (on one line) as title, the answer as body."""
    from shared.kb.ingest import parse_article

    title = _WHITESPACE.sub(" ", draft.question).strip()[:MAX_TITLE_CHARS]
    markdown = f"# {title}\n\n{draft.answer.strip()}\n"
    return parse_article(f"kb_drafts/{draft.draft_id}.md", markdown.encode("utf-8"))


def approve_kb_draft(
    draft_id: str,
    request: ApproveRequest,
    *,
    conversations: ConversationStore,
    knowledge: KnowledgeStore,
    embedder: Embedder | None,
    clock: Callable[[], datetime],
) -> ApproveOutcome:
    """Write an approved draft into the knowledge base; approving again changes nothing.

    The article is embedded only when the knowledge base is, and with the same model: a save
    stamps the index with the article's embedding model, so saving a plain article into an
    embedded knowledge base would switch every search to lexical only.
    """
    from shared.kb.ingest import ChunkingOptions, chunk_article
    from shared.kb.models import StoredArticle

    draft = conversations.get_kb_draft(draft_id)
    if draft is None:
        raise NotFoundError(f"no knowledge-base draft {draft_id!r}")
    article = draft_article(draft)
    if draft.status == "approved":
        return ApproveOutcome(draft_id, draft.article_id or article.article_id, changed=False)
    indexed_with = knowledge.index_info().embedding_model
    model = embedder.name if embedder is not None else None
    if indexed_with is not None and indexed_with != model:
        raise ConflictError(
            f"the knowledge base is embedded with {indexed_with} but this deployment embeds "
            f"with {model or 'nothing'}; re-index with one embedder before approving"
        )
    options = ChunkingOptions()
    chunks = chunk_article(article, options)
    if not chunks:
        raise ConflictError(f"draft {draft_id!r} has no answer text to index")
    embeddings = (
        embedder.embed_documents([chunk.search_text for chunk in chunks])
        if embedder is not None and indexed_with is not None
        else None
    )
    record = StoredArticle(
        article_id=article.article_id,
        source=article.source,
        title=article.title,
        content_hash=article.content_hash,
        chunking=options.signature,
        embedding_model=model if embeddings is not None else None,
        chunk_count=len(chunks),
    )
    knowledge.save_article(record, chunks, embeddings)
    changed = conversations.mark_kb_draft_approved(
        draft_id, request.approved_by, article.article_id, clock()
    )
    return ApproveOutcome(draft_id, article.article_id, changed=changed)
