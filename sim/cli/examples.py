"""``hedgesim examples [--copy DIR]``: the shipped example scenarios and sweeps, listed or copied
where they can be run and edited (``hedgesim run DIR/toy_triangle.yaml``)."""

from __future__ import annotations

import argparse


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "examples",
        help="list the shipped example scenarios, or copy them into a folder",
        description="List the example scenarios and sweeps shipped with hedgesim, or copy them "
        "into DIR (never replacing a file that differs).",
    )
    p.add_argument("--copy", metavar="DIR", help="copy the examples into DIR")
    p.set_defaults(func=cmd_examples)


def cmd_examples(args: argparse.Namespace) -> int:
    """List the examples, or copy them."""
    from sim.scenario.examples import copy_examples, examples, examples_dir

    if args.copy:
        written = copy_examples(args.copy)
        for path in written:
            print(path)
        print(f"{len(written)} example file(s) copied into {args.copy}")
        return 0
    root = examples_dir()
    for path in examples():
        print(path.relative_to(root))
    print(f"(in {root}; hedgesim examples --copy DIR copies them)")
    return 0
