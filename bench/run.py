"""Run every benchmark scenario and write one markdown report (also printed).

    bench/run.sh                      # the usual way: setup, sync the build tree, then this
    bench/run.sh [--tiny] [--only dataplane,crash,hang,slow,reload,control,rolling,apps,health,access_log] [--results DIR]
    bench/run.sh --only fleet         # the fleet benchmark (Docker: antsle host containers); not in the default set

--tiny runs each scenario for a second or two (the smoke test uses it; its numbers mean nothing).
Benchmarks print numbers; they pass or fail nothing (the exit status is non-zero only when a
scenario could not run). Each scenario bounds its own run time and removes what it started.
"""
import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.tests.support.paths import child_env, tool

SCENARIOS = ("dataplane", "crash", "hang", "slow", "reload", "control", "rolling", "apps", "health", "access_log")
# Run only when named: they need Docker and the antsle host images (bench/run.sh provides both).
ON_REQUEST = ("fleet",)
CONTROL_PLANE_TIMEOUT = 900
FLEET_TIMEOUT = 3600


def machine():
    """Facts about where the numbers come from."""
    def out(args):
        try:
            result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                                    timeout=10, check=False)
            return result.stdout.strip()
        except OSError:
            return "?"
    model = [line.split(":", 1)[1].strip() for line in out(["lscpu"]).splitlines() if line.startswith("Model name")]
    return [
        ("cpu", "%s x %s" % (out(["nproc"]), model[0] if model else "?")),
        ("kernel", platform.release()),
        ("nginx", out([common.nginx_binary(), "-v"]).replace("nginx version: ", "")),
        ("wrk", out(["wrk", "-v"]).splitlines()[0] if out(["wrk", "-v"]) else "?"),
        ("python", platform.python_version()),
    ]


def load_average():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


class ToolScenario:
    """A benchmark that runs as a tool of its own (bench/control_plane.py, bench/fleet.py): its
    printed table is the section."""

    def __init__(self, title, dotted, tiny_args, timeout, tiny):
        self.title, self.dotted, self.timeout = title, dotted, timeout
        self.args = tiny_args if tiny else []

    def run(self):
        section = common.Section(self.title, [])
        result = subprocess.run(tool(self.dotted, *self.args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=self.timeout, cwd=common.ROOT, env=child_env(),
                                check=False)
        text = result.stdout.strip()
        if result.returncode != 0:
            raise RuntimeError("%s exited %d:\n%s" % (self.dotted, result.returncode, text[-2000:]))
        section.markdown = lambda: "## %s\n\n%s\n" % (self.title, text)
        return section


# name: (section title, tool, its arguments in --tiny mode, time bound)
TOOL_SCENARIOS = {
    "control": ("5. Control plane: lb_rules at scale", "bench.control_plane", ["--rules", 3], CONTROL_PLANE_TIMEOUT),
    "fleet": ("10. Fleet: the site playbook on N antsle hosts vs Ansible's floor", "bench.fleet",
              ["--hosts", 2, "--rounds", 1], FLEET_TIMEOUT),
}


def scenario(name, tiny, agent=False):
    if name in TOOL_SCENARIOS:
        return ToolScenario(*TOOL_SCENARIOS[name], tiny=tiny).run
    module = importlib.import_module("ansible_collections.antsle.antman.bench." + name)
    if name == "dataplane" and agent:
        return lambda: module.run(tiny=tiny, agent=True)
    return lambda: module.run(tiny=tiny)


def report(sections, info, started, finished, load_before, load_after, argv, failures):
    lines = ["# antsle.antman benchmarks", ""]
    lines.append("Run %s, %.0f s, command `%s`; load average (1/5/15 min) before %s, after %s."
                 % (datetime.datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M"), finished - started,
                    " ".join(argv), load_before, load_after))
    lines.append("")
    lines += ["- %s: %s" % item for item in info]
    lines += ["", "## Targets", ""]
    rows = [list(map(str, row)) for section in sections for row in section.summary]
    lines += common.table(["scenario", "measure", "value", "target", "met"], rows) if rows else ["(none)"]
    for name, error in failures:
        lines += ["", "**%s could not run**: %s" % (name, error)]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(section.markdown() for section in sections)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="a second or two per scenario (smoke test)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: %s" % ",".join(SCENARIOS + ON_REQUEST))
    parser.add_argument("--agent", action="store_true",
                        help="the data plane also measures the deployed balancer with the health agent running")
    parser.add_argument("--results", default=os.path.join(common.BENCH, "results"), help="directory for latest.md")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS + ON_REQUEST]
    if unknown:
        parser.error("unknown scenario(s): %s (choose from %s)" % (", ".join(unknown), ", ".join(SCENARIOS + ON_REQUEST)))

    from ansible_collections.antsle.antman.bench import netcut
    reaped = common.reap_stale() + netcut.reap_stale()
    if reaped:
        print("removed %d leftover(s) of killed benchmark runs" % reaped, file=sys.stderr)
    started, load_before = time.time(), load_average()
    info = machine()
    sections, failures = [], []
    try:
        for name in names:
            print("== %s ..." % name, file=sys.stderr, flush=True)
            began = time.monotonic()
            try:
                sections.append(scenario(name, args.tiny, args.agent)())
            except Exception as error:  # report it and go on with the other scenarios (cleanup already ran)
                traceback.print_exc()
                failures.append((name, "%s: %s" % (type(error).__name__, error)))
            print("   %s done in %.0f s" % (name, time.monotonic() - began), file=sys.stderr, flush=True)
    except (KeyboardInterrupt, common.Stopped):
        failures.append(("the rest of the run", "interrupted"))
    text = report(sections, info, started, time.time(), load_before, load_average(),
                  ["bench/run.py"] + (argv if argv is not None else sys.argv[1:]), failures)
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, "latest.md")
    with open(path, "w") as handle:
        handle.write(text)
    print(text)
    print("written to %s" % path, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
