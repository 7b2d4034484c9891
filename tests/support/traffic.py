"""A counting client: sends requests through the load balancer and counts who answered.

  traffic.py --host demo.antsle.local [--address 127.0.0.1] [--port 80] --count 300 [--rate R]
             [--at 150 -- COMMAND ARG...] [--json]

Each request is a GET on a new connection with the given Host header; the answer's body (the
antlet's name) is counted, and anything else (an error status, a refused or reset connection, a
timeout) counts as a failed request. With ``--at N -- COMMAND...`` the command is started (as an
argument list, no shell) right after the N-th request while requests keep going, e.g. to crash
an antlet mid-way; the summary tells by which request it had finished. ``--rate`` paces the
requests (request i is sent at i/rate seconds, or as soon as the previous one is answered if that is
later), so that such an event lands where it is meant to. Prints a summary (or JSON with --json):
answered per antlet, failed, slowest.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import get  # noqa: E402


def send(args, command):
    answered, failures = Counter(), Counter()
    slowest = 0.0
    event, event_done_at = None, None
    interval = 1.0 / args.rate if args.rate else 0.0
    started = time.monotonic()
    for index in range(args.count):
        if command and index == args.at:
            event = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        if event is not None and event_done_at is None and event.poll() is not None:
            event_done_at = index
        if interval:
            # Request i is due at started + i * interval (a late request does not shift the later ones).
            time.sleep(max(0.0, started + index * interval - time.monotonic()))
        began = time.monotonic()
        try:
            status, body = get(args.port, args.host, path=args.path, timeout=args.timeout, address=args.address)
            if status == 200:
                answered[body] += 1
            else:
                failures["status %d" % status] += 1
        except (OSError, ValueError) as error:
            failures[type(error).__name__] += 1
        slowest = max(slowest, time.monotonic() - began)
    event_rc = event.wait() if event else None
    if event is not None and event_done_at is None:
        event_done_at = args.count
    return {
        "requests": args.count,
        "answered": dict(sorted(answered.items())),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "slowest_ms": round(slowest * 1000.0, 1),
        "seconds": round(time.monotonic() - started, 2),
        "event_at": args.at if command else None,
        "event_done_at": event_done_at,
        "event_rc": event_rc,
    }


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--host", required=True, help="Host header (a rule's server name)")
    parser.add_argument("--address", default="127.0.0.1", help="load balancer address")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--path", default="/")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests per second; default: each request right after the previous one")
    parser.add_argument("--at", type=int, default=0, help="start the command after this many requests")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = send(args, command)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        shares = ", ".join("%s %d" % item for item in result["answered"].items())
        print("%d requests to %s: %s; failed: %d; slowest %.1f ms"
              % (result["requests"], args.host, shares or "none answered", result["failed"], result["slowest_ms"]))
        if command:
            print("(%s: started after request %d, done by request %d, exit status %s)"
                  % (" ".join(command[-3:]), args.at, result["event_done_at"], result["event_rc"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
