"""Firestore document shapes of support conversations, and the message that carries one in.

conversations/{key}                      one thread with one customer on one platform
conversations/{key}/messages/{id}        what the customer, the agent or a person wrote
inbound/{platform}:{platform_message_id} idempotency of webhook deliveries
tickets/{id}                             escalations (the local helpdesk)
notifications/{id}                       what would be posted to Slack (the local notifier)
"""

from __future__ import annotations
