"""The ``agentops-otel`` command."""

from __future__ import annotations

import argparse
import sys
from importlib.util import find_spec

DEMO_NEEDS = {"agentops_otel_standin": "agentops-otel-standin", "openai": "openai",
              "agentops_otel_openai": "agentops-otel-openai"}
"""What the demo imports beyond the core (module -> distribution): the ``demo`` extra installs them."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentops-otel", description="Sessions for AI agents on OpenTelemetry.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the offline demo agent and show its sessions")
    args = parser.parse_args(argv)
    if args.command == "demo":
        missing = [distribution for module, distribution in DEMO_NEEDS.items() if find_spec(module) is None]
        if missing:
            print(f"agentops-otel demo needs {', '.join(missing)}, not installed here: "
                  "pip install 'agentops-otel[demo]'", file=sys.stderr)
            return 2
        from agentops_otel._internal.demo import run_demo

        return run_demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
