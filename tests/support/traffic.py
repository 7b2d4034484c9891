"""A counting client: sends requests through the load balancer and counts who answered.

  traffic.py --host demo.antsle.local [--address 127.0.0.1] [--port 80] --count 300 [--rate R]
             [--clients C] [--at 150 -- COMMAND ARG...] [--json]

Each request is a GET on a new connection with the given Host header (so an nginx reload never
closes a kept-alive connection under it: every failure counted is one a browser would see too); the
answer's body (the antlet's name) is counted, and anything else (an error status, a refused or reset
connection, a timeout) counts as a failed request. With ``--at N -- COMMAND...`` the command is
started (as an argument list, no shell) right after the N-th request while requests keep going,
e.g. to crash an antlet mid-way; the summary tells by which request it had finished. ``--rate``
paces the requests (request i is due at i/rate seconds, or is sent as soon as a client is free if
that is later), so that such an event lands where it is meant to. ``--clients`` sends with that
many concurrent clients, each one request at a time: a bounded load. Prints a summary (or JSON with
--json): answered per antlet, failed, slowest.

``Load`` is the engine, also used by drill.py: it records every request (start, duration, outcome).
"""
import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
from collections import Counter


def get(port, host_header, path="/", method="GET", timeout=10.0, address="127.0.0.1"):
    """One request on a new connection: (status, body text)."""
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request(method, path, body=b"x" if method == "POST" else None, headers={"Host": host_header})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace").strip()
    finally:
        connection.close()


class Sample:
    """One request: when it started (seconds after the load started), how long it took, and the
    antlet that answered (a 200's body) or why it failed ("status 502", "timeout", ...)."""

    __slots__ = ("index", "start", "seconds", "status", "answer", "failure")

    def __init__(self, index, start, seconds, status, answer, failure):
        self.index, self.start, self.seconds = index, start, seconds
        self.status, self.answer, self.failure = status, answer, failure

    @property
    def end(self):
        return self.start + self.seconds


def describe_error(error):
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "timeout"
    return type(error).__name__


class Load:
    """Requests from ``clients`` concurrent clients, paced at ``rate`` per second in total (request i
    is due at i/rate s; 0: as fast as the clients go), until ``count`` requests were sent or, with
    ``duration``, until no more are due before it ends, or until ``stop()``. ``path`` may contain ``{index}``;
    ``fetch`` sends one request another way (TLS, ...)."""

    def __init__(self, host, port=80, address="127.0.0.1", path="/", timeout=30.0, rate=0.0, clients=1,
                 count=None, duration=None, fetch=None):
        if count is None and duration is None:
            raise ValueError("give a count or a duration")
        self.host, self.port, self.address, self.path, self.timeout = host, port, address, path, timeout
        self.interval = 1.0 / rate if rate else 0.0
        self.clients, self.count, self.duration = clients, count, duration
        self.samples = []
        self.on_index = None  # called with each request's index before it is sent
        self._next = 0
        self._stopped = False
        self._lock = threading.Lock()
        self._threads = []
        self.started = None
        # fetch(path) -> (status, answer): a GET on a new connection by default, the answer its body.
        self.fetch = fetch or (lambda path: get(port, host, path=path, timeout=timeout, address=address))

    def now(self):
        return time.monotonic() - self.started

    def _claim(self):
        with self._lock:
            index = self._next
            due = index * self.interval
            if self._stopped or (self.count is not None and index >= self.count):
                return None, None
            if self.duration is not None and due >= self.duration:
                return None, None
            self._next += 1
            return index, due

    def _client(self):
        while True:
            index, due = self._claim()
            if index is None:
                return
            if self.on_index:
                self.on_index(index)
            time.sleep(max(0.0, due - self.now()))
            self.samples.append(self.request(index))

    def request(self, index):
        began = self.now()
        status, answer, failure = None, None, None
        try:
            status, answer = self.fetch(self.path.format(index=index))
            if status != 200:
                answer, failure = None, "status %d" % status
        except (OSError, ValueError, http.client.HTTPException) as error:
            failure = describe_error(error)
        return Sample(index, began, self.now() - began, status, answer, failure)

    def start(self):
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._client, daemon=True) for client in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        """No further request is sent (those in flight finish: ``wait()`` for them)."""
        with self._lock:
            self._stopped = True

    def wait(self):
        for thread in self._threads:
            thread.join()
        self.samples.sort(key=lambda sample: sample.index)
        return self.samples


def summarise(samples):
    """Counts of a list of samples: requests, answered per antlet, failed (and why), slowest."""
    answered = Counter(sample.answer for sample in samples if sample.failure is None)
    failures = Counter(sample.failure for sample in samples if sample.failure is not None)
    return {
        "requests": len(samples),
        "answered": dict(sorted(answered.items())),
        "failed": sum(failures.values()),
        "failures": dict(sorted(failures.items())),
        "slowest_ms": round(max([sample.seconds for sample in samples] or [0.0]) * 1000.0, 1),
    }


def send(args, command):
    load = Load(args.host, args.port, args.address, args.path, args.timeout, args.rate, args.clients, count=args.count)
    event = {}

    def at_index(index):
        if command and index == args.at and "proc" not in event and "error" not in event:
            try:
                event["proc"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            except OSError as error:
                event["error"] = "%s: %s" % (command[0], error)
        if "proc" in event and "done_at" not in event and event["proc"].poll() is not None:
            event["done_at"] = index

    load.on_index = at_index
    samples = load.start().wait()
    if "error" in event:
        raise SystemExit("traffic: the command could not be started (%s)" % event["error"])
    result = summarise(samples)
    event_rc = event["proc"].wait() if "proc" in event else None
    result.update({
        "seconds": round(load.now(), 2),
        "event_at": args.at if command else None,
        "event_done_at": event.get("done_at", args.count) if "proc" in event else None,
        "event_rc": event_rc,
    })
    return result


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
                        help="requests per second; default: each request as soon as a client is free")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients (default 1: sequential)")
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
