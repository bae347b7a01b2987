"""The tracking API: what a host application sends about its users, and their profiles.

    keys.py               API keys, their tiers and daily quotas (CONTROLROOM_TRACKING_KEYS),
                          and how a request proves it holds one (Bearer, or Basic with the key
                          as user name)
    models.py             the request bodies (track, identify, batch), the event published on
                          the `events` topic, and the profile documents
    ingest.py             accept a request: authenticate, validate, count against the quota,
                          publish
    profiles.py           apply events to profiles, each at most once
    segments.py           segment definitions (shared/policies/segments.yaml) and their rules
    membership.py         re-evaluate users' segments, store memberships, announce changes on
                          `segment-changes` (`update_segments`, `refresh_all_segments`)
    recommendations.py    popularity and item-to-item co-occurrence (`refresh_recommendations`)
    firestore.py          Firestore adapters: quota, profiles, recommendations
    firestore_segments.py Firestore adapter: segment memberships

The adapters are built from settings in shared/wiring/tracking.py, with
`refresh_segments_now()` and `refresh_recommendations_now()` (the two hourly jobs); the
/v1/... routes of the webhooks function are shared/web/tracking.py.

Pure modules (keys, models, ingest, profiles, segments, membership, recommendations) import
no cloud client; they take ports, which the firestore*.py adapters implement.
"""
