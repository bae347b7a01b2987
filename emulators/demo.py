"""The main job: schedule the weekly report through the Cloud Scheduler API and watch it run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from google.cloud import scheduler_v1

from emulators.cloud import LocalCloud
from shared.adapters.firestore_conversations import FirestoreConversations
from shared.adapters.firestore_store import FirestoreStore
from shared.adapters.scheduler_client import scheduler_client
from shared.core.documents import RunDoc
from shared.core.topology import Schedule
from shared.security.signatures import sign_generic

LOCATION = "europe-west1"
DEMO_TRACKING_KEY = "local-demo-tracking-key"
DEMO_TRACKING_KEYS = {
    "CONTROLROOM_TRACKING_KEYS": json.dumps({"demo": {"key": DEMO_TRACKING_KEY, "tier": "pro"}})
}
# Host-app users of the growth demo: prospects at the local enrichment twin's companies.
DEMO_PROSPECTS = {"ann": "acme.test", "bob": "globex.test", "cy": "initech.test"}
DEMO_SHOPPERS = ("dee", "eve")


def scheduler_job(project: str, schedule: Schedule) -> scheduler_v1.Job:
    """The Cloud Scheduler job that a topology schedule becomes (Pub/Sub target)."""
    return scheduler_v1.Job(
        name=f"projects/{project}/locations/{LOCATION}/jobs/{schedule.name}",
        description=schedule.description,
        schedule=schedule.cron,
        time_zone=schedule.time_zone,
        pubsub_target=scheduler_v1.PubsubTarget(
            topic_name=f"projects/{project}/topics/{schedule.topic}",
            data=json.dumps(schedule.payload).encode(),
            attributes=schedule.attributes,
        ),
    )


def create_schedules(cloud: LocalCloud) -> list[str]:
    """Create every schedule of the topology through the official Cloud Scheduler client."""
    client = scheduler_client(cloud.scheduler_address)
    parent = f"projects/{cloud.config.project}/locations/{LOCATION}"
    names = []
    for schedule in cloud.config.topology.schedules:
        job = client.create_job(parent=parent, job=scheduler_job(cloud.config.project, schedule))
        names.append(job.name)
    return names


def wait_for_new_run(store: FirestoreStore, known: set[str], timeout_s: float) -> RunDoc:
    """The first run that appears and is not in `known`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for run in store.list_runs(limit=10):
            if run.run_id not in known:
                return run
        time.sleep(0.2)
    raise TimeoutError(f"no run appeared within {timeout_s}s")


def watch_run(store: FirestoreStore, run_id: str, timeout_s: float) -> RunDoc:
    """Print each timeline event as it appears until the run is finished."""
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for event in store.list_events(run_id):
            if event.event_id not in seen:
                seen.add(event.event_id)
                print(f"  {event.at:%H:%M:%S.%f}"[:-3] + f"  {event.type:<22} {event.message}")
        run = store.get_run(run_id)
        if run is not None and run.status.terminal:
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish within {timeout_s}s")


KB_ARTICLES = Path(__file__).resolve().parent.parent / "kb" / "articles"
SUPPORT_DEMO_MESSAGES = (
    ("demo-1", "How do I reset my password?"),
    ("demo-2", "Someone used my card without permission, this is fraud, help immediately!"),
)


def seed_knowledge_base(cloud: LocalCloud) -> str:
    """Ingest the bundled help-centre articles into the local Firestore."""
    from shared.adapters.firestore_kb import FirestoreKnowledgeStore
    from shared.kb.ingest import ingest_directory

    report = ingest_directory(KB_ARTICLES, FirestoreKnowledgeStore(cloud.config.project))
    articles = len(report.added) + len(report.updated) + len(report.unchanged)
    return f"{articles} articles, {report.chunks} chunks"


def send_chat_message(cloud: LocalCloud, message_id: str, text: str) -> str:
    """POST a signed site-chat message to the webhooks function; returns its conversation key."""
    body = json.dumps(
        {
            "message_id": message_id,
            "conversation_id": f"conv-{message_id}",
            "user": {"id": f"visitor-{message_id}", "name": "Demo Visitor"},
            "text": text,
        }
    ).encode()
    headers = {
        **sign_generic(body, cloud.config.webhook_secrets["generic"], int(time.time())),
        "Content-Type": "application/json",
    }
    response = httpx.post(
        f"{cloud.webhooks_url}/webhooks/generic", content=body, headers=headers, timeout=10
    )
    response.raise_for_status()
    return f"generic:conv-{message_id}"


def run_support_demo(cloud: LocalCloud, timeout_s: float = 60.0) -> bool:
    """Two site-chat messages: one answered from the knowledge base, one escalated."""
    conversations = FirestoreConversations(cloud.config.project)
    print("\nsupport conversations (site chat → webhooks → support agent):")
    ok = True
    for message_id, text in SUPPORT_DEMO_MESSAGES:
        key = send_chat_message(cloud, message_id, text)
        deadline = time.monotonic() + timeout_s
        conversation = conversations.get_conversation(key)
        while time.monotonic() < deadline and (
            conversation is None or conversation.status == "open"
        ):
            time.sleep(0.2)
            conversation = conversations.get_conversation(key)
        print(f"  customer: {text}")
        if conversation is None or conversation.status == "open":
            print("  (no answer in time)")
            ok = False
            continue
        if conversation.status == "escalated":
            reason, ticket = conversation.escalation_reason, conversation.ticket_id
            print(f"  → escalated to a person: {reason} (ticket {ticket})")
        for reply in (m for m in conversations.list_messages(key) if m.role == "agent"):
            print(f"  agent: {reply.text}\n         sources: {', '.join(reply.citations)}")
    return ok


def run_winback_demo(cloud: LocalCloud, timeout_s: float = 120.0) -> bool:
    """Start a small win-back campaign by API and follow it to its approval step."""
    store = FirestoreStore(cloud.config.project)
    response = httpx.post(
        f"{cloud.webhooks_url}/runs",
        json={"workflow": "winback", "params": {"max_customers": 5}},
        headers={"Authorization": f"Bearer {cloud.config.api_token}"},
        timeout=10,
    )
    response.raise_for_status()
    run_id = response.json()["run_id"]
    print(f"\nwin-back campaign {run_id} (insights → 5 drafts → finance → a person):")
    deadline = time.monotonic() + timeout_s
    run = store.get_run(run_id)
    while time.monotonic() < deadline and (run is None or run.status.value == "running"):
        time.sleep(0.25)
        run = store.get_run(run_id)
    approval = store.get_approval(run_id, "approve")
    if run is None or approval is None:
        print("  (it did not reach its approval in time)")
        return False
    estimate = approval.proposal.get("estimate") or {}
    roi = estimate.get("roi")
    back = f", each €1 spent brings €{1 + roi:.2f} back" if isinstance(roi, int | float) else ""
    print(
        f"  {approval.proposal.get('action')}; expected net value "
        f"€{estimate.get('net_value_cents', 0) / 100:,.2f}{back}"
    )
    print(f"  waiting for a person: {cloud.status_url}/runs/{run_id}/approvals/approve")
    return run.status.value == "waiting"


def send_growth_events(cloud: LocalCloud) -> None:
    """What a host app would send: prospects viewing pricing, shoppers filling carts."""
    from controlroom.sdk import Client

    client = Client(DEMO_TRACKING_KEY, cloud.webhooks_url, batch_size=50)
    for user, domain in DEMO_PROSPECTS.items():
        client.identify(user, {"plan": "free", "email": f"{user}@{domain}"})
    for user in DEMO_SHOPPERS:
        client.identify(user, {"plan": "free"})
    client.flush(timeout_s=30)
    for user in DEMO_PROSPECTS:
        for _ in range(2):
            client.track("Viewed Pricing", user_id=user, properties={"path": "/pricing"})
    for user in DEMO_SHOPPERS:
        for item in ("a", "b", "c"):
            client.track("Added to Cart", user_id=user, properties={"item_id": item})
    client.flush(timeout_s=30)
    client.shutdown()


def run_growth_demo(cloud: LocalCloud, timeout_s: float = 120.0) -> bool:
    """Send host-app events, then run the growth workflow to its approval step."""
    from shared.tracking.firestore_segments import FirestoreSegments

    store = FirestoreStore(cloud.config.project)
    send_growth_events(cloud)
    segments = FirestoreSegments(cloud.config.project, client=store.client)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(segments.members("pricing-intent")) < len(
        DEMO_PROSPECTS
    ):
        time.sleep(0.25)
    response = httpx.post(
        f"{cloud.webhooks_url}/runs",
        json={"workflow": "growth"},
        headers={"Authorization": f"Bearer {cloud.config.api_token}"},
        timeout=10,
    )
    response.raise_for_status()
    run_id = response.json()["run_id"]
    print(f"\ngrowth run {run_id} (segments → lead scores → brief → ad campaigns → a person):")
    run = store.get_run(run_id)
    while time.monotonic() < deadline and (run is None or run.status.value == "running"):
        time.sleep(0.25)
        run = store.get_run(run_id)
    approval = store.get_approval(run_id, "approve")
    if run is None or approval is None:
        print("  (it did not reach its approval in time)")
        return False
    leads = approval.proposal.get("leads") or {}
    top = (leads.get("top") or [{}])[0]
    print(f"  {leads.get('scored', 0)} leads scored; best: {top.get('user_id')} "
          f"({top.get('company')}, grade {top.get('grade')})")  # fmt: skip
    print(f"  {approval.proposal.get('action')}")
    print(f"  waiting for a person: {cloud.status_url}/runs/{run_id}/approvals/approve")
    return run.status.value == "waiting"


def run_demo(cloud: LocalCloud, timeout_s: float = 180.0) -> bool:
    """Create the schedule, run it now, follow the run; True when it succeeded."""
    store = FirestoreStore(cloud.config.project)
    known = {run.run_id for run in store.list_runs(limit=100)}
    job_names = create_schedules(cloud)
    weekly = next(name for name in job_names if name.endswith("/weekly-gtm"))
    print(
        f"\ncreated {len(job_names)} schedule(s) through the Cloud Scheduler API; "
        f"running {weekly} now"
    )
    started = time.monotonic()
    scheduler_client(cloud.scheduler_address).run_job(name=weekly)
    run = wait_for_new_run(store, known, timeout_s)
    print(f"run {run.run_id} started:")
    run = watch_run(store, run.run_id, timeout_s)
    print(f"\nrun {run.run_id} {run.status.value} in {time.monotonic() - started:.1f}s")
    if run.summary:
        print(f"summary: {run.summary}")
    for reason in run.failure_reasons:
        print(f"failure: {reason}")
    support_ok = run_support_demo(cloud)
    winback_ok = run_winback_demo(cloud)
    growth_ok = run_growth_demo(cloud)
    print(f"\nstatus page: {cloud.status_url}/runs/{run.run_id}")
    print(f"sign in at {cloud.status_url}/signin with the token {cloud.config.api_token!r}")
    return run.status.value == "succeeded" and support_ok and winback_ok and growth_ok
