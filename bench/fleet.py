#!/usr/bin/env python
"""Fleet benchmark: the site playbook against N antsle hosts, beside Ansible's floor on the same hosts.

The hosts are containers running systemd, as molecule's ``fleet`` scenario makes them (Debian 12
with nginx installed, the image scripts/docker.sh builds: an antsle host's nginx already serves
antMan's UI), plus three antlets, all on a docker network of their own (tests/support/docker_world.py).
Each host gets the fleet scenario's kind of rules: a shared rule over two antlets, an api rule over
two others, and its own site. Per round (a fresh world each, so that "first" is a first run):

- first: ``ansible-playbook -i INVENTORY antsle.antman.site`` on hosts the role never saw;
- no-op: the same again (changed=0 expected);
- floor: a play that gathers what the role learns about the host (its OS family and service
  manager: ``setup`` with gather_subset distribution, service_mgr - the role reads them in its own
  lb_host_facts run, older releases ran that ``setup``) and runs one ``ping``: what any playbook
  that knows these hosts costs on them, the same floor for every release compared;
- one change: each host's own site moves to another antlet (one rule changed per host);
- check: ``--check`` of the change back (its prediction is compared with the real run after it,
  which is timed as a second "one change").

Wall time of the ``ansible-playbook`` process, per host (wall / N) and the ratio to the floor of
the same round; medians over the rounds. Everything runs with the same connection settings
(community.docker.docker, ``--forks``, pipelining as given). Prints a markdown table (and writes it
with --out). Not a test: it asserts nothing. The containers and the network are removed at the end,
also after a failure or Ctrl-C; a world left by a killed run is removed by the next one.
Usage: python -m ansible_collections.antsle.antman.bench.fleet [--hosts 12] [--rounds 3] [--forks N]
       [--pipelining true|false] [--image IMAGE] [--collections DIR] [--connection NAME] [--out FILE]
(--collections: another tree holding ansible_collections/antsle/antman, e.g. an older commit's, to compare.)
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from statistics import median

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.tests.support.docker_world import World
from ansible_collections.antsle.antman.tests.support.paths import COLLECTIONS

WORLD = "afleetbench"
SUBNET = "10.79.20.0/24"
ANTLETS = {"bench-a": "10.79.20.201", "bench-b": "10.79.20.202", "bench-c": "10.79.20.203"}
ANTLET_PORT = 8000
IMAGE = os.environ.get("ANTMAN_DEBIAN12_NGINX_IMAGE", "antman/debian12-nginx:latest")
PLAYBOOK_TIMEOUT = 900
# As molecule's fleet scenario reaches its hosts. Mitogen's strategies take over only the short
# name (docker), which ansible-core routes to the same plugin.
CONNECTION = "community.docker.docker"

# The floor: what the role learns about the host (OS family, service manager; lb_host_facts reads them
# now, a setup run before), gathered by setup with the same subset, then one module round trip.
FLOOR_PLAYBOOK = """
- name: Ansible's floor on the same hosts
  hosts: antsle
  gather_facts: false
  tasks:
    - name: Gather what the role learns about the host (OS family, service manager)
      ansible.builtin.setup:
        gather_subset: ["!all", "!min", distribution, service_mgr]
    - name: One module round trip
      ansible.builtin.ping:
"""

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def host_names(count):
    return ["bench-h%02d" % index for index in range(1, count + 1)]


def inventory(count, connection=CONNECTION):
    """The fleet's inventory: every host the shared and api rules and its own site (fleet scenario's shape)."""
    return {"all": {"children": {
        "antsle": {
            "hosts": dict((name, {}) for name in host_names(count)),
            "vars": {
                "ansible_connection": connection,
                "ansible_python_interpreter": "/usr/bin/python3",
                # Release 1: each host's own site on bench-a; release 2 (-e bench_release=2): on bench-c.
                "bench_site_antlet": "{{ 'bench-c' if bench_release | default(1) | int == 2 else 'bench-a' }}",
                "antman_lb_rules": [
                    {"name": "shared", "server_name": "shared.fleet.bench", "upstream_group": "bench_shared",
                     "upstream_port": ANTLET_PORT},
                    {"name": "api", "server_name": "api.fleet.bench", "upstream_group": "bench_api",
                     "upstream_port": ANTLET_PORT},
                    {"name": "site", "server_name": "{{ inventory_hostname }}.fleet.bench",
                     "upstreams": [{"address": "{{ hostvars[bench_site_antlet].antman_lb_address }}:%d" % ANTLET_PORT}]},
                ],
            },
        },
        "bench_shared": {"hosts": {"bench-a": {"antman_lb_address": ANTLETS["bench-a"]},
                                   "bench-b": {"antman_lb_address": ANTLETS["bench-b"]}}},
        "bench_api": {"hosts": {"bench-b": {}, "bench-c": {"antman_lb_address": ANTLETS["bench-c"]}}},
    }}}


def parse_recap(output):
    """{host: {ok, changed, unreachable, failed, skipped}} from ansible-playbook's PLAY RECAP."""
    recap = {}
    for match in RECAP.finditer(output):
        recap[match.group(1)] = dict(zip(("ok", "changed", "unreachable", "failed", "skipped"),
                                         (int(value) for value in match.groups()[1:])))
    return recap


class Fleet:
    """The world of one round, and ansible-playbook runs against it."""

    def __init__(self, workdir, count, forks, pipelining, image, collections=COLLECTIONS, connection=CONNECTION):
        self.workdir, self.count, self.image = workdir, count, image
        self.world = World(WORLD)
        self.inventory = os.path.join(workdir, "inventory.json")
        with open(self.inventory, "w") as handle:
            json.dump(inventory(count, connection), handle)
        self.floor = os.path.join(workdir, "floor.yml")
        with open(self.floor, "w") as handle:
            handle.write(FLOOR_PLAYBOOK)
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_FORKS=str(forks),
                        ANSIBLE_PIPELINING=str(pipelining).lower(), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_HOST_KEY_CHECKING="0")
        self.ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    def up(self):
        hosts = ["%s=10.79.20.%d" % (name, 10 + index) for index, name in enumerate(host_names(self.count))]
        antlets = ["%s=%s" % item for item in sorted(ANTLETS.items())]
        self.world.up(SUBNET, self.image, ANTLET_PORT, hosts, antlets)

    def down(self):
        self.world.down(quiet=True)

    def play(self, *args):
        """One ansible-playbook run: (seconds, recap). Fails with its output's end when it fails."""
        started = time.perf_counter()
        proc = subprocess.run([self.ansible_playbook, "-i", self.inventory] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=self.env, universal_newlines=True, check=False,
                              timeout=PLAYBOOK_TIMEOUT)
        elapsed = time.perf_counter() - started
        recap = parse_recap(proc.stdout)
        if proc.returncode != 0 or len(recap) != self.count:
            raise RuntimeError("ansible-playbook %s failed (exit %d):\n%s" % (" ".join(args), proc.returncode, proc.stdout[-4000:]))
        return elapsed, recap

    def round(self):
        """{run: (seconds, recap)} of one round, on a fresh world."""
        self.up()
        runs = {}
        runs["first"] = self.play("antsle.antman.site")
        runs["no-op"] = self.play("antsle.antman.site")
        runs["floor"] = self.play(self.floor)
        runs["one change"] = self.play("antsle.antman.site", "-e", "bench_release=2")
        runs["check"] = self.play("antsle.antman.site", "--check")
        runs["change back"] = self.play("antsle.antman.site")
        return runs


ROWS = ("first", "no-op", "one change", "check", "floor")


def changed_hosts(recap):
    return sum(1 for counts in recap.values() if counts["changed"])


def report(rounds, count, forks, pipelining, total):
    lines = [
        "### Fleet: the site playbook on %d antsle hosts (containers), %d round(s), forks %d, pipelining %s"
        % (count, len(rounds), forks, pipelining),
        "",
        "| run | wall (median) | per host | vs floor | rounds | hosts changed | tasks run / skipped per host |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ROWS:
        walls = [runs[name][0] for runs in rounds]
        ratios = [runs[name][0] / runs["floor"][0] for runs in rounds]
        # The second "one change" (the change back) counts as a sample of that row too.
        if name == "one change":
            walls += [runs["change back"][0] for runs in rounds]
            ratios += [runs["change back"][0] / runs["floor"][0] for runs in rounds]
        wall = median(walls)
        recap = rounds[-1][name][1]
        counts = sorted(set((c["ok"], c["skipped"]) for c in recap.values()))
        lines.append("| %s | %.1f s | %.2f s | %.2fx | %s | %s | %s |" % (
            name, wall, wall / count, median(ratios), ", ".join("%.1f" % w for w in walls),
            "/".join(str(changed_hosts(runs[name][1])) for runs in rounds),
            ", ".join("%d / %d" % pair for pair in counts)))
    predicted = [changed_hosts(runs["check"][1]) for runs in rounds]
    made = [changed_hosts(runs["change back"][1]) for runs in rounds]
    exact = all(sorted(h for h, c in runs["check"][1].items() if c["changed"])
                == sorted(h for h, c in runs["change back"][1].items() if c["changed"]) for runs in rounds)
    lines += ["", "--check predicted a change on %s host(s), the real run after it changed %s (%s); "
              "no-op runs changed %s host(s). Benchmark wall time %.0f s." % (
                  "/".join(map(str, predicted)), "/".join(map(str, made)), "the same hosts" if exact else "NOT the same hosts",
                  "/".join(str(changed_hosts(runs["no-op"][1])) for runs in rounds), total)]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--forks", type=int, default=None, help="default: --hosts (every host at once)")
    parser.add_argument("--pipelining", choices=("true", "false"), default="true")
    parser.add_argument("--image", default=IMAGE, help="the antsle hosts' image (default %(default)s)")
    parser.add_argument("--collections", default=COLLECTIONS, help="the collections tree to measure (default: this one)")
    parser.add_argument("--connection", default=CONNECTION, help="the hosts' ansible_connection (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="leave the last round's world running")
    parser.add_argument("--out")
    options = parser.parse_args()
    forks = options.forks or options.hosts
    # SIGTERM and SIGHUP unwind like Ctrl-C, so that the world is removed (set here, not at import:
    # the tests import this module).
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="antman-bench-fleet-") as workdir:
        fleet = Fleet(workdir, options.hosts, forks, options.pipelining, options.image, options.collections, options.connection)
        try:
            for index in range(options.rounds):
                began = time.perf_counter()
                rounds.append(fleet.round())
                print("round %d: %s (%.0f s)" % (index + 1, ", ".join(
                    "%s %.1f s" % (name, seconds) for name, (seconds, _recap) in rounds[-1].items()),
                    time.perf_counter() - began), file=sys.stderr, flush=True)
        finally:
            if not options.keep:
                fleet.down()
    text = report(rounds, options.hosts, forks, options.pipelining, time.perf_counter() - started)
    common.publish(text, options.out)


if __name__ == "__main__":
    main()
