"""The `controlroom` command: the local cloud, the demo, and the topology export."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from emulators.cloud import LocalCloud, LocalCloudConfig
from shared.core.topology import TOPOLOGY

TOPOLOGY_JSON = Path("infra/terraform/topology.json")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="controlroom", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("local-cloud", help="start the local cloud and keep it up until Ctrl-C")
    demo = commands.add_parser("demo", help="run the weekly report end to end in the local cloud")
    demo.add_argument("--once", action="store_true", help="exit when the run has finished")
    demo.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the run")
    topo = commands.add_parser("topology", help="write the topology JSON that Terraform reads")
    topo.add_argument("--output", type=Path, default=TOPOLOGY_JSON)
    from shared.cli.analytics import add_analyze_parser, run_analyze
    from shared.cli.data import add_data_parser, run_data
    from shared.cli.kb import add_kb_parser, run_kb
    from shared.cli.support_eval import add_support_parser, run_support

    add_analyze_parser(commands)
    add_data_parser(commands)
    add_kb_parser(commands)
    add_support_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "analyze":
        return run_analyze(args)
    if args.command == "kb":
        return run_kb(args)
    if args.command == "data":
        return run_data(args)
    if args.command == "support":
        return run_support(args)
    if args.command == "topology":
        args.output.write_text(TOPOLOGY.to_json())
        print(f"wrote {args.output}")
        return 0
    if args.command == "local-cloud":
        return _serve(start_cloud())
    from emulators.demo import run_demo

    cloud = start_cloud()
    try:
        ok = run_demo(cloud, timeout_s=args.timeout)
    except BaseException:
        cloud.stop()
        raise
    if args.once:
        cloud.stop()
        return 0 if ok else 1
    return _serve(cloud)


def start_cloud() -> LocalCloud:
    """Bring the local cloud up and print where everything is."""
    print("starting the local cloud (Firestore + Pub/Sub emulators, functions, scheduler)...")
    started = time.monotonic()
    from emulators.demo import DEMO_TRACKING_KEYS, seed_knowledge_base

    # A tracking key for the demo's host-app events, unless the caller configured their own.
    tracking = {} if "CONTROLROOM_TRACKING_KEYS" in os.environ else DEMO_TRACKING_KEYS
    # Sweep every 15 s (tasks unanswered for 20 s sent again): a message the Pub/Sub emulator
    # lost on a restart is recovered within a minute instead of at the next 5-minute sweep.
    config = LocalCloudConfig(
        function_env={"webhooks": tracking},
        sweep_period_s=float(os.environ.get("CONTROLROOM_SWEEP_PERIOD_S", "15")),
    )
    cloud = LocalCloud(config).start()

    print(f"knowledge base: {seed_knowledge_base(cloud)}")
    print(f"local cloud up in {time.monotonic() - started:.1f}s:")
    print(json.dumps(cloud.urls(), indent=2))
    print(f"logs: {cloud.log_dir.resolve()}")
    return cloud


def _serve(cloud: LocalCloud) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"\nstatus page: {cloud.status_url}/runs   (Ctrl-C stops everything)")
    stop.wait()
    print("stopping the local cloud...")
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
