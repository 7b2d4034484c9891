"""Scenario 8, active health checks: the health agent beside nginx, one rule of three antlets with
the defaults, open-loop load, against the same cases without the agent (passive checks only).

Cases (a fresh nginx, fresh antlets and a fresh agent each):

* hang: one antlet SIGSTOPped for ``hung`` seconds at 200 req/s, then resumed (recovery);
* broken: one antlet answers 500 to everything;
* slow: three GETs of a page slower than read_timeout among 100 req/s;
* endpoint: every antlet's health endpoint answers 500 while the application serves (fail open);
* crash: one antlet killed, with a tcp rule over the same antlets beside the http one;
* cost: the agent's CPU and memory with 100 rules x 3 upstreams at the default interval;
* transitions: 9 rules over 3 antlets whose health endpoints fail and recover in turn (>= 50
  transitions) while WebSockets keep being opened and held, and keep-alive load runs: reloads per
  transition, raw keep-alive failures per reload, nginx worker generations and memory; beside the
  same transitions applied one reload each (what an agent without ReloadGovernor would do).

"Out of rotation" is timed pessimistically (see health_world.py): nginx serves without the antlet
once the reload that followed the rule file's change has started its workers and told the old ones
to stop (100 ms later: nginx's master waits that long); "after it was out" counts from then,
"after its file changed" from the change, which comes earlier (requests between the two are
still served by the old workers). The numbers are reported, never asserted.
"""
import os
import sys
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.health_reloads import one_reload_each_case, transitions_case
from ansible_collections.antsle.antman.bench.health_world import AgentProcess, HOST, World
from ansible_collections.antsle.antman.bench.slow import fire_slow

TODAY = {"max_fails": 3, "next_upstream_timeout": "18s"}  # main's passive defaults, before the slow-page change
SLOW = 1.0


def after(records, moment):
    return [r for r in records if moment is not None and r.start >= moment]


def seconds(value):
    return "-" if value is None else "%.2f s" % value


def between(later, earlier):
    return None if later is None or earlier is None else later - earlier


# ---------------------------------------------------------------- the cases

def hang_case(agent, fields, rate, hang_at, hung, tail):
    with common.world() as (stack, scratch):
        w = World(stack, scratch, agent, fields)
        victim = w.antlets[1]
        records = w.load(rate, hang_at + hung + tail, [(hang_at, "hang", victim.hang),
                                                       (hang_at + hung, "resume", victim.resume)])
        hang, resume = w.events["hang"], w.events["resume"]
        out_file, out_served = w.served.first("web", lambda held: victim.address in held, hang)
        _file, back_served = w.served.first("web", lambda held: victim.address not in held, resume)
        hung_records = [r for r in records if r.start < resume]
        result = {
            "requests": len(records), "failed": len([r for r in hung_records if r.failed]),
            "slow": len([r for r in records if r.latency > SLOW]),
            "slow_after_file": len([r for r in after(hung_records, out_file) if r.latency > SLOW]),
            "slow_after_out": len([r for r in after(hung_records, out_served) if r.latency > SLOW]),
            "slow_after_3s": len([r for r in after(hung_records, hang + 3.0) if r.latency > SLOW]),
            "slowest": max(r.latency for r in records), "out": between(out_served, hang),
            "back": between(back_served, resume),
            "failed_after_resume": len([r for r in after(records, resume) if r.failed]),
            "reloads": w.reloads_and_transitions(),
        }
    return result


def broken_case(agent, rate, break_at, duration):
    with common.world() as (stack, scratch):
        w = World(stack, scratch, agent)
        victim = w.antlets[0]
        records = w.load(rate, duration, [(break_at, "break", victim.break_paths)])
        broke = w.events["break"]
        out_file, out_served = w.served.first("web", lambda held: victim.address in held, broke)
        errors = [r for r in records if r.outcome == "http 500"]
        return {"requests": len(records), "errors": len(errors), "out": between(out_served, broke),
                "errors_after_file": len(after(errors, out_file)), "errors_after_out": len(after(errors, out_served)),
                "errors_after_3s": len(after(errors, broke + 3.0)),
                "sent_after_3s": len(after(records, broke + 3.0)), "reloads": w.reloads_and_transitions()}


def slow_case(agent, fields, rate, duration, slow_at, count, page_seconds):
    with common.world() as (stack, scratch):
        w = World(stack, scratch, agent, fields)
        answers, threads = [], []
        records = w.load(rate, duration, [(slow_at, "slow", lambda: threads.extend(
            fire_slow(w.port, count, page_seconds, answers, HOST)))], timeout=30)
        for thread in threads:
            thread.join(timeout=60)
        taken_out = sum(1 for _f, _s, held in w.served.changes["web"] if held)
        return {"requests": len(records), "failed": len([r for r in records if r.failed]),
                "answers": sorted(answers, key=str), "taken_out": taken_out,
                "no_live": common.count_in_file(w.nginx.error_log, "no live upstreams"),
                "reloads": w.reloads_and_transitions()}


def endpoint_case(rate, break_at, duration):
    with common.world() as (stack, scratch):
        w = World(stack, scratch, True, {"health_check": {"path": "/health", "status": "200"}})

        def break_all():
            for antlet in w.antlets:
                antlet.break_paths("/health")
        records = w.load(rate, duration, [(break_at, "break", break_all)])
        most = max([len(held) for _f, served, held in w.served.changes["web"] if served] + [0])
        final = w.served.changes["web"][-1][2] if w.served.changes["web"] else frozenset()
        return {"requests": len(records), "failed": len([r for r in records if r.failed]), "most_out": most,
                "final_out": len(final), "fail_open": "all stay in rotation (fail open)" in w.agent.log(),
                "reloads": w.reloads_and_transitions()}


def crash_case(agent, rate, kill_at, duration):
    with common.world() as (stack, scratch):
        w = World(stack, scratch, agent, tcp=True)
        victim = w.antlets[2]
        records = w.load(rate, duration, [(kill_at, "kill", victim.kill)])
        killed = w.events["kill"]
        _f, http_out = w.served.first("web", lambda held: victim.address in held, killed)
        _f, tcp_out = w.served.first("raw", lambda held: victim.address in held, killed)
        return {"requests": len(records), "failed": len([r for r in records if r.failed]),
                "out": between(http_out, killed), "tcp_out": between(tcp_out, killed),
                "reloads": w.reloads_and_transitions()}


def cost_case(rules, upstreams, window):
    """The agent's own CPU (as % of one core) and memory with ``rules`` rules of ``upstreams``
    upstreams each, every rule a site of its own (its own Host header: probes are not shared)."""
    with common.world() as (stack, scratch):
        names = dict(("127.0.62.%d:%d" % (i + 1, common.free_port("127.0.62.%d" % (i + 1))), "antlet%d" % (i + 1))
                     for i in range(upstreams))
        backend = common.StaticBackend(os.path.join(scratch, "antlets"), names)
        backend.start()
        stack.callback(backend.stop)
        nginx = common.start_nginx(stack, scratch, "lb", access_log=False)
        port = common.free_port()
        nginx.apply([{"name": "site%03d" % i, "server_name": "site%03d.bench.test" % i, "server_port": port,
                      "upstreams": [{"address": a} for a in backend.addresses]} for i in range(rules)])
        agent = AgentProcess(nginx, scratch).start(stack)
        began = time.monotonic()
        agent.wait_healthy(rules * upstreams, within=60)
        ready = time.monotonic() - began
        cpu_before, wall_before = agent.cpu_seconds(), time.monotonic()
        probes_before = agent.status().get("probes", 0)
        time.sleep(window)
        cpu, wall = agent.cpu_seconds() - cpu_before, time.monotonic() - wall_before
        probes = agent.status().get("probes", 0) - probes_before
        rss, peak = agent.memory()
        return {"rules": rules, "checks": rules * upstreams, "ready": ready, "cpu": 100.0 * cpu / wall,
                "probes": probes / wall, "rss": rss, "peak": peak, "window": wall}


# ---------------------------------------------------------------- the report

def run(tiny=False):
    section = common.Section(
        "8. Active health checks: the agent beside nginx",
        ["case", "measure", "with the agent", "no agent (passive only)", "no agent, main's defaults (today)", "goal"],
        "One rule of three antlets (Python backends) with the defaults (health_check: interval 1s, timeout 1s, "
        "fails 2, passes 2), open-loop GETs, a fresh nginx (2 workers), antlets and agent (its own process, "
        "as the role runs it) per case. 'Out' = nginx serves the rule without the antlet: its file changed "
        "and the reload's new workers started and the old ones were told to stop (their 'gracefully shutting down', "
        "100 ms later; read every 20 ms); requests 'after it was out' count from then, "
        "'after its file changed' from the change (the old workers serve until the reload). main's defaults = max_fails 3, next_upstream_timeout 18s.",
        short="health")
    if tiny:
        plan = {"rate": 100, "hang_at": 0.5, "hung": 4.0, "tail": 4.0, "slow_rate": 50, "slow_duration": 6.0,
                "slow_fields": {"read_timeout": "1s"}, "page": 3.0, "broken": (50, 0.5, 5.0), "endpoint": (50, 0.5, 5.0),
                "crash": (100, 0.5, 5.0), "cost": (3, 3, 2.0), "cycles": 1, "one_each": 0}
    else:
        plan = {"rate": 200, "hang_at": 2.0, "hung": 40.0, "tail": 6.0, "slow_rate": 100, "slow_duration": 18.0,
                "slow_fields": {}, "page": 7.0, "broken": (100, 3.0, 15.0), "endpoint": (100, 2.0, 12.0),
                "crash": (200, 2.0, 10.0), "cost": (100, 3, 30.0), "cycles": 3, "one_each": 54}
    variants = [("agent", True, {}), ("passive", False, {})] + ([] if tiny else [("today", False, TODAY)])
    results = {}
    with common.time_bound(1500 if not tiny else 240):
        results["hang"] = dict((name, hang_case(agent, fields, plan["rate"], plan["hang_at"], plan["hung"], plan["tail"]))
                               for name, agent, fields in variants[:1 if tiny else 3])
        results["broken"] = dict((name, broken_case(agent, *plan["broken"])) for name, agent, _f in variants[:1 if tiny else 2])
        results["slow"] = dict((name, slow_case(agent, dict(fields, **plan["slow_fields"]), plan["slow_rate"],
                                                plan["slow_duration"], 1.0 if not tiny else 0.3, 3, plan["page"]))
                               for name, agent, fields in variants[:1 if tiny else 3])
        results["endpoint"] = endpoint_case(*plan["endpoint"])
        results["crash"] = dict((name, crash_case(agent, *plan["crash"])) for name, agent, _f in variants[:1 if tiny else 2])
        for key, measure in (("cost", lambda: cost_case(*plan["cost"])),
                             ("transitions", lambda: transitions(plan, tiny))):
            try:
                results[key] = measure()
            except Exception as error:  # pylint: disable=broad-except  # reported; the other numbers stand
                section.note("**%s could not run**: %s: %s" % (key, type(error).__name__, error))
    print("health results: %r" % (results,), file=sys.stderr)  # the raw numbers, whatever happens to the report
    report(section, results, plan, tiny)
    section.data = results
    return section


def transitions(plan, tiny):
    measured = [transitions_case(9 if not tiny else 2, plan["cycles"], 3.0, 3.5, plan["rate"], 0.5,
                                 2.0 if not tiny else 0.5)]
    if plan["one_each"]:
        measured.append(one_reload_each_case(9, plan["one_each"], 0.3, plan["rate"], 0.5))
    return measured


def cells(results, show):
    """The three variant columns of one measure."""
    return [show(results[name]) if name in results else "-" for name in ("agent", "passive", "today")]


def cost_rows(section, cost):
    label = "cost: %d rules x %d upstreams (%d checks), interval 1s" % (
        cost["rules"], cost["checks"] // cost["rules"], cost["checks"])
    section.row(label, "agent CPU, %% of one core (%.0f s window)" % cost["window"], "%.1f %%" % cost["cpu"], "-", "-", "< 5 %")
    section.row(label, "agent memory: RSS now / peak", "%.1f MB / %.1f MB" % (cost["rss"], cost["peak"]), "-", "-", "< 60 MB")
    section.row(label, "probes per second / ready after", "%.0f / %.1f s" % (cost["probes"], cost["ready"]), "-", "-", "-")


def report(section, results, plan, tiny):
    hang = results["hang"]
    label = "hang %g s at %d req/s" % (plan["hung"], plan["rate"])
    section.row(label, "failed requests (of all sent while hung)", *cells(hang, lambda r: "%d of %d" % (
        r["failed"], r["requests"])), "0")
    section.row(label, "out of rotation after", *cells(hang, lambda r: seconds(r["out"])), "<= 3 s")
    section.row(label, "requests over 1 s, all", *cells(hang, lambda r: r["slow"]), "-")
    section.row(label, "started after it was out, over 1 s", *cells(hang, lambda r: r["slow_after_out"]
                if r["out"] is not None else "-"), "0")
    section.row(label, "started after its file changed (the reload under way), over 1 s", *cells(
        hang, lambda r: r["slow_after_file"] if r["out"] is not None else "-"), "-")
    section.row(label, "started > 3 s after the hang, over 1 s", *cells(hang, lambda r: r["slow_after_3s"]),
                "0")
    section.row(label, "slowest", *cells(hang, lambda r: common.ms(r["slowest"])), "-")
    section.row("recovery (the hung antlet resumed)", "back in rotation after it answered",
                *cells(hang, lambda r: seconds(r["back"])), "<= 3 s (passes x interval + 1 s)")
    section.row("recovery (the hung antlet resumed)", "failed requests after it answered",
                *cells(hang, lambda r: r["failed_after_resume"]), "0")
    broken = results["broken"]
    label = "one antlet answers 500, %d req/s" % plan["broken"][0]
    section.row(label, "out of rotation after", *cells(broken, lambda r: seconds(r["out"])), "<= 3 s")
    section.row(label, "500s reaching clients, all", *cells(broken, lambda r: "%d of %d" % (
        r["errors"], r["requests"])), "-")
    section.row(label, "500s after it was out", *cells(broken, lambda r: r["errors_after_out"]
                if r["out"] is not None else "-"), "0")
    section.row(label, "500s after its file changed (the reload under way)", *cells(
        broken, lambda r: r["errors_after_file"] if r["out"] is not None else "-"), "-")
    section.row(label, "500s sent from 3 s after it broke", *cells(broken, lambda r: "%d of %d" % (
        r["errors_after_3s"], r["sent_after_3s"])), "0")
    slow = results["slow"]
    label = "3 slow GETs (%g s) among %d req/s" % (plan["page"], plan["slow_rate"])
    section.row(label, "other requests failed", *cells(slow, lambda r: "%d of %d" % (r["failed"], r["requests"])),
                "0")
    section.row(label, "the slow GETs' answers", *cells(slow, lambda r: ", ".join(
        "%s after %.1f s" % (status, took) for status, took in r["answers"])), "-")
    section.row(label, "antlets taken out by the agent / 'no live upstreams'", *cells(
        slow, lambda r: "%d / %d" % (r["taken_out"], r["no_live"])), "0 / 0")
    endpoint = results["endpoint"]
    label = "every health endpoint broken, the application serves, %d req/s" % plan["endpoint"][0]
    section.row(label, "failed requests", "%d of %d" % (endpoint["failed"], endpoint["requests"]), "-", "-", "0")
    section.row(label, "most antlets out at once / out at the end", "%d / %d%s" % (
        endpoint["most_out"], endpoint["final_out"], " (fail open)" if endpoint["fail_open"] else ""), "-", "-",
        "- / 0 (fail open)")
    crash = results["crash"]
    label = "one antlet killed, %d req/s" % plan["crash"][0]
    section.row(label, "failed requests", *cells(crash, lambda r: "%d of %d" % (r["failed"], r["requests"])), "0")
    section.row(label, "out of rotation after (http rule)", *cells(crash, lambda r: seconds(r["out"])), "<= 3 s")
    section.row(label, "out of rotation after (tcp rule, same antlets)", *cells(crash, lambda r: seconds(r["tcp_out"])),
                "<= 3 s")
    cost = results.get("cost")
    if cost:
        cost_rows(section, cost)
    reloads = [("hang", hang.get("agent")), ("500", broken.get("agent")), ("crash", crash.get("agent")),
               ("endpoint", endpoint)]
    section.row("reloads per transition", "reloads / transitions decided",
                ", ".join("%s %d/%d" % (name, r["reloads"][0], r["reloads"][1]) for name, r in reloads if r and r["reloads"]),
                "-", "-", "1 or less")
    for result in results.get("transitions", []):
        label = "%d transitions, %s, WebSockets opened 2/s and held" % (result["transitions"], result["label"])
        section.row(label, "reloads (per transition)", "%d (%.2f)" % (result["reloads"], result["reloads"] / float(
            max(1, result["transitions"]))), "-", "-", "bounded")
        section.row(label, "raw keep-alive failures per reload (%d req/s) / failed browser-like" % plan["rate"],
                    "%.1f (%d) / %d" % (result["raw"] / float(max(1, result["reloads"])), result["raw"], result["failed"]),
                    "-", "-", "- / 0")
        section.row(label, "nginx workers serving + shutting down, before -> after; memory (PSS)",
                    "%d+%d -> %d+%d; %.1f -> %.1f MB (%d WebSockets)" % (
                        result["before"][0], result["before"][1], result["after"][0], result["after"][1],
                        result["before"][2], result["after"][2], result["sockets"]), "-", "-", "bounded")
    for name, value, goal, met in (
            ("hang: out of rotation", hang["agent"]["out"], 3.0, None),
            ("500: out of rotation", broken["agent"]["out"], 3.0, None),
            ("crash: out of rotation", crash["agent"]["out"], 3.0, None)):
        section.target(name + " (agent)", seconds(value), "<= %g s" % goal,
                       None if tiny or value is None else value <= goal)
    section.target("slow pages: other requests failed (agent)", slow["agent"]["failed"], "0",
                   None if tiny else slow["agent"]["failed"] == 0)
    if cost:
        section.target("agent CPU / memory, %d checks" % cost["checks"], "%.1f %% / %.1f MB" % (cost["cpu"], cost["rss"]),
                       "< 5 % / < 60 MB", None if tiny else cost["cpu"] < 5 and cost["rss"] < 60)
    section.note("Failed = the client got no 2xx after the browser-like retry (see section 4); every request is a GET "
                 "(POSTs are not retried once sent, see section 3: a POST that reached the hung antlet before it was "
                 "out gets a 504 after read_timeout).")
    section.note("The hang's slow requests are the ones already sent to the antlet when it hung: they wait read_timeout "
                 "(5 s) and are retried elsewhere, with or without the agent; the agent takes it out before the first "
                 "of them times out, so no later request meets it.")


if __name__ == "__main__":
    print(run(tiny="--tiny" in sys.argv).markdown())
