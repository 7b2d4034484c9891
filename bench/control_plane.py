#!/usr/bin/env python
"""Control-plane benchmark: the whole rule set with lb_rules vs lb_rule in a loop.

For N rules (default 500) on a private nginx, three runs each: from empty, the same again (no-op),
and one rule changed among N. Two times per run, both from the same ``ansible-playbook`` run:
- module: the time of the module processes on the host, measured by the Python interpreter
  Ansible runs them with (a wrapper that times each process); for the loop, the sum over its N items;
- playbook: the whole ``ansible-playbook`` run (connection local), wall clock.

Prints a markdown table (and writes it with --out). Not a test: it asserts nothing.
Usage: python -m ansible_collections.antsle.antman.bench.control_plane [--rules 500] [--loop-rules 500] [--out FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.tests.support.harness import NginxInstance
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION, COLLECTIONS

MODULES = os.path.join(COLLECTION, "plugins", "modules")

PLAYBOOK_RULES = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: The whole rule set in one call
      antsle.antman.lb_rules:
        state: overridden
        config: "{{ rules }}"
        rules_dir: %(rules_dir)s
        nginx_conf: %(conf)s
        nginx_binary: %(binary)s
"""

PLAYBOOK_LOOP = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: One call per rule
      antsle.antman.lb_rule:
        name: "{{ item.name }}"
        server_name: "{{ item.server_name }}"
        server_port: "{{ item.server_port }}"
        upstreams: "{{ item.upstreams }}"
        rules_dir: %(rules_dir)s
        nginx_conf: %(conf)s
        nginx_binary: %(binary)s
      loop: "{{ rules }}"
      loop_control:
        label: "{{ item.name }}"
"""


def make_rules(count, changed_index=None):
    rules = []
    for index in range(count):
        weight = 3 if index != changed_index else 5
        rules.append({
            "name": "site%04d" % index,
            "server_name": ["site%04d.example.com" % index],
            "server_port": 8000 + index % 50,
            "upstreams": [{"address": "10.%d.%d.%d:8080" % (1 + k, index // 250, index % 250 + 1),
                           "weight": weight if k == 0 else 1} for k in range(3)],
        })
    return rules


class Bench:
    def __init__(self, workdir):
        self.workdir = workdir
        self.nginx = NginxInstance(os.path.join(workdir, "nginx")).start()
        self.host = {"rules_dir": self.nginx.rules_dir, "nginx_conf": self.nginx.conf, "nginx_binary": self.nginx.binary}
        self.env = dict(os.environ, PYTHONPATH=COLLECTIONS, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                        ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1")

    def write_timing_interpreter(self):
        """A python "interpreter" for Ansible that runs the real one and logs each process's time."""
        self.timings = os.path.join(self.workdir, "module-times.log")
        wrapper = os.path.join(self.workdir, "timed-python")
        with open(wrapper, "w") as handle:
            handle.write('#!/bin/sh\nstart=$(date +%%s%%N)\n"%s" "$@"\nrc=$?\necho $(( $(date +%%s%%N) - start )) >> "%s"\n'
                         'exit $rc\n' % (sys.executable, self.timings))
        os.chmod(wrapper, 0o755)
        self.env["ANSIBLE_PYTHON_INTERPRETER"] = wrapper

    def module_seconds(self):
        """Sum of the module process times logged since the last call."""
        try:
            with open(self.timings) as handle:
                total = sum(int(line) for line in handle if line.strip()) / 1e9
        except OSError:
            total = 0.0
        open(self.timings, "w").close()
        return total

    def module(self, name, args):
        """Run a module as Ansible does on the host; returns (seconds, result)."""
        path = os.path.join(self.workdir, "args.json")
        with open(path, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": dict(args, **self.host)}, handle)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, os.path.join(MODULES, name + ".py"), path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, universal_newlines=True,
                              check=False)
        elapsed = time.perf_counter() - started
        result = json.loads(proc.stdout)
        if result.get("failed"):
            raise RuntimeError("%s failed: %s" % (name, result.get("msg")))
        return elapsed, result

    def playbook(self, template, rules):
        playbook = os.path.join(self.workdir, "play.yml")
        variables = os.path.join(self.workdir, "vars.json")
        with open(playbook, "w") as handle:
            handle.write(template % {"rules_dir": self.nginx.rules_dir, "conf": self.nginx.conf,
                                     "binary": self.nginx.binary})
        with open(variables, "w") as handle:
            json.dump({"rules": rules}, handle)
        started = time.perf_counter()
        ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        proc = subprocess.run([ansible_playbook, "-i", "localhost,", "-c", "local", playbook, "-e", "@" + variables],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env, universal_newlines=True,
                              check=False)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError("playbook failed:\n%s" % proc.stdout[-3000:])
        return elapsed

    def reset(self):
        self.module("lb_rules", {"state": "deleted"})

    def series(self, template, runs):
        """[(playbook seconds, module seconds, rules changed)] for each run, from an empty host."""
        self.reset()
        self.module_seconds()
        results = []
        for rules in runs:
            before = self.module("lb_rules", {"state": "gathered"})[1]["gathered"]
            playbook = self.playbook(template, rules)
            module = self.module_seconds()
            after = dict((r["name"], r) for r in self.module("lb_rules", {"state": "gathered"})[1]["gathered"])
            changed = sum(1 for r in before if after.get(r["name"]) != r) + len(set(after) - set(r["name"] for r in before))
            results.append((playbook, module, changed))
        return results

    def close(self):
        self.nginx.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rules", type=int, default=500)
    parser.add_argument("--loop-rules", type=int, default=None, help="rules for the lb_rule loop (default: --rules)")
    parser.add_argument("--out")
    options = parser.parse_args()
    count = options.rules
    loop_count = options.loop_rules or count
    labels = ["from empty", "no-op (same again)", "one rule changed"]

    def runs(n):
        return [make_rules(n), make_rules(n), make_rules(n, changed_index=n // 2)]

    with tempfile.TemporaryDirectory(prefix="antman-bench-cp-") as workdir:
        bench = Bench(workdir)
        bench.write_timing_interpreter()
        try:
            started = time.perf_counter()
            whole_set = bench.series(PLAYBOOK_RULES, runs(count))
            loop = bench.series(PLAYBOOK_LOOP, runs(loop_count))
            total = time.perf_counter() - started
        finally:
            bench.close()
    scale = float(count) / loop_count
    lines = [
        "### Control plane: %d rules, lb_rules vs lb_rule in a loop%s" % (
            count, "" if loop_count == count else " (loop measured on %d rules, scaled x%.1f)" % (loop_count, scale)),
        "",
        "| run | lb_rules module | lb_rules playbook | lb_rule loop module | lb_rule loop playbook | speed-up (playbook) | speed-up (module) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, (sp, sm, changes), (lp, lm, _loop_changes) in zip(labels, whole_set, loop):
        lm, lp = lm * scale, lp * scale
        lines.append("| %s (%d changes) | %.2f s | %.2f s | %.1f s | %.1f s | %.0fx | %.0fx |" % (
            label, changes, sm, sp, lm, lp, lp / sp, lm / sm))
    lines += ["", "Targets: no-op of %d rules under 2 s of module time (measured %.2f s); lb_rules at least 20x faster "
              "than the loop. Benchmark wall time %.0f s." % (count, whole_set[1][1], total)]
    report = "\n".join(lines)
    common.publish(report, options.out)


if __name__ == "__main__":
    main()
