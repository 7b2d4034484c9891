"""Run a command under continuous load through load balancers, and report what the clients saw
(molecule's fleet scenario runs a rolling update of its antlets with it).

  under_load.py --target ADDRESS[:PORT]=HOST ... [--rate 20] [--clients 2] [--lead 1] [--tail 1]
                [--antlet NAME ...] [--json] -- COMMAND ARG...

Each target gets a load of its own (traffic.Load): ``--clients`` concurrent clients, each one
request at a time, ``--rate`` requests per second for the target in total, each request a GET on a
new connection with the target's Host header, from ``--lead`` seconds before COMMAND starts until
``--tail`` seconds after it ended. So a failed request is one a browser would have seen too: no
request is ever sent on a kept-alive connection that an nginx reload could close under it, and
none is retried; an answer other than 200, a refused or reset connection, or no answer within 30 s
counts as failed.

For each ``--antlet NAME`` (whose answers are NAME, or NAME-vN once a new version of its
application runs: docker_world.py restart) and each target it answered through, in that order, an
entry of ``out_of_rotation`` (with ``antlet``, ``target``, its ``host`` and ``address``): ``out_s``, the
longest time it answered no request there, from the end of one of its answers to the start of the
next (or to the end of the load: ``back`` false), which is how long the clients saw it out of
rotation, give or take the time between two of its answers (``every_s``, its median); the answers
it gave before and after that gap. ``overlapping`` lists [target, antlet, antlet] for two antlets
whose gaps through one target overlap in time (an update one antlet at a time has none).

Prints JSON: ``requests``, ``answered``, ``failed``, ``failures``, ``slowest_ms`` of the whole load,
the same per target (``targets``), ``out_of_rotation`` and ``overlapping`` as above, and ``command``: its exit status ``rc``,
``seconds``, and its output (stdout parsed as JSON when it is, e.g. playrun.py's summary; else the
end of it). The exit status is 0 unless the load could not run: the caller asserts on the numbers.
"""
import argparse
import json
import subprocess
import sys
import time

from ansible_collections.antsle.antman.tests.support.traffic import Load, summarise

SAFETY_SECONDS = 1800.0  # no load runs longer than this, whatever happens to the command


def parse_target(text):
    where, sep, host = text.partition("=")
    address, _sep, port = where.partition(":")
    if not sep or not address or not host or (port and not port.isdigit()):
        raise argparse.ArgumentTypeError("target %r: ADDRESS[:PORT]=HOST" % text)
    return {"target": text, "address": address, "port": int(port or 80), "host": host}


def belongs(answer, antlet):
    return answer == antlet or (answer.startswith(antlet + "-v") and answer[len(antlet) + 2:].isdigit())


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


def out_of_rotation(samples, antlet, end):
    """The longest time ``antlet`` answered none of ``samples`` (one target's), up to ``end`` (the
    end of the target's last request), or None when it answered none at all."""
    mine = sorted((s for s in samples if s.failure is None and belongs(s.answer, antlet)), key=lambda s: s.start)
    if not mine:
        return None
    gaps = [(later.start - earlier.end, earlier, later) for earlier, later in zip(mine, mine[1:])]
    gaps.append((end - mine[-1].end, mine[-1], None))
    gap, before, after = max(gaps, key=lambda item: item[0])
    return {
        "out_s": round(gap, 3),
        "every_s": round(median([later.start - earlier.start for earlier, later in zip(mine, mine[1:])]) or 0.0, 3),
        "from_s": round(before.end, 3),
        "back": after is not None,
        "before": before.answer,
        "after": after.answer if after is not None else None,
        "answers": len(mine),
    }


def overlapping(windows):
    """[target, antlet, antlet] for each two antlets out of rotation through one target at the same time."""
    found = []
    for index, one in enumerate(windows):
        for other in windows[index + 1:]:
            if one["target"] == other["target"] and one["antlet"] != other["antlet"] and \
                    one["from_s"] < other["from_s"] + other["out_s"] and other["from_s"] < one["from_s"] + one["out_s"]:
                found.append([one["target"], one["antlet"], other["antlet"]])
    return found


def command_output(text):
    try:
        return json.loads(text)
    except ValueError:
        return text[-3000:]


def run(targets, rate, clients, lead, tail, antlets, command):
    loads = [Load(t["host"], t["port"], t["address"], rate=rate, clients=clients, duration=SAFETY_SECONDS)
             for t in targets]
    for load in loads:
        load.start()
    time.sleep(lead)
    began = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, universal_newlines=True, check=False)
    seconds = time.monotonic() - began
    time.sleep(tail)
    for load in loads:
        load.stop()
    per_target = [load.wait() for load in loads]
    result = summarise([sample for samples in per_target for sample in samples])
    result.update(rate_per_target=rate, clients_per_target=clients, seconds=round(max(load.now() for load in loads), 2))
    result["targets"] = [dict(summarise(samples), **target) for target, samples in zip(targets, per_target)]
    result["out_of_rotation"] = []
    for antlet in antlets:
        for target, samples in zip(targets, per_target):
            gap = out_of_rotation(samples, antlet, max(sample.end for sample in samples))
            if gap is not None:
                result["out_of_rotation"].append(dict(gap, antlet=antlet, target=target["target"], host=target["host"],
                                                      address=target["address"]))
    result["overlapping"] = overlapping(result["out_of_rotation"])
    result["command"] = {"rc": proc.returncode, "seconds": round(seconds, 2), "output": command_output(proc.stdout)}
    return result


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("under_load: give the command after --", file=sys.stderr)
        return 2
    command, argv = argv[argv.index("--") + 1:], argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--target", type=parse_target, action="append", required=True,
                        help="ADDRESS[:PORT]=HOST: a load balancer's address and the Host header to ask it for")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, per target")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients, per target")
    parser.add_argument("--lead", type=float, default=1.0, help="seconds of load before the command starts")
    parser.add_argument("--tail", type=float, default=1.0, help="seconds of load after the command ended")
    parser.add_argument("--antlet", action="append", default=[], help="an antlet to report out-of-rotation time for")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.target, args.rate, args.clients, args.lead, args.tail, args.antlet, command)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print("%d requests (%s), failed %d %s, slowest %.1f ms; command exited %d after %.1f s"
              % (result["requests"], result["answered"], result["failed"], result["failures"], result["slowest_ms"],
                 result["command"]["rc"], result["command"]["seconds"]))
        for gap in result["out_of_rotation"]:
            print("  %s through %s: out for %.2f s (%s -> %s)"
                  % (gap["antlet"], gap["target"], gap["out_s"], gap["before"], gap["after"] or "never back"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
