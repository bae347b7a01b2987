"""What both LinkedIn clients (messaging, ads) send: the API version they were written for."""

from __future__ import annotations

LINKEDIN_API_VERSION = "202510"
