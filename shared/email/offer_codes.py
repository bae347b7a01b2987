"""The discount code a campaign email promises: one per customer and run, the same on every
redelivery, impossible to guess from another customer's.

code = PREFIX-XXXX-XXXX, the eight characters drawn from HMAC-SHA256(secret, "offer:" +
run id + ":" + customer id) in an alphabet without look-alikes (no 0/O, 1/I/L, U), so a
customer can type it from a printed page. 30^8 (6.6 x 10^11) codes: a guess hits one of a
campaign's 500 codes about once in a billion tries. The run's campaign.csv lists every code
with its customer and expiry, for the shop to load into its checkout.
"""

from __future__ import annotations

import hashlib
import hmac

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_CHARS = 8
PREFIX = "BACK"


def offer_code(secret: bytes, run_id: str, customer_id: str, prefix: str = PREFIX) -> str:
    """The run's code for one customer, e.g. BACK-7KQ2-M9XD."""
    digest = hmac.new(secret, f"offer:{run_id}:{customer_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(CODE_CHARS):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return f"{prefix}-{''.join(chars[:4])}-{''.join(chars[4:])}"
