"""``hedgesim schema``: the scenario JSON Schema (editors use it to complete and check files)."""

from __future__ import annotations

import argparse
import json


def add_command(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema."""
    from sim.scenario.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0
