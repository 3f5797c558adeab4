"""`finance-api bench`: the GraphQL API against a hand-written single-statement floor.

Only argparse is imported here: the floor server and the load driver import submodules of
this package and must stay light.
"""

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

EXIT_PARITY_FAILED = 2
EXIT_REQUEST_ERRORS = 3


def add_bench_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    bench = commands.add_parser(
        "bench",
        help="benchmark the API against a single-SQL-statement floor on synthetic data",
        description=(
            "Seed (or reuse) N synthetic members, start the API and a floor server (one"
            " hand-written SQL statement per request), check both return identical documents,"
            " then load each with a separate driver process and print a markdown table with"
            " the server's and the driver's CPU per request, against the goals."
        ),
    )
    configure_parser(bench)


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--members",
        type=_positive_int,
        default=10_000,
        metavar="N",
        help="synthetic members to seed or reuse (default 10000)",
    )
    parser.add_argument(
        "--duration",
        type=_positive_float,
        default=15.0,
        metavar="SECONDS",
        help="measured seconds per scenario and target (default 15)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=8,
        metavar="C",
        help="concurrent requests in flight (default 8)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="unmeasured seconds before each run (default 2)",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        default=None,
        metavar="PORT",
        help="API on PORT, floor on PORT+1 (default: free ports)",
    )
    parser.add_argument(
        "--max-requests",
        type=_positive_int,
        default=1_000_000,
        metavar="N",
        help="stop a run after N requests even before --duration",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=("agentContext", "members100"),
        dest="scenarios",
        metavar="NAME",
        help="run only this scenario (agentContext or members100; repeatable; default both)",
    )
    parser.add_argument(
        "--driver",
        choices=("python", "wrk"),
        default="python",
        help="load driver: the built-in raw-socket Python driver (default) or wrk, if installed"
        " (whole seconds only; ignores --max-requests)",
    )
    parser.add_argument(
        "--check-every",
        type=_positive_int,
        default=100,
        metavar="N",
        help="decode every Nth response in full (default 100; less often for long bodies)"
        " and one every 5 s; every"
        " response's status is checked and its body's head and tail scanned for GraphQL errors",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        dest="json_path",
        help="also write the results as JSON to PATH",
    )
    parser.set_defaults(handler=run_command)  # fmt: skip
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every child process is stopped by the `finally` blocks.
    raise KeyboardInterrupt


def run_command(args: argparse.Namespace) -> int:
    from graphql_api.bench.parity import ParityError
    from graphql_api.bench.runner import BenchOptions, run_bench

    options = BenchOptions(
        members=args.members,
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=max(0.0, args.warmup),
        port_base=args.port_base,
        json_path=args.json_path,
        max_requests=args.max_requests,
        driver=args.driver,
        check_every=args.check_every,
    )
    if args.scenarios:
        options = dataclasses.replace(options, scenarios=tuple(dict.fromkeys(args.scenarios)))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        rows = run_bench(options)
    except ParityError as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_PARITY_FAILED
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    errors = sum(row.errors for row in rows)
    if errors:
        print(f"bench: {errors} requests failed; samples:", file=sys.stderr)
        for row in rows:
            for sample in row.error_samples:
                print(f"  {row.scenario} -> {row.target}: {sample}", file=sys.stderr)
        return EXIT_REQUEST_ERRORS
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = configure_parser(argparse.ArgumentParser(prog="python -m graphql_api.bench"))
    args = parser.parse_args(argv)
    return run_command(args)
