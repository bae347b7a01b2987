"""The whole local cloud, built from shared/topology: emulators, functions, delivery, scheduler."""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from emulators.dispatcher import SubscriptionPump
from emulators.functions import RunningFunction, function_process, start_function, wait_ready
from emulators.gcloud import RunningEmulator, reset_firestore, start_firestore, start_pubsub
from emulators.processes import free_port
from emulators.provision import provision_pubsub
from emulators.smtp_sink import SmtpSink
from emulators.sweep_ticker import SweepTicker
from shared.core.topology import TOPOLOGY, Topology, Trigger

logger = logging.getLogger(__name__)

DEFAULT_PROJECT = "controlroom-local"
DEFAULT_TOKEN = "local-dev-token"
PLATFORMS = ("tiktok", "linkedin", "zendesk", "stripe", "generic")
# Local-only signing secrets: the site chat page and the tests sign with these.
DEFAULT_WEBHOOK_SECRETS = {p: f"local-{p}-secret" for p in PLATFORMS}


@dataclass
class LocalCloudConfig:
    """How to bring the local cloud up."""

    project: str = DEFAULT_PROJECT
    api_token: str = DEFAULT_TOKEN
    webhook_secrets: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WEBHOOK_SECRETS))
    workdir: Path = Path(".local-cloud")
    topology: Topology = TOPOLOGY
    # Extra environment per function name, e.g. fault injection for one agent.
    function_env: dict[str, dict[str, str]] = field(default_factory=dict)
    scheduler: bool = True
    # The sweep at a local pace (emulators/sweep_ticker.py): every this many seconds, with
    # tasks unanswered for task_stall_s sent again. None: only the 5-minute schedule sweeps.
    sweep_period_s: float | None = None
    task_stall_s: int = 20


def emulator_environment(firestore_host: str, pubsub_host: str, project: str) -> dict[str, str]:
    """The variables that point the official clients at the emulators."""
    return {
        "FIRESTORE_EMULATOR_HOST": firestore_host,
        "PUBSUB_EMULATOR_HOST": pubsub_host,
        "GOOGLE_CLOUD_PROJECT": project,
    }


class LocalCloud:
    """Starts and stops every part of the local cloud, and restarts single functions."""

    def __init__(self, config: LocalCloudConfig | None = None) -> None:
        self.config = config or LocalCloudConfig()
        self.firestore: RunningEmulator | None = None
        self.pubsub: RunningEmulator | None = None
        self.functions: dict[str, RunningFunction] = {}
        self.pumps: dict[str, SubscriptionPump] = {}
        self.scheduler: object | None = None
        self.scheduler_address: str | None = None
        self.smtp: SmtpSink | None = None
        self.sweep_ticker: SweepTicker | None = None
        self._owns_emulators = True

    @property
    def trace_file(self) -> Path:
        """Where every function appends its finished spans, one JSON object a line."""
        return self.config.workdir / "traces.jsonl"

    @property
    def log_dir(self) -> Path:
        """Where every process writes its log."""
        return self.config.workdir / "logs"

    def start(self, emulators: tuple[RunningEmulator, RunningEmulator] | None = None) -> LocalCloud:
        """Emulators, topics and subscriptions, functions, push delivery, then the scheduler.

        Pass already running (Firestore, Pub/Sub) emulators to share them, as the test
        session does; this cloud then leaves them running when it stops.
        """
        self._owns_emulators = emulators is None
        try:
            self._start(emulators)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, emulators: tuple[RunningEmulator, RunningEmulator] | None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if emulators is not None:
            self.firestore, self.pubsub = emulators
        else:
            with ThreadPoolExecutor(2) as pool:
                firestore = pool.submit(start_firestore, self.config.project, self.log_dir)
                pubsub = pool.submit(start_pubsub, self.config.project, self.log_dir)
                self.firestore, self.pubsub = firestore.result(), pubsub.result()
        # The official clients in this process (provisioning, delivery, scheduler) read these.
        os.environ.update(self.emulator_env)
        provision_pubsub(self.config.project, self.config.topology)
        # Emails leave through SMTP to a sink that keeps every message (duplicates included).
        self.smtp = SmtpSink(self.config.workdir / "mailbox").start()
        self._start_functions()
        for sub in self.config.topology.subscriptions:
            if sub.push_function:
                self._start_pump(sub.name, sub.push_function)
        if self.config.sweep_period_s is not None:
            self.start_sweeping(self.config.sweep_period_s)
        if self.config.scheduler:
            from emulators.scheduler import SchedulerEmulator

            scheduler = SchedulerEmulator()
            self.scheduler_address = scheduler.start()
            self.scheduler = scheduler

    @property
    def emulator_env(self) -> dict[str, str]:
        """Environment pointing clients at this cloud's emulators."""
        assert self.firestore and self.pubsub, "the local cloud is not started"
        return emulator_environment(self.firestore.host, self.pubsub.host, self.config.project)

    @property
    def status_url(self) -> str:
        """Base URL of the status page."""
        return self.functions["status"].url

    @property
    def webhooks_url(self) -> str:
        """Base URL of the webhooks function."""
        return self.functions["webhooks"].url

    def _function_env(self, name: str) -> dict[str, str]:
        return {
            **os.environ,
            **self.emulator_env,
            "CONTROLROOM_API_TOKEN": self.config.api_token,
            "CONTROLROOM_WEBHOOK_SECRETS": json.dumps(self.config.webhook_secrets),
            "CONTROLROOM_STATUS_URL": self._status_url_for_env,
            "CONTROLROOM_EMAIL_PROVIDER": "smtp",
            "CONTROLROOM_SMTP_HOST": self.smtp.host if self.smtp else "127.0.0.1",
            "CONTROLROOM_SMTP_PORT": str(self.smtp.port if self.smtp else 2525),
            "CONTROLROOM_SMTP_RECEIVED_DIR": str((self.config.workdir / "mailbox").resolve()),
            "CONTROLROOM_ARTIFACT_STORE": "local",
            "CONTROLROOM_ARTIFACT_DIR": str((self.config.workdir / "artifacts").resolve()),
            "CONTROLROOM_TRACE_EXPORTER": "local",
            "CONTROLROOM_TRACE_FILE": str(self.trace_file.resolve()),
            **self._sweep_env,
            **self.config.function_env.get(name, {}),
        }

    def _start_functions(self) -> None:
        status_port = free_port()
        self._status_url_for_env = f"http://127.0.0.1:{status_port}"
        for function in self.config.topology.functions:
            port = status_port if function.name == "status" else None
            running = function_process(
                function, self._function_env(function.name), self.log_dir, port
            )
            self.functions[function.name] = start_function(running)
        with ThreadPoolExecutor(len(self.functions)) as pool:
            list(pool.map(wait_ready, self.functions.values()))

    def _start_pump(self, subscription: str, function: str) -> None:
        sub = self.config.topology.subscription(subscription)
        fn = self.config.topology.function(function)
        assert fn.trigger is Trigger.PUBSUB
        pump = SubscriptionPump(
            self.config.project,
            sub,
            target_url=lambda: self.functions[function].url + "/",
            parallelism=max(1, min(fn.max_instances * fn.concurrency, 8)),
        )
        pump.start()
        self.pumps[subscription] = pump

    def kill_function(self, name: str) -> None:
        """SIGKILL one function's process, as a crashed instance."""
        self.functions[name].process.kill()

    def restart_function(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Stop (if running) and start one function again on the same port."""
        old = self.functions[name]
        old.process.stop()
        env = {**self._function_env(name), **(extra_env or {})}
        running = function_process(old.function, env, self.log_dir, old.port)
        self.functions[name] = start_function(running)
        wait_ready(self.functions[name])

    def restart_pubsub(self) -> None:
        """Stop the Pub/Sub emulator and start it again on the same port, re-provisioned.

        The emulator keeps nothing on disk, so messages it held are gone (Pub/Sub in the cloud
        keeps them); publishers retry while it is down and the pumps resume pulling once the
        subscriptions exist again.

        A new emulator answers before it holds a topic or a subscription, which Pub/Sub in the
        cloud never does after an outage: a result published then is refused (no topic) or kept
        for nobody (a topic without its subscription yet), and the task that sent it was
        forgotten with the old emulator, so the run waits for the sweeper. The functions are
        held still (SIGSTOP) from the stop until the topology is whole again; publishers that
        were already retrying during the outage carry on against the new emulator.
        """
        assert self.pubsub is not None, "the local cloud is not started"
        port = int(self.pubsub.host.rsplit(":", 1)[1])
        self.pubsub.stop()
        functions = [fn.process for fn in self.functions.values()]
        for process in functions:
            process.pause()
        try:
            self.pubsub = start_pubsub(self.config.project, self.log_dir, port=port)
            provision_pubsub(self.config.project, self.config.topology)
        finally:
            for process in functions:
                process.resume()

    def reset(self) -> None:
        """Empty Firestore and re-create the Pub/Sub topology (between tests)."""
        assert self.firestore is not None
        reset_firestore(self.firestore.host, self.config.project)
        if self.smtp is not None:
            self.smtp.clear()

    def urls(self) -> dict[str, str]:
        """Every address a person or a client may want."""
        urls = {name: fn.url for name, fn in sorted(self.functions.items())}
        if self.firestore and self.pubsub:
            urls["firestore-emulator"] = self.firestore.host
            urls["pubsub-emulator"] = self.pubsub.host
        if self.scheduler_address:
            urls["scheduler-emulator (gRPC)"] = self.scheduler_address
        if self.smtp:
            urls["smtp-sink"] = f"smtp://{self.smtp.host}:{self.smtp.port}"
        return urls

    def hold_delivery(self, function: str) -> None:
        """Stop delivering to `function`: its messages wait in Pub/Sub (a fault to inject)."""
        for name, pump in list(self.pumps.items()):
            if self.config.topology.subscription(name).push_function == function:
                pump.request_stop()
                pump.stop()
                del self.pumps[name]

    def resume_delivery(self, function: str) -> None:
        """Deliver to `function` again after `hold_delivery`."""
        for sub in self.config.topology.subscriptions:
            if sub.push_function == function and sub.name not in self.pumps:
                self._start_pump(sub.name, function)

    @property
    def _sweep_env(self) -> dict[str, str]:
        # Only a cloud that sweeps at the local pace shortens the stall; otherwise the
        # setting's default holds (and the scheduler's 5-minute sweep uses it).
        if self.config.sweep_period_s is None:
            return {}
        return {"CONTROLROOM_TASK_STALL_S": str(self.config.task_stall_s)}

    def start_sweeping(self, period_s: float) -> None:
        """Publish the sweep job's message every `period_s` seconds (replacing any ticker)."""
        self.stop_sweeping()
        self.sweep_ticker = SweepTicker(self.config.project, self.config.topology, period_s)
        self.sweep_ticker.start()

    def stop_sweeping(self) -> None:
        """Stop the local sweep ticker, if one runs."""
        if self.sweep_ticker is not None:
            self.sweep_ticker.stop()
            self.sweep_ticker = None

    def stop(self) -> None:
        """Stop everything this cloud started, newest first."""
        self.stop_sweeping()
        if self.scheduler is not None:
            self.scheduler.stop()  # type: ignore[attr-defined]
        # Every pump's long poll ends within PULL_TIMEOUT_S; let them all wind down at once.
        for pump in self.pumps.values():
            pump.request_stop()
        for pump in self.pumps.values():
            pump.stop()
        with ThreadPoolExecutor(max(1, len(self.functions))) as pool:
            list(pool.map(lambda running: running.process.stop(), self.functions.values()))
        if self.smtp is not None:
            self.smtp.stop()
        if self._owns_emulators:
            for emulator in (self.pubsub, self.firestore):
                if emulator is not None:
                    emulator.stop()

    def describe(self) -> str:
        """The URLs as JSON, for printing."""
        return json.dumps(self.urls(), indent=2)
