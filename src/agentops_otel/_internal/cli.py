"""The ``agentops-otel`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentops-otel", description="Sessions for AI agents on OpenTelemetry.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the offline demo agent and show its sessions")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from agentops_otel._internal.demo import run_demo

        return run_demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
