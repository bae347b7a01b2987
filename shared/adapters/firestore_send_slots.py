"""Platform send slots shared by every instance: send_slots/{platform}/slots/{k} on Firestore.

Time is cut into slots one interval long (60 / refill_per_minute s); slot k starts at k x interval.
A send claims the first free slot from `burst - 1` slots back (unused slots of the recent
past are the burst allowance) with `create()`, which fails when another instance holds it,
and waits until its slot starts. So all instances together send at most one per slot plus
the burst, whatever their number, and a caller over the limit waits (or, past
`max_wait_s`, is redelivered later): nothing is dropped.

Why not one document moved on in a transaction: transactions on one contended document are
pathological on the emulator (a contended attempt aborts after about 2 s; four processes
took 70 s for 40 sends) and the cloud sustains about one write per second per document.
`create()` of distinct documents is neither: a claim costs one query for the newest slot
and one create (more only when instances collide). Slots carry expire_at, the TTL field
(infra/terraform/firestore.tf), a day ahead. A vendor's 429 writes hold_until on
send_slots/{platform}, read before each claim.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.gcp.firestore import FirestoreAdapter
from shared.support.ratelimit import OutboundRateLimited, RateLimit

SEND_SLOTS = "send_slots"
SLOTS = "slots"
KEEP_SLOTS = timedelta(days=1)


class FirestoreSendSlots(FirestoreAdapter):
    """`SendSlots` on Firestore: the limit holds across processes."""

    def __init__(
        self,
        project_id: str,
        client: firestore.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(project_id, client)
        self._clock = clock

    def reserve(self, platform: str, limit: RateLimit, max_wait_s: float) -> float:
        """Claim the platform's next free slot; the seconds until it starts."""
        interval = 60.0 / limit.refill_per_minute
        platform_doc = self.client.collection(SEND_SLOTS).document(platform)
        slots = platform_doc.collection(SLOTS)
        now = self._clock()
        earliest = math.floor(now / interval) - (limit.capacity - 1)
        hold_until = (platform_doc.get(field_paths=["hold_until"]).to_dict() or {}).get(
            "hold_until"
        )
        if hold_until:
            earliest = max(earliest, math.ceil(hold_until / interval))
        newest = list(
            slots.where(filter=FieldFilter("k", ">=", earliest))
            .order_by("k", direction=firestore.Query.DESCENDING)
            .limit(1)
            .stream()
        )
        k = max(earliest, newest[0].get("k") + 1) if newest else earliest
        while True:
            wait = max(0.0, k * interval - now)
            if wait > max_wait_s:
                raise OutboundRateLimited(platform, wait)
            try:
                slots.document(str(k)).create({"k": k, "expire_at": datetime.now(UTC) + KEEP_SLOTS})
                return wait
            except gexc.AlreadyExists:
                k += 1  # another instance took it a moment ago

    def hold_off(self, platform: str, limit: RateLimit, seconds: float) -> None:
        """Let no instance send to the platform for `seconds`."""
        until = self._clock() + seconds
        ref = self.client.collection(SEND_SLOTS).document(platform)
        held = (ref.get(field_paths=["hold_until"]).to_dict() or {}).get("hold_until")
        if held is not None and held >= until:
            return
        ref.set({"hold_until": until}, merge=True)
