"""agent-support and support-messages: the support agent, deployed as two functions.

agent-support runs the support agent's workflow tasks (topic agent-support). support-messages
answers customers: each message from the site chat, TikTok, LinkedIn or Zendesk (topic
support-messages) is answered from the knowledge base, or handed off to a person.
"""

import logging
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent

from shared.agents.support_conversation import SupportContext
from shared.app.answer_message import answer_support_message
from shared.core.agent_settings import resolve_agent_settings
from shared.core.envelope import Delivery, parse_message
from shared.core.messages import SupportMessage
from shared.core.models import utcnow
from shared.wiring import services as wiring
from shared.wiring.functions import consume_event, handle_agent_event, support_graph
from shared.wiring.support import send_offline_answers

logger = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_task(event: CloudEvent) -> None:
    """Run one support task; returning acks it, raising asks Pub/Sub to redeliver it."""
    handle_agent_event(event, agent="support")


@functions_framework.cloud_event
def on_support_message(event: CloudEvent) -> None:
    """Answer one customer message, or hand it off; each message is handled once."""
    consume_event(event, "support-messages", _answer)


def _answer(delivery: Delivery) -> None:
    message = parse_message(delivery, SupportMessage)
    svc = wiring.services()
    settings = resolve_agent_settings("support_reply", svc.store)
    context = SupportContext(kb=wiring.knowledge_base(), llm=wiring.llm(), settings=settings)

    def decide(text: str, thread: list[dict[str, str]]) -> dict[str, Any]:
        state: dict[str, Any] = support_graph().invoke(
            {"question": text, "thread": thread}, context=context
        )
        return state

    decision = answer_support_message(
        message,
        conversations=wiring.conversations(),
        decide=decide,
        clock=utcnow,
        replies=wiring.reply_sender,
        notifier=wiring.notifier(),
        tickets=wiring.escalation_tickets(),
        send_offline=send_offline_answers(
            svc.settings.model_dump(), svc.settings.support_send_offline_answers
        ),
        articles_url=svc.settings.kb_articles_url,
        sales_next_step=str(settings.policy.values.get("sales_next_step") or "") or None,
    )
    logger.info("support message %s: %s", delivery.message_id, decision.action)
