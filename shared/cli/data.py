"""`controlroom data check`: what the agents will find in the configured business data.

    controlroom data check            # the source CONTROLROOM_DATA_SOURCE names
    controlroom data check --json

Prints each kind of data (rows, first and last date, currency, or missing) and which report
sections will be empty or partial, and why. Exit status 0 when the source was read (missing
kinds are reported, not errors), 1 when it cannot be read, with the source and the reason.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, cast

from shared.app.data_check import DataCheck, check_dataset
from shared.core.ports import DataSource

EXIT_UNREADABLE = 1
NO_FIGURE = "\u2013"


def add_data_parser(subparsers: Any) -> None:
    """Register `data check` on the console script's subcommands."""
    data = cast(argparse.ArgumentParser, subparsers.add_parser("data", help="the business data"))
    commands = data.add_subparsers(dest="data_command", required=True)
    check = commands.add_parser("check", help="what each kind of data holds, and what is missing")
    check.add_argument("--json", action="store_true", help="print the check as JSON")


def configured_source() -> tuple[str, Callable[[], DataSource]]:
    """The source the settings name (sample, csv, stripe), as a person would look for it, and
    how to build it (which may fail: a setting missing, a folder that is not there)."""
    from shared.wiring.services import data_source
    from shared.wiring.settings import get_settings

    settings = get_settings()
    if settings.data_source != "csv":
        return settings.data_source, data_source
    folder = settings.data_csv_dir

    def csv_source() -> DataSource:
        if folder is not None and not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder")
        return data_source()

    return f"csv files in {folder}", csv_source


def run_data(
    args: argparse.Namespace,
    source: Callable[[], tuple[str, Callable[[], DataSource]]] = configured_source,
) -> int:
    """Read the source once and print the check; 1 (and why) when it cannot be read."""
    name, build = source()
    try:
        dataset = build().load()
    except Exception as exc:  # any failure to read is the answer: name the source and why
        print(f"controlroom data check: {name} cannot be read: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    check = check_dataset(dataset, name)
    print(check.model_dump_json(indent=2) if args.json else render(check))
    return 0


def render(check: DataCheck) -> str:
    """The check as a table a person reads."""
    lines = [f"source: {check.source}, data as of {check.as_of.isoformat()}"]
    if check.cached_because:
        lines.append(f"  (an earlier copy: {check.cached_because})")
    lines.append("")
    lines.append(f"{'kind':<15}{'rows':>8}  {'from':<12}{'to':<12}currency")
    for kind in check.kinds:
        if kind.state == "missing":
            lines.append(f"{kind.kind:<15}{NO_FIGURE:>8}  missing")
            continue
        first = kind.first.isoformat() if kind.first else NO_FIGURE
        last = kind.last.isoformat() if kind.last else NO_FIGURE
        lines.append(
            f"{kind.kind:<15}{kind.rows:>8,}  {first:<12}{last:<12}{kind.currency or NO_FIGURE}"
        )
    lines.append("")
    lines.append("the weekly report and the campaigns:")
    for section in check.sections:
        lines.append(f"  {section.section:<17}{section.outlook:<9}{section.why}")
    return "\n".join(lines)
