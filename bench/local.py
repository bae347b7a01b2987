"""The local servers the benchmarks measure: the official emulators and function processes.

`LocalServers` starts the Firestore and Pub/Sub emulators once per `make bench`, on first
use, and shares them with every suite that needs them (each suite starts from an empty
Firestore and drained subscriptions). Functions run as the local cloud runs them
(`emulators.functions.function_process`: the functions-framework command, gunicorn threads
from the function's concurrency, the same environment), ours from `shared/core/topology.py` and
the bare baselines from `bench/bare_function/main.py`.

The benchmarks measure the default configuration and never reach the internet: every
`CONTROLROOM_*` variable inherited from the caller's environment is dropped (an LLM key would
otherwise send prompts to a vendor) except the price and model tables, so LLMs are the
offline provider unless a case points the OpenAI provider at a local server itself.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import timestamp_pb2
from google.pubsub_v1 import types as pubsub_types

from emulators.cloud import DEFAULT_WEBHOOK_SECRETS, emulator_environment
from emulators.dispatcher import cloud_event_request
from emulators.functions import RunningFunction, function_process, wait_ready
from emulators.gcloud import RunningEmulator, reset_firestore, start_firestore, start_pubsub
from emulators.provision import provision_pubsub, purge_subscriptions
from shared.core.models import Message
from shared.core.topology import TOPOLOGY, Function, Trigger
from shared.security.signatures import sign_generic

PROJECT = "controlroom-bench"
API_TOKEN = "bench-token"
WEBHOOK_SECRETS = dict(DEFAULT_WEBHOOK_SECRETS)
BARE_SOURCE = "bench/bare_function"
BARE_HTTP = Function(
    name="bare-http",
    source=BARE_SOURCE,
    entry_point="ok",
    trigger=Trigger.HTTP,
    concurrency=TOPOLOGY.function("webhooks").concurrency,
)
BARE_EVENT = Function(
    name="bare-event",
    source=BARE_SOURCE,
    entry_point="ok_event",
    trigger=Trigger.PUBSUB,
    signature="cloudevent",
)
# Configuration that reaches nothing outside: the LLM cost suite prices with these.
KEPT_SETTINGS = frozenset({"CONTROLROOM_LLM_PRICES", "CONTROLROOM_LLM_OPENAI_MODELS"})
# Where a CloudEvent posted by hand says it came from (only its headers use it).
_EVENT_SUBSCRIPTION = TOPOLOGY.subscription("supervisor-runs")


def scrub_environment(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Drop every CONTROLROOM_* and *_EMULATOR_HOST variable but KEPT_SETTINGS; their names."""
    dropped = [
        name
        for name in list(environ)
        if (name.startswith("CONTROLROOM_") and name not in KEPT_SETTINGS)
        or name.endswith("_EMULATOR_HOST")
    ]
    for name in dropped:
        del environ[name]
    return sorted(dropped)


def bare_like(function: Function) -> Function:
    """The bare baseline with `function`'s signature and concurrency (so its server threads)."""
    bare = BARE_HTTP if function.signature == "http" else BARE_EVENT
    return bare.model_copy(update={"concurrency": function.concurrency})


class LocalServers:
    """The emulators (started on first use, then shared) and the functions started on them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.project = PROJECT
        self._emulators: tuple[RunningEmulator, RunningEmulator] | None = None

    @property
    def log_dir(self) -> Path:
        """Where every process started here writes its log."""
        return self.workdir / "logs"

    def emulators(self) -> tuple[RunningEmulator, RunningEmulator]:
        """Firestore and Pub/Sub with the topology provisioned; this process's clients use them."""
        if self._emulators is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(2) as pool:
                firestore = pool.submit(start_firestore, self.project, self.log_dir)
                pubsub = pool.submit(start_pubsub, self.project, self.log_dir)
                try:
                    self._emulators = (firestore.result(), pubsub.result())
                except BaseException:
                    for future in (firestore, pubsub):
                        if future.exception() is None:
                            future.result().stop()
                    raise
            os.environ.update(self.emulator_env)
            os.environ["CONTROLROOM_API_TOKEN"] = API_TOKEN
            os.environ["CONTROLROOM_WEBHOOK_SECRETS"] = json.dumps(WEBHOOK_SECRETS)
            _clear_settings_caches()
            provision_pubsub(self.project, TOPOLOGY)
        return self._emulators

    @property
    def emulator_env(self) -> dict[str, str]:
        """The variables that point clients at the running emulators."""
        assert self._emulators is not None, "the emulators are not started"
        firestore, pubsub = self._emulators
        return emulator_environment(firestore.host, pubsub.host, self.project)

    def function_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A function process's environment, as the local cloud builds it."""
        self.emulators()
        return {
            **os.environ,
            **self.emulator_env,
            "CONTROLROOM_API_TOKEN": API_TOKEN,
            "CONTROLROOM_WEBHOOK_SECRETS": json.dumps(WEBHOOK_SECRETS),
            "CONTROLROOM_STATUS_URL": "http://127.0.0.1:8080",
            # A bench sends everything from one loopback address and one token: the
            # per-caller rate limits would measure themselves.
            "CONTROLROOM_HTTP_RATE_LIMITS": json.dumps({"address": 0, "principal": 0}),
            **(extra or {}),
        }

    def describe_function(self, function: Function) -> RunningFunction:
        """The (not yet started) process serving `function` on these emulators."""
        return function_process(function, self.function_env(), self.log_dir)

    def start_function(self, function: Function) -> RunningFunction:
        """Start `function` and wait until its server answers."""
        running = self.describe_function(function)
        running.process.start()
        try:
            wait_ready(running)
        except BaseException:
            running.process.stop()
            raise
        return running

    def reset(self) -> None:
        """Empty Firestore and drop every message waiting on the topology's subscriptions."""
        firestore, _ = self.emulators()
        reset_firestore(firestore.host, self.project)
        purge_subscriptions(self.project, TOPOLOGY)

    def stop(self) -> None:
        """Stop the emulators if they were started."""
        if self._emulators is not None:
            for emulator in reversed(self._emulators):
                emulator.stop()
            self._emulators = None


def _clear_settings_caches() -> None:
    from shared.wiring import services as wiring
    from shared.wiring.settings import get_settings

    get_settings.cache_clear()
    for name in dir(wiring):
        cached = getattr(wiring, name)
        if callable(getattr(cached, "cache_clear", None)):
            cached.cache_clear()


# --- requests as the platforms and Eventarc send them -------------------------------------


def generic_webhook(message_id: str, text: str, now: int) -> tuple[bytes, dict[str, str]]:
    """A signed site-chat message (body and headers) for POST /webhooks/generic."""
    body = json.dumps(
        {
            "message_id": message_id,
            "conversation_id": f"conv-{message_id}",
            "user": {"id": f"visitor-{message_id}", "name": "Bench Visitor"},
            "text": text,
        }
    ).encode()
    headers = {
        **sign_generic(body, WEBHOOK_SECRETS["generic"], now),
        "Content-Type": "application/json",
    }
    return body, headers


def cloud_event(project: str, message: Message) -> tuple[dict[str, str], bytes]:
    """Headers and body of the CloudEvent the local cloud's delivery would POST for `message`."""
    published = timestamp_pb2.Timestamp()
    published.FromDatetime(datetime.now(UTC))
    received = pubsub_types.ReceivedMessage(
        ack_id="bench",
        message=pubsub_types.PubsubMessage(
            data=message.model_dump_json().encode(),
            attributes=message.attributes(),
            message_id=uuid.uuid4().hex,
            publish_time=published,
        ),
        delivery_attempt=1,
    )
    return cloud_event_request(project, _EVENT_SUBSCRIPTION, received)
