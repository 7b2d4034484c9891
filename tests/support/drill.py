"""A failover drill: steady, bounded traffic through the load balancer while antlets fail and come
back on a timetable; then what every request saw, and what nginx did about each faulty antlet.

  drill.py --world W --host NAME [--address 127.0.0.1] [--port 80] --rule JSON --access-log PATH
           --host-container C --duration S [--rate 40] [--clients 4]
           --event T:ACTION:ANTLET[,ANTLET...] ... [--json]

ACTION is a fault (``kill``, ``hang``, ``cut``) or a recovery (``start``, ``resume``, ``mend``) of
an antlet container of tests/support/docker_world.py, applied T seconds after the traffic started;
the access log is read inside the antsle host's container C (molecule scenario failover). The traffic is
traffic.Load: ``--clients`` concurrent clients, each one request at a time on a new connection,
``--rate`` requests per second in total. Every request's path is tagged (/drill/RUN/INDEX), which
joins it to its line in nginx's access log (the role's ``antman_upstream`` format): the upstreams
nginx tried for it, in order, with each try's status, connect time and response time.

``--rule`` is the rule as lb_rule_info returns it (canonical JSON); its timeouts are echoed in
seconds (``rule``) so that the caller asserts against the rule's own values. The result:

- ``requests``/``answered``/``failed``/``failures``/``slowest_ms`` for the whole drill, and the same
  per window (``windows``): ``before`` the first fault; ``detecting`` from it until nginx had
  marked every faulty antlet failed; ``faulted`` from then until the first recovery began (a
  recovery of several antlets brings them back one by one); ``returning`` until every recovered
  antlet answered a client again; ``after``; ``outage`` from the moment every
  fault had taken effect until the first recovery;
- ``antlets``: per faulty antlet, its failed tries by kind (``refused``, ``connect_timeout``,
  ``read_timeout``, ``other``) and the slowest request that had such a try, ``detected_at`` (when
  nginx marked it failed: the end of its max_fails-th failed try), ``sent_before_detection``
  (failed tries that started before that: the requests passive health checks cannot spare),
  ``probes`` (failed tries after it), ``avoided_s`` (shortest time from the end of a failed try,
  from the marking one on, to the next try on it: nginx must leave it alone for fail_timeout),
  ``returned_after_s`` (from its recovery to its first answer to a client) and ``share_after`` (its
  share of the answers after every antlet returned).
"""
import argparse
import json
import re
import sys
import threading
import time
import uuid
from collections import Counter

from ansible_collections.antsle.antman.tests.support.docker_world import ContainerFile, World, WorldError
from ansible_collections.antsle.antman.tests.support.traffic import Load, summarise

FAULTS = {"kill": "start", "hang": "resume", "cut": "mend"}
RECOVERIES = set(FAULTS.values())
# A try that starts within this much of the end of a failed try was already under way (nginx's and
# the client's clocks differ by the connection setup).
IN_FLIGHT_MARGIN = 0.05
WINDOWS = ("before", "detecting", "faulted", "returning", "after", "outage")
LOG_LINE = re.compile(
    r'"GET /drill/(?P<run>[0-9a-f]+)/(?P<index>\d+) HTTP/1\.[01]" (?P<status>\d+) \d+ rt=(?P<rt>[\d.]+) '
    r'upstream=(?P<addr>.*?) upstream_status=(?P<statuses>.*?) upstream_connect=(?P<connect>.*?) '
    r'upstream_time=(?P<times>.*?)(?: server=\S*)?\s*$')


class Event:
    def __init__(self, spec):
        try:
            at, action, names = spec.split(":", 2)
            self.at = float(at)
        except ValueError:
            raise argparse.ArgumentTypeError("event %r: use SECONDS:ACTION:ANTLET[,ANTLET...]" % spec)
        if action not in FAULTS and action not in RECOVERIES:
            raise argparse.ArgumentTypeError("event %r: action must be one of %s"
                                             % (spec, ", ".join(sorted(set(FAULTS) | RECOVERIES))))
        self.action, self.names = action, names.split(",")
        self.started = self.done = None
        self.done_by = {}  # antlet name: when the action on it had taken effect

    @property
    def fault(self):
        return self.action in FAULTS

    def apply(self, world, clock):
        """Apply the action to each antlet in turn (start waits until the antlet accepts connections)."""
        self.started = clock()
        for name in self.names:
            if self.action in ("cut", "mend"):
                world.cut(name, self.action == "cut")
            else:
                world.signal(name, self.action)
            self.done_by[name] = clock()
        self.done = clock()

    def as_dict(self):
        return {"at": self.at, "action": self.action, "antlets": self.names,
                "started": round(self.started, 3), "done": round(self.done, 3)}


def seconds(text):
    """A canonical rule time (``500ms``, ``2s``) in seconds."""
    return int(text[:-2]) / 1000.0 if text.endswith("ms") else float(text[:-1])


# -- the access log ------------------------------------------------------------------------------

def split_field(text):
    return [part.strip() for part in text.split(",")] if text else []


def number(text):
    return None if text in ("-", "") else float(text)


def parse_tries(data, run):
    """{request index: [try, ...]} of this run's requests in the access log's bytes ``data``; a try
    is a dict with address, status, connect and time (seconds, None when nginx logged "-")."""
    tries = {}
    for line in data.decode("utf-8", "replace").splitlines():
        match = LOG_LINE.search(line)
        if not match or match.group("run") != run:
            continue
        fields = [split_field(match.group(key)) for key in ("addr", "statuses", "connect", "times")]
        tries[int(match.group("index"))] = [
            {"address": addr, "status": int(status) if status.isdigit() else None,
             "connect": number(connect), "time": number(elapsed)}
            for addr, status, connect, elapsed in zip(*fields)]
    return tries


def try_kind(attempt):
    if attempt["status"] == 502:
        return "refused"
    if attempt["status"] == 504:
        return "connect_timeout" if attempt["connect"] is None else "read_timeout"
    return "other"


def timed_tries(sample, tries):
    """The request's tries with client-side start and end times (the request's start plus the
    response times of the tries before)."""
    clock = sample.start
    for attempt in tries:
        elapsed = attempt["time"] or 0.0
        yield dict(attempt, start=clock, end=clock + elapsed, sample=sample)
        clock += elapsed


# -- analysis -----------------------------------------------------------------------------------

def window(samples, begin, end):
    return summarise([s for s in samples if begin <= s.start < end])


def analyse_antlet(name, address, events, samples, tries_by_index, max_fails=1):
    fault = next((e for e in events if e.fault and name in e.names), None)
    recovery = next((e for e in events if not e.fault and name in e.names and e.started >= fault.started), None)
    tries = sorted((t for s in samples for t in timed_tries(s, tries_by_index.get(s.index, []))
                    if t["address"] == address), key=lambda t: t["start"])
    failed = [t for t in tries if t["status"] != 200 and t["start"] >= fault.started - IN_FLIGHT_MARGIN]
    kinds, slowest = Counter(), {}
    for attempt in failed:
        kind = try_kind(attempt)
        kinds[kind] += 1
        slowest[kind] = max(slowest.get(kind, 0.0), attempt["sample"].seconds)
    # nginx marks the antlet failed at its max_fails-th failure (within fail_timeout), and from then
    # on leaves it alone for fail_timeout after each failure (one probe try per fail_timeout).
    by_end = sorted(failed, key=lambda t: t["end"])
    marking = by_end[max(max_fails, 1) - 1:]
    detected_at = marking[0]["end"] if marking else None
    gaps = []
    for attempt in marking:
        later = [t["start"] for t in tries if t["start"] > attempt["end"] + IN_FLIGHT_MARGIN]
        if later:
            gaps.append(min(later) - attempt["end"])
    recovered_at = recovery.done_by.get(name) if recovery is not None else None
    answers = [s.start for s in samples if recovery is not None and s.answer == name and s.start >= recovery.started]
    returned_at = min(answers) if answers else None
    return {
        "address": address,
        "fault_at": round(fault.started, 3),
        "recovered_at": round(recovered_at, 3) if recovered_at is not None else None,
        "failed_tries": dict(sorted(kinds.items())),
        "slowest_ms_by_kind": dict((kind, round(value * 1000.0, 1)) for kind, value in sorted(slowest.items())),
        "detected_at": round(detected_at, 3) if detected_at is not None else None,
        "sent_before_detection": sum(1 for t in failed if detected_at is not None and t["start"] <= detected_at),
        "probes": sum(1 for t in failed if detected_at is not None and t["start"] > detected_at + IN_FLIGHT_MARGIN),
        "avoided_s": round(min(gaps), 3) if gaps else None,
        "returned_at": round(returned_at, 3) if returned_at is not None else None,
        "returned_after_s": round(max(0.0, returned_at - recovered_at), 3) if returned_at is not None else None,
    }


def analyse(samples, events, addresses, tries_by_index, duration, max_fails=1):
    faulty = []
    for event in events:
        faulty.extend(name for name in event.names if event.fault and name not in faulty)
    antlets = dict((name, analyse_antlet(name, addresses[name], events, samples, tries_by_index, max_fails))
                   for name in faulty)
    first_fault = min([e.started for e in events if e.fault] or [duration])
    detected = [a["detected_at"] for a in antlets.values()]
    # The request whose try found the last faulty antlet belongs to the detection.
    detection = max(detected) + IN_FLIGHT_MARGIN if detected and None not in detected else first_fault
    first_recovery = min([e.started for e in events if not e.fault] or [duration])
    returned = [a["returned_at"] for a in antlets.values() if a["recovered_at"] is not None]
    back = max(returned) if returned and None not in returned else duration
    windows = {
        "before": window(samples, 0.0, first_fault),
        "detecting": window(samples, first_fault, detection),
        "faulted": window(samples, detection, max(detection, first_recovery)),
        "returning": window(samples, max(detection, first_recovery), back),
        "after": window(samples, back, duration + 3600.0),
        "outage": window(samples, max([e.done for e in events if e.fault] or [duration]),
                         min([e.started for e in events if not e.fault] or [duration])),
    }
    after_answers = windows["after"]["answered"]
    for name, result in antlets.items():
        total = sum(after_answers.values())
        result["share_after"] = round(after_answers.get(name, 0) / float(total), 3) if total else None
    return windows, antlets


# -- running it ---------------------------------------------------------------------------------

def run_events(world, events, load, errors):
    for event in sorted(events, key=lambda e: e.at):
        time.sleep(max(0.0, event.at - load.now()))
        try:
            event.apply(world, load.now)
        except WorldError as error:
            errors.append("%s %s: %s" % (event.action, ",".join(event.names), error))
            event.done = load.now()


def drill(args):
    world = World(args.world)
    status = world.status()
    if not status["up"]:
        raise WorldError("world %s is not up" % args.world)
    addresses = dict((a["name"], "%s:%d" % (a["address"], a["port"])) for a in status["antlets"])
    for event in args.event:
        unknown = [name for name in event.names if name not in addresses]
        if unknown:
            raise WorldError("event %s: world %s has no antlet %s" % (event.action, args.world, ", ".join(unknown)))
    run = uuid.uuid4().hex[:12]
    log = ContainerFile(args.host_container, args.access_log)
    offset = log.size()
    load = Load(args.host, args.port, args.address, "/drill/%s/{index}" % run, args.timeout, args.rate, args.clients,
                duration=args.duration)
    errors = []
    load.start()
    events = threading.Thread(target=run_events, args=(world, args.event, load, errors))
    events.start()
    samples = load.wait()
    ended = time.monotonic()
    events.join()
    tries = parse_tries(log.read_flushed(offset, ended), run)
    rule = args.rule
    windows, antlets = analyse(samples, args.event, addresses, tries, args.duration, rule["max_fails"])
    result = summarise(samples)
    result.update({
        "rule": {
            "name": rule["name"],
            "connect_timeout_s": seconds(rule["connect_timeout"]),
            "read_timeout_s": seconds(rule["read_timeout"]),
            "fail_timeout_s": seconds(rule["fail_timeout"]),
            "max_fails": rule["max_fails"],
            "next_upstream_tries": rule["next_upstream_tries"],
            "keepalive": rule["keepalive"],
        },
        "rate": args.rate,
        "clients": args.clients,
        "seconds": round(load.now(), 2),
        "logged": len(tries),
        "events": [event.as_dict() for event in args.event],
        "event_errors": errors,
        "windows": windows,
        "antlets": antlets,
    })
    result["summary"] = describe(result).splitlines()
    return result


def describe(result):
    lines = ["%d requests (%s/s, %d clients) in %.1f s: answered %s; failed %d %s; slowest %.1f ms"
             % (result["requests"], result["rate"], result["clients"], result["seconds"], result["answered"],
                result["failed"], result["failures"], result["slowest_ms"])]
    for event in result["events"]:
        lines.append("  at %.2f s: %s %s" % (event["started"], event["action"], ",".join(event["antlets"])))
    for name in WINDOWS:
        values = result["windows"][name]
        lines.append("  %-9s %4d requests, failed %d %s, slowest %.1f ms, answered %s"
                     % (name, values["requests"], values["failed"], values["failures"], values["slowest_ms"],
                        values["answered"]))
    for name, values in sorted(result["antlets"].items()):
        lines.append("  %s: failed tries %s (slowest request with one: %s ms), detected at %s s (%d tries already sent to it), "
                     "%d probes, avoided for at least %s s, answered again %s s after its recovery, share after %s"
                     % (name, values["failed_tries"], values["slowest_ms_by_kind"], values["detected_at"],
                        values["sent_before_detection"], values["probes"], values["avoided_s"],
                        values["returned_after_s"], values["share_after"]))
    for error in result["event_errors"]:
        lines.append("  event error: %s" % error)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--world", required=True)
    parser.add_argument("--host", required=True, help="Host header (the rule's server name)")
    parser.add_argument("--address", default="127.0.0.1", help="load balancer address")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--rule", required=True, type=json.loads, help="the rule, as lb_rule_info returns it (JSON)")
    parser.add_argument("--access-log", required=True, help="nginx access log in the role's antman_upstream format")
    parser.add_argument("--host-container", required=True, help="the antsle host's container (the access log is read inside it)")
    parser.add_argument("--duration", type=float, required=True, help="seconds of traffic")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second, all clients together")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients, each one request at a time")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed")
    parser.add_argument("--event", type=Event, action="append", default=[], help="SECONDS:ACTION:ANTLET[,ANTLET...]")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = drill(args)
    except (WorldError, OSError) as error:
        print("drill: %s" % error, file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True) if args.json else describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
