"""A failover drill of a highly available pair (the role's antman_lb_ha): steady, bounded traffic
from this machine to the pair's virtual address while something happens to one of its hosts; then
what every request saw, when the address moved, and which host's nginx served each request.
Standard library and the ``docker`` command only; the hosts are containers (molecule scenario ``ha``).

  ha_drill.py status --hosts H1,H2 --address VIP          JSON: which hosts hold VIP now
  ha_drill.py wait --hosts H1,H2 --address VIP            until exactly one holds it (--timeout, 30 s)
  ha_drill.py run --hosts H1,H2 --address VIP --host NAME --access-log PATH --at T --duration S
                  (--on holder|backup|HOST | --local) [--rate 40] [--clients 4] [--json] -- COMMAND...

``run`` sends ``--clients`` concurrent clients, ``--rate`` requests per second in all, each request a
GET on a new connection (tests/support/traffic.py ``Load``: an nginx reload never closes a kept-alive
connection under a request, so every failure counted is one a browser would see). ``T`` seconds in,
COMMAND runs inside the host container ``--on`` names (``holder``: the one that holds the address
when the drill starts; ``backup``: the other), or on this machine with ``--local`` (a playbook run);
traffic goes on until ``S`` seconds after the start (``--local``: until S seconds after COMMAND ended).

Every request's path carries its number (``/ha/RUN/N``), which joins it to the access log line
(``--access-log``, read inside each host container) of the host whose nginx served it. keepalived's
journal in each container gives its state changes (MASTER, BACKUP, FAULT, STOP) with their times.
The result:

- ``holder_before`` / ``holder_after``: the host holding the address before and after (``ip addr``);
- ``action``: where COMMAND ran, when it started and ended (seconds after the traffic started), its
  exit status and output tail;
- ``transitions``: every keepalived state change of the hosts during the drill;
- ``moved_after_s``: from the start of COMMAND to the moment another host entered MASTER (null when
  the address did not move); ``ready_after_s``: from the start of COMMAND to the acting host's next
  BACKUP state (it could take the address back from then on, if it preempted), and
  ``watched_after_ready_s``, how long the traffic went on after that;
- the requests, answered, failed (and why), slowest; and the same per window: ``before`` (ended
  before COMMAND started), ``switch`` (in progress at, or sent after, COMMAND's start, and sent
  before the move), ``after`` (sent from the move on; without a move: everything from COMMAND's
  start on); per window also ``served_by`` (host whose access log has the request);
- ``switch_failures``: each failed request of the switch window, with its start relative to
  COMMAND's start and whether it was ``in_flight`` (sent before COMMAND had ended) or not.
"""
import argparse
import json
import re
import subprocess
import sys
import threading
import time
import uuid

from ansible_collections.antsle.antman.tests.support.docker_world import ContainerFile, WorldError, docker
from ansible_collections.antsle.antman.tests.support.traffic import Load, summarise

LOG_LINE = re.compile(r'"GET /ha/(?P<run>[0-9a-f]+)/(?P<index>\d+) HTTP/1\.[01]" (?P<status>\d+) ')
# keepalived's journal lines of a state change, and of the start of its shutdown (it then sends an
# advertisement of priority 0, so that a backup takes over at once).
STATE_LINE = re.compile(r"^(?P<at>\d+\.\d+) \S+ \S+: (?:\(\S+\) Entering (?P<state>[A-Z]+) STATE|(?P<stop>Stopping)$)")
# A long traffic bound for --local (the end is set when the command has ended).
OPEN_ENDED = 3600.0


def holders(hosts, address):
    """The hosts whose interfaces have ``address`` now."""
    found = []
    for host in hosts:
        out = docker("exec", host, "ip", "-4", "-o", "addr", "show", timeout=20).stdout
        if re.search(r"\binet %s/" % re.escape(address), out):
            found.append(host)
    return found


def wait_single_holder(hosts, address, timeout):
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found = holders(hosts, address)
        if len(found) == 1:
            return found[0]
        time.sleep(0.2)
    raise WorldError("after %d s, %s is held by %s (expected exactly one of %s)"
                     % (timeout, address, ", ".join(found) or "no host", ", ".join(hosts)))


def transitions(host, since_wall, wall0):
    """keepalived's state changes in ``host``'s journal since ``since_wall`` (unix time), in seconds
    after ``wall0``."""
    out = docker("exec", host, "journalctl", "-u", "keepalived", "-o", "short-unix", "--no-pager",
                 "--since", "@%.3f" % since_wall, timeout=30, check=False).stdout
    found = []
    for line in out.splitlines():
        match = STATE_LINE.match(line)
        if match:
            found.append({"host": host, "at": round(float(match.group("at")) - wall0, 3),
                          "state": match.group("state") or "STOP"})
    return found


def served_by(hosts, logs, offsets, run, ended):
    """{request index: host whose access log has it} (the load ended at ``ended``, time.monotonic())."""
    where = {}
    for host in hosts:
        for line in logs[host].read_flushed(offsets[host], ended).decode("utf-8", "replace").splitlines():
            match = LOG_LINE.search(line)
            if match and match.group("run") == run:
                where[int(match.group("index"))] = host
    return where


def window(samples, where):
    result = summarise(samples)
    counts = {}
    for sample in samples:
        host = where.get(sample.index, "unlogged")
        counts[host] = counts.get(host, 0) + 1
    result["served_by"] = dict(sorted(counts.items()))
    return result


def analyse(samples, where, action, moves, ready):
    start, done = action["started"], action["done"]
    moved_at = moves[0]["at"] if moves else None
    before = [s for s in samples if s.end < start]
    if moved_at is not None:
        switch = [s for s in samples if s.end >= start and s.start < moved_at]
        after = [s for s in samples if s.start >= moved_at]
    else:
        switch, after = [], [s for s in samples if s.end >= start]
    failures = [{"index": s.index, "start_s": round(s.start - start, 3), "failure": s.failure, "in_flight": s.start < done}
                for s in switch if s.failure]
    end = max([s.end for s in samples] or [0.0])
    return {
        "moved_after_s": round(moved_at - start, 3) if moved_at is not None else None,
        "moved_to": moves[0]["host"] if moves else None,
        "ready_after_s": round(ready["at"] - start, 3) if ready else None,
        "watched_after_ready_s": round(end - ready["at"], 3) if ready else None,
        "windows": {"before": window(before, where), "switch": window(switch, where), "after": window(after, where)},
        "switch_failures": failures,
    }


def run_action(args, target, load, action):
    time.sleep(max(0.0, args.at - load.now()))
    action["started"] = load.now()
    argv = args.command if args.local else ["docker", "exec", target] + args.command
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              check=False, timeout=args.command_timeout)
        action["rc"], output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as error:
        action["rc"], output = "timeout", str(error.output or "")
    action["done"] = load.now()
    action["output_tail"] = output.strip()[-20000:]
    if args.local:
        load.duration = action["done"] + args.duration


def drill(args):
    hosts = args.hosts
    holder = wait_single_holder(hosts, args.address, 30)
    if args.local:
        target = "this machine"
    elif args.on == "holder":
        target = holder
    elif args.on == "backup":
        others = [h for h in hosts if h != holder]
        if len(others) != 1:
            raise WorldError("--on backup needs a pair of two hosts (%s)" % ", ".join(hosts))
        target = others[0]
    else:
        target = args.on
    run = uuid.uuid4().hex[:12]
    logs = dict((host, ContainerFile(host, args.access_log)) for host in hosts)
    offsets = dict((host, logs[host].size()) for host in hosts)
    load = Load(args.host, args.port, args.address, "/ha/%s/{index}" % run, args.timeout, args.rate, args.clients,
                duration=OPEN_ENDED if args.local else args.duration)
    wall0 = time.time()
    load.start()
    action = {"on": target, "command": args.command, "started": None, "done": None, "rc": None}
    worker = threading.Thread(target=run_action, args=(args, target, load, action))
    worker.start()
    samples = load.wait()
    ended = time.monotonic()
    worker.join()
    found = []
    for host in hosts:
        found.extend(transitions(host, wall0 - 0.5, wall0))
    found.sort(key=lambda t: t["at"])
    moves = [t for t in found if t["state"] == "MASTER" and t["host"] != holder and t["at"] >= action["started"]]
    ready = next((t for t in found if t["host"] == target and t["state"] == "BACKUP" and t["at"] >= action["started"]), None)
    result = summarise(samples)
    result.update({"rate": args.rate, "clients": args.clients, "seconds": round(load.now(), 2), "address": args.address,
                   "holder_before": holder, "holder_after": wait_single_holder(hosts, args.address, 10),
                   "action": action, "transitions": found})
    result.update(analyse(samples, served_by(hosts, logs, offsets, run, ended), action, moves, ready))
    result["summary"] = describe(result).splitlines()
    return result


def describe(result):
    action = result["action"]
    lines = ["%d requests (%s/s, %d clients) in %.1f s to %s: answered %s; failed %d %s; slowest %.1f ms"
             % (result["requests"], result["rate"], result["clients"], result["seconds"], result["address"],
                result["answered"], result["failed"], result["failures"], result["slowest_ms"]),
             "  %s held the address; at %.2f-%.2f s on %s: %s (exit %s)"
             % (result["holder_before"], action["started"], action["done"], action["on"], " ".join(action["command"]),
                action["rc"])]
    for change in result["transitions"]:
        lines.append("  at %.3f s: %s %s" % (change["at"], change["host"], change["state"]))
    if result["moved_after_s"] is not None:
        lines.append("  the address moved to %s %.3f s after the action started" % (result["moved_to"], result["moved_after_s"]))
    else:
        lines.append("  the address did not move")
    for name in ("before", "switch", "after"):
        values = result["windows"][name]
        lines.append("  %-7s %4d requests, failed %d %s, slowest %.1f ms, served by %s"
                     % (name, values["requests"], values["failed"], values["failures"], values["slowest_ms"],
                        values["served_by"]))
    for failure in result["switch_failures"]:
        lines.append("  failed in the switch: request %d sent at %+.3f s (%s): %s"
                     % (failure["index"], failure["start_s"], "in flight" if failure["in_flight"] else "after the action",
                        failure["failure"]))
    lines.append("  %s held the address afterwards" % result["holder_after"])
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command = []
    if "--" in argv:
        command, argv = argv[argv.index("--") + 1:], argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("status", "wait", "run"):
        each = sub.add_parser(mode)
        each.add_argument("--hosts", required=True, type=lambda text: text.split(","), help="the pair's containers")
        each.add_argument("--address", required=True, help="the virtual address")
        each.add_argument("--timeout", type=float, default=30.0)
    run = sub.choices["run"]
    run.add_argument("--host", required=True, help="Host header (a rule's server name)")
    run.add_argument("--port", type=int, default=80)
    run.add_argument("--access-log", required=True, help="nginx's access log in the host containers")
    run.add_argument("--at", type=float, required=True, help="seconds of traffic before the command")
    run.add_argument("--duration", type=float, required=True,
                     help="seconds of traffic in all (with --local: after the command ended)")
    run.add_argument("--on", default="holder", help="holder, backup or a host container")
    run.add_argument("--local", action="store_true", help="run the command on this machine")
    run.add_argument("--command-timeout", type=float, default=600.0)
    run.add_argument("--rate", type=float, default=40.0)
    run.add_argument("--clients", type=int, default=4)
    run.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.command = command
    try:
        if args.mode == "status":
            print(json.dumps({"address": args.address, "holders": holders(args.hosts, args.address)}))
        elif args.mode == "wait":
            print(wait_single_holder(args.hosts, args.address, args.timeout))
        else:
            if not command:
                parser.error("run needs a command after --")
            result = drill(args)
            print(json.dumps(result, sort_keys=True) if args.json else describe(result))
    except WorldError as error:
        print("ha_drill: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
