"""The tracking API: what a host application sends about its users, and their profiles.

    keys.py      API keys, their tiers and daily quotas (CONTROLROOM_TRACKING_KEYS), and how a
                 request proves it holds one (Bearer, or Basic with the key as user name)
    models.py    the request bodies (track, identify, batch), the event published on the
                 `events` topic, and the profile documents
    ingest.py    accept a request: authenticate, validate, count against the quota, publish
    quota.py     the quota port and its sharded Firestore counter
    profiles.py  apply events to profiles, each at most once (and its Firestore adapter)
    web.py       the /v1/... routes of the webhooks function

Pure modules (keys, models, ingest, the logic of profiles) import no cloud client; the
Firestore code sits in the adapters `quota.FirestoreQuota` and `profiles.FirestoreProfiles`.
"""
