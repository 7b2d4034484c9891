"""Scenario 6, rolling update under load: three antlets updated one after another while clients
keep asking, through two rules that share all three.

Two rows, the same load, the same deployment (stop the application, start the new version, which
listens 1 s later):

* **rolling playbook**: ``ansible-playbook antsle.antman.rolling`` (serial 1: lb_upstream disables
  and drains the antlet in both rules, the deployment, lb_upstream enables it behind the health
  check, verify), the way users run it;
* **restart without maintenance**: the same deployments one after another, with nothing told to
  the balancer: nginx's passive failover (connection refused -> next upstream) is all there is.

The load is open loop (latency from each request's scheduled start) on both rules, every 10th
request a POST, backends answering in 20 ms so that requests are in flight when an antlet goes.
Failures are counted as a browser-like client counts them (bench/loadclient.py). Who served what
comes from nginx's access log: each request's upstream(s) and worker pid; a thread records the
worker generations (one per reload), so a request served by the workers of a reload that took an
antlet out is known to have run with that antlet out of rotation.
"""
import json
import os
import threading
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.loadclient import BackgroundLoad, Target
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import child_pids
from ansible_collections.antsle.antman.tests.support.rolling import (
    DISABLE_TASK, ENABLE_TASK, make_antlets, module_results, run_rolling, wait_listening, write_deploy_tasks,
    write_inventory)

SERVICE_TIME = 0.02
START_AFTER = 1.0
SLOW = 1.0  # the target: no request slower than this


class WorkerGenerations:
    """Watches nginx's workers from a thread: each batch of new worker pids is one generation (0:
    the workers before, then one per reload), with the time it appeared."""

    def __init__(self, master_pid, interval=0.01):
        self.master, self.interval = master_pid, interval
        self.generation_of, self.started_at = {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        last_new = None
        while not self._stop.is_set():
            fresh = child_pids(self.master) - set(self.generation_of)
            if fresh:
                now = time.monotonic()
                if last_new is None or now - last_new > 0.2:  # workers of one reload appear together
                    self.started_at.append(now)
                last_new = now
                for pid in fresh:
                    self.generation_of[pid] = len(self.started_at) - 1
            time.sleep(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()


def access_lines(path):
    lines = []
    with open(path) as handle:
        for line in handle:
            if " pid=" not in line or " upstream=" not in line:
                continue
            upstream = line.split(" upstream=", 1)[1].split(" upstream_status=", 1)[0]
            lines.append((int(line.rsplit(" pid=", 1)[1].split()[0]), [u.strip() for u in upstream.split(",")]))
    return lines


def load_numbers(records):
    latencies = [r.latency for r in records]
    failed = [r for r in records if r.failed]
    return {
        "requests": len(records),
        "failed_get": sum(1 for r in failed if r.method == "GET"),
        "failed_post": sum(1 for r in failed if r.method == "POST"),
        "failed": failed,
        "raw": sum(1 for r in records if r.raw_failed),
        "slowest": max(latencies) if latencies else None,
        "p99": common.percentile(latencies, 0.99),
        "over": sum(1 for value in latencies if value > SLOW),
    }


def run_scenario(directory, stack, mode, rate, antlet_count, tiny):
    """One row: ``mode`` "playbook" (the rolling playbook) or "restart" (deployments only)."""
    lifetime = 600  # the antlets' applications exit by themselves after that, should nothing stop them
    antlets = make_antlets(directory, antlet_count, 37 if mode == "playbook" else 38, delay=SERVICE_TIME,
                           lifetime=lifetime)
    for antlet in antlets:
        stack.callback(antlet.stop)
    nginx = common.start_nginx(stack, directory, "lb")
    ports = [common.free_port(), common.free_port()]
    for name, port in zip(("shop", "blog"), ports):
        common.apply_rule(nginx, name=name, server_name="%s.bench.test" % name, server_port=port,
                          upstreams=[{"address": a.address} for a in antlets])
        common.wait_serving(port, "%s.bench.test" % name)
    deploy = write_deploy_tasks(os.path.join(directory, "deploy.yml"), start_after=START_AFTER, delay=SERVICE_TIME,
                                lifetime=lifetime)
    inventory = write_inventory(os.path.join(directory, "inventory.json"), nginx, antlets)
    generations = WorkerGenerations(nginx.master_pid()).start()
    load = BackgroundLoad([Target("127.0.0.1", port, "%s.bench.test" % name) for name, port in
                           zip(("shop", "blog"), ports)], rate, timeout=30, post_every=10).start()
    began = time.monotonic()
    try:
        time.sleep(1.0)  # load before the update starts: the steady state it is compared with
        if mode == "playbook":
            rc, tasks, output = run_rolling(directory, inventory, {
                "rolling_deploy_tasks": deploy, "rolling_health_interval": 0.2, "rolling_healthy_after": 2,
                "rolling_health_timeout": 30, "rolling_drain_timeout": 30})
            if rc != 0:
                raise RuntimeError("the rolling playbook failed:\n%s" % output[-3000:])
        else:
            tasks = []
            for antlet in antlets:
                antlet.restart(antlet.name + "-v2", start_after=START_AFTER, delay=SERVICE_TIME, lifetime=lifetime)
                wait_listening(antlet.host, antlet.port, timeout=30)
        update_seconds = time.monotonic() - began - 1.0
        time.sleep(1.0)
    finally:
        records = [r for per_target in load.stop() for r in per_target]
        generations.stop()
    numbers = load_numbers(records)
    numbers["update_seconds"] = update_seconds
    lines = access_lines(nginx.access_log)
    # Requests served by the workers of a reload that took antlet k out (generation 2k-1) and sent to it.
    numbers["sent_while_out"] = [
        sum(1 for pid, upstreams in lines if generations.generation_of.get(pid) == 2 * k + 1 and antlet.address in upstreams)
        for k, antlet in enumerate(antlets)] if mode == "playbook" else None
    numbers["tried_dead_first"] = sum(1 for _pid, upstreams in lines if len(upstreams) > 1)
    numbers["no_live"] = common.count_in_file(nginx.error_log, "no live upstreams")
    numbers["reloads"] = len(generations.started_at) - 1
    numbers["antlets"] = []
    disabled, enabled = dict(module_results(tasks, DISABLE_TASK)), dict(module_results(tasks, ENABLE_TASK))
    for k, antlet in enumerate(antlets):
        row = {"name": antlet.name}
        if antlet.name in disabled:
            row.update(drained_in=disabled[antlet.name]["drained_in"], left=disabled[antlet.name]["connections_left"],
                       probes=len(enabled[antlet.name]["health"]), rules=disabled[antlet.name]["rules"])
            if len(generations.started_at) > 2 * k + 2:
                row["out_for"] = generations.started_at[2 * k + 2] - generations.started_at[2 * k + 1]
        numbers["antlets"].append(row)
    return numbers


def run(tiny=False, rate=200):
    if tiny:
        rate = 20
    count = 2 if tiny else 3  # one alone could not be taken out: its rules would keep no upstream
    section = common.Section(
        "6. Rolling update under load: lb_upstream, one antlet after another",
        ["update", "requests", "failed GETs", "failed POSTs", "raw failures", "slowest", "p99", "> 1 s",
         "sent to an antlet out of rotation", "tried on a stopped antlet first", "'no live upstreams'", "reloads",
         "update took"],
        "Open loop, %d req/s on each of two rules sharing %d antlet(s) (every 10th a POST; backends answer in "
        "%g ms), from 1 s before the update to 1 s after. Each antlet's deployment stops its application and "
        "starts the new version, which listens %g s later. Latency counts from each request's scheduled start."
        % (rate, count, SERVICE_TIME * 1000, START_AFTER), short="rolling")
    results = {}
    with common.time_bound(600):
        for mode in ("playbook", "restart"):
            with common.world() as (stack, scratch):
                results[mode] = run_scenario(scratch, stack, mode, rate, count, tiny)
    labels = {"playbook": "rolling playbook (lb_upstream: drain, health gate)",
              "restart": "restart without maintenance (passive failover)"}
    for mode in ("playbook", "restart"):
        n = results[mode]
        section.row(labels[mode], n["requests"], common.breakdown([r for r in n["failed"] if r.method == "GET"]),
                    common.breakdown([r for r in n["failed"] if r.method == "POST"]), n["raw"], common.ms(n["slowest"]),
                    common.ms(n["p99"]), n["over"], "-" if n["sent_while_out"] is None else sum(n["sent_while_out"]),
                    n["tried_dead_first"], n["no_live"], n["reloads"], "%.1f s" % n["update_seconds"])
    playbook = results["playbook"]
    for row in playbook["antlets"]:
        if "drained_in" in row:
            section.note("%s: drained in %s s (connections left %s) in rules %s; out of rotation for %s; %d health "
                         "probe(s) before it was put back"
                         % (row["name"], row["drained_in"], row["left"], ", ".join(row["rules"]),
                            common.ms(row.get("out_for")), row["probes"]))
    section.note("Without maintenance, nginx learns that an antlet is gone from the requests it fails on "
                 "(connection refused, retried on the next upstream), marks it unavailable for fail_timeout (10 s) "
                 "after max_fails (3) failures, and keeps avoiding it for that long after it is back: the next "
                 "antlet's restart within that window leaves a rule without an available upstream, and nginx "
                 "answers 502 ('no live upstreams' in its error log). lb_upstream takes the antlet out before it stops and puts it "
                 "back once it answers, so nginx never has to learn anything from failed requests.")
    section.note("'sent to an antlet out of rotation': requests served by the workers of the reload that took an "
                 "antlet out and passed to that antlet (nginx's access log: upstream and worker pid). 'tried on a "
                 "stopped antlet first': requests nginx sent to an upstream that failed and then retried on another "
                 "(two or more upstreams in the log line).")
    failed = playbook["failed_get"] + playbook["failed_post"]
    section.target("rolling update of %d antlets: failed requests (browser-like)" % count, failed, "0",
                   None if tiny else failed == 0)
    section.target("rolling update: slowest request", common.ms(playbook["slowest"]), "< 1 s",
                   None if tiny else playbook["slowest"] < SLOW)
    section.target("restart without maintenance: failed requests", results["restart"]["failed_get"]
                   + results["restart"]["failed_post"], "(reported)", None)
    section.data = dict((mode, dict((k, v) for k, v in n.items() if k != "failed")) for mode, n in results.items())
    return section


if __name__ == "__main__":
    import sys
    result = run(tiny="--tiny" in sys.argv)
    print(result.markdown())
    if "--json" in sys.argv:
        print(json.dumps(result.data, indent=1, default=str))
