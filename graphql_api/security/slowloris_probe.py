"""Measure what a server does with connections that trickle their request headers.

    python -m graphql_api.security.slowloris_probe --port 8000 --connections 50 --seconds 15

opens that many connections to a server on THIS machine (loopback only), each sending one
byte of a never-ending request header every `--interval` seconds, and prints how many the
server still holds open after `--seconds`, and after how long it closed the others. With
`finance-api serve` (header timeout 10 s) none should be open at 15 s; plain uvicorn keeps
them all.
"""

import argparse
import ipaddress
import select
import socket
import statistics
import sys
import time

# A request line and a header that never ends: the server can never complete the headers.
_NEVER_ENDING_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nX-Slow: " + b"a" * 1_000_000


def _is_closed(sock: socket.socket) -> bool:
    """Whether the server closed `sock` (reads whatever it sent, e.g. an error response)."""
    try:
        while True:
            if not sock.recv(65536):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def _send_byte(sock: socket.socket, position: int) -> bool:
    """Send the next header byte; False if the connection is gone."""
    try:
        sock.send(_NEVER_ENDING_HEADERS[position : position + 1])
    except BlockingIOError:
        return True
    except OSError:
        return False
    return True


def trickle(
    host: str, port: int, connections: int, seconds: float, interval: float = 1.0
) -> list[float | None]:
    """For each connection: the seconds after which the server closed it, None if it was
    still open after `seconds`. Bounded: it stops by itself after `seconds`."""
    address = socket.gethostbyname(host)
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError("the probe only targets servers on this machine (loopback)")
    socks = [socket.create_connection((address, port), timeout=5) for _ in range(connections)]
    started = time.monotonic()
    closed_after: list[float | None] = [None] * connections
    open_ = dict(enumerate(socks))
    sent = 0
    next_send = started
    try:
        for sock in socks:
            sock.setblocking(False)
        while open_ and (now := time.monotonic()) - started < seconds:
            if now >= next_send:
                for index, sock in list(open_.items()):
                    if not _send_byte(sock, sent):
                        closed_after[index] = now - started
                        del open_[index]
                sent += 1
                next_send += interval
            wait = max(0.0, min(next_send, started + seconds) - time.monotonic())
            readable, _, _ = select.select(list(open_.values()), [], [], wait)
            for sock in readable:
                index = socks.index(sock)
                if _is_closed(sock):
                    closed_after[index] = time.monotonic() - started
                    del open_[index]
    finally:
        for sock in socks:
            sock.close()
    return closed_after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between bytes")
    args = parser.parse_args(argv)
    results = trickle(args.host, args.port, args.connections, args.seconds, args.interval)
    closed = sorted(after for after in results if after is not None)
    sys.stdout.write(
        f"{args.connections} connections sending a header byte every {args.interval:g} s: "
        f"{len(results) - len(closed)} still open after {args.seconds:g} s\n"
    )
    if closed:
        sys.stdout.write(
            f"closed by the server after (s): min {closed[0]:.2f}, "
            f"median {statistics.median(closed):.2f}, max {closed[-1]:.2f}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
