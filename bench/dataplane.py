"""Scenario 1, data plane: requests/s and p99 latency with wrk on loopback.

Paths to the same backend (an nginx ``return 200`` on three addresses: the Python backend would be
the bottleneck), measured in interleaved rounds whose order rotates, medians reported:

* direct: wrk -> backend;
* plain: wrk -> nginx with a hand-written ``upstream`` + ``proxy_pass``, no tuning;
* log off: wrk -> nginx with the rule the collection generates (``normalize_rule`` defaults, applied
  with ``Applier.run``), access log off: the rule alone;
* deployed: wrk -> the balancer as the role deploys it: Debian's nginx layout (its nginx.conf, its own
  access.log) and the site playbook with the same rule (base configuration, catch-all, status server,
  the role's access log);
* allow-listed: the generated rule with ``allow_from`` (the client's network) and a ``rate_limit`` far
  above what the run reaches, on a second nginx: what checking who may reach a rule costs;
* deployed + agent (``--agent``): deployed with the health agent running (``antman_lb_health``),
  which probes the upstreams and follows the access log.
"""
import argparse
import os
import re

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.plugins.module_utils.health import install
from ansible_collections.antsle.antman.tests.support.host_layouts import LayoutWorld, health_files, site

WRK_RPS_RE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_PCT_RE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_ERRORS_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON2XX_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
TARGET_RATIO = 2.5  # deployed / plain
TARGET_DIRECT = 0.45  # deployed / direct
HOST = "dp.bench.test"


def parse_wrk(text):
    """{rps, p50, p99, errors, non2xx} from ``wrk --latency`` output (times in seconds)."""
    rps = WRK_RPS_RE.search(text)
    if not rps:
        raise RuntimeError("wrk printed no Requests/sec:\n%s" % text)
    percentiles = dict((p, float(v) * UNIT[u]) for p, v, u in WRK_PCT_RE.findall(text))
    errors = WRK_ERRORS_RE.search(text)
    non2xx = WRK_NON2XX_RE.search(text)
    return {
        "rps": float(rps.group(1)),
        "p50": percentiles.get("50"),
        "p99": percentiles.get("99"),
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def wrk(url, host_header, seconds, threads, connections):
    args = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency",
            "-H", "Host: %s" % host_header, url]
    result = common.run_quiet(args, timeout=seconds + 30)
    if result.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (result.returncode, result.stdout))
    return parse_wrk(result.stdout)


def unbuffered(snippet, dropin):
    """The role's log written line by line (no buffer=/flush=): what the buffering buys."""
    return re.sub(r" buffer=\S+ flush=\S+;", ";", snippet), dropin


def as_before(snippet, dropin):
    """The role's log at http level, unbuffered, as before issue 26: every request is logged twice
    (Debian's access.log too). Today's reference for throughput and p99."""
    line = re.search(r"^access_log .*$", snippet, re.M).group(0)
    return snippet.replace(line, ""), dropin + re.sub(r" buffer=\S+ flush=\S+;", ";", line) + "\n"


def reuseport(snippet, dropin):
    """The catch-all's listen sockets with ``reuseport`` (one socket per worker, the kernel spreads
    new connections evenly): a candidate, not what the role writes."""
    return snippet, re.sub(r"(\n    listen \S+ default_server);", r"\1 reuseport;", dropin)


# Variants of the deployed balancer: the same deployment, its role files edited, nginx reloaded.
VARIANTS = {"deployed, unbuffered log": unbuffered, "deployed as before (log twice, unbuffered)": as_before,
            "deployed + reuseport": reuseport}


def edit_and_reload(world, variant):
    snippet_path, dropin_path = world.rules_dir + "-server.conf", world.path("/etc/nginx/conf.d/zz-antman.conf")
    with open(snippet_path) as handle, open(dropin_path) as other:
        snippet, dropin = variant(handle.read(), other.read())
    for path, text in ((snippet_path, snippet), (dropin_path, dropin)):
        with open(path, "w") as handle:
            handle.write(text)
    result = common.run_quiet([world.binary, "-c", world.conf, "-s", "reload"], timeout=30)
    if result.returncode != 0:
        raise RuntimeError("nginx refused the variant: %s" % result.stdout)


def deploy(stack, scratch, name, addresses, health=False, variant=None):
    """The balancer as the role deploys it on a Debian host: the package's layout and nginx.conf
    (worker_processes auto, its own access.log at http level) under a private prefix, then the site
    playbook with one rule with its defaults (then ``variant`` applied, see VARIANTS). Returns the
    port the rule listens on."""
    world = LayoutWorld("debian", extra_ports=(80,))
    world.start()
    stack.callback(world.stop)
    directory = os.path.join(scratch, name)
    os.makedirs(directory)
    extra, host_vars = [], {}
    if health:
        files, extra = health_files(world)
        stack.callback(install.stop, files["pid_file"], 10)  # before the world goes (callbacks run last first)
        host_vars = {"antman_lb_health": True, "antman_lb_metrics_listen": "127.0.0.1:%d" % common.free_port()}
    rules = [{"name": "bench_dataplane", "server_name": HOST, "server_port": world.port(80),
              "upstreams": [{"address": a} for a in addresses]}]
    result = site(world, directory, rules, *extra, **host_vars)
    if result["rc"] != 0:
        raise RuntimeError("the site playbook failed on the %s balancer: %s" % (name, result.get("errors") or result))
    if variant is not None:
        edit_and_reload(world, variant)
    return world.port(80)


def run(tiny=False, rounds=3, seconds=8, threads=2, connections=64, agent=False, variants=False):
    if tiny:
        rounds, seconds = 1, 1
    section = common.Section(
        "1. Data plane: throughput and p99 latency (wrk)",
        ["path", "req/s (median)", "p50", "p99 (median)", "errors + non-2xx", "vs plain", "vs direct"],
        "wrk -t%d -c%d, %d s per measurement, %d interleaved round(s), order rotated each round; "
        "backend: one nginx (2 workers) answering `return 200` on three addresses; balancers: nginx with 2 "
        "workers; deployed = Debian's nginx.conf + the site playbook (the role's access log on), log off = "
        "the same rule in a bare nginx without access log." % (threads, connections, seconds, rounds),
        short="data plane")
    deployments = 1 + (1 if agent else 0) + (len(VARIANTS) if variants else 0)
    with common.time_bound(rounds * (4 + deployments) * (seconds + 10) + 60 + 90 * deployments), \
            common.world() as (stack, scratch):
        addresses = {}
        for index in range(1, 4):
            host = "127.0.31.%d" % index
            addresses["%s:%d" % (host, common.free_port(host))] = "antlet%d" % index
        backend = common.StaticBackend(scratch + "/backend", addresses, workers=2).start()
        stack.callback(backend.stop)
        first = backend.addresses[0]

        generated = common.start_nginx(stack, scratch, "generated", access_log=False)
        generated_port = common.free_port()
        common.apply_rule(generated, name="bench_dataplane", server_name=HOST, server_port=generated_port,
                          upstreams=[{"address": a} for a in backend.addresses])
        guarded = common.start_nginx(stack, scratch, "allow-listed", access_log=False)
        guarded_port = common.free_port()
        common.apply_rule(guarded, name="bench_dataplane", server_name=HOST, server_port=guarded_port,
                          upstreams=[{"address": a} for a in backend.addresses], allow_from=["127.0.0.0/8"],
                          rate_limit={"requests_per_second": 100000, "burst": 100000})
        plain_port = common.free_port()
        common.start_hand_written(stack, scratch, "plain", common.plain_config(plain_port, HOST,
                                                                               backend.addresses), access_log=False)
        deployed_port = deploy(stack, scratch, "deployed", backend.addresses)
        paths = [
            ("direct", "http://%s/" % first),
            ("plain", "http://127.0.0.1:%d/" % plain_port),
            ("log off", "http://127.0.0.1:%d/" % generated_port),
            ("deployed", "http://127.0.0.1:%d/" % deployed_port),
            ("allow-listed", "http://127.0.0.1:%d/" % guarded_port),
        ]
        ports = [plain_port, generated_port, deployed_port, guarded_port]
        for index, (name, variant) in enumerate(sorted(VARIANTS.items()) if variants else []):
            ports.append(deploy(stack, scratch, "variant%d" % index, backend.addresses, variant=variant))
            paths.append((name, "http://127.0.0.1:%d/" % ports[-1]))
        if agent:
            ports.append(deploy(stack, scratch, "agent", backend.addresses, health=True))
            paths.append(("deployed + agent", "http://127.0.0.1:%d/" % ports[-1]))
        for port in ports:
            common.wait_serving(port, HOST)
        if not tiny:
            for name, url in paths:
                wrk(url, HOST, 1, threads, connections)  # warm-up: workers, caches, connections
        samples = dict((name, []) for name, _unused in paths)
        for round_index in range(rounds):
            order = paths[round_index % len(paths):] + paths[:round_index % len(paths)]
            for name, url in order:
                samples[name].append(wrk(url, HOST, seconds, threads, connections))

    medians = {}
    for name, _unused in paths:
        runs = samples[name]
        medians[name] = {
            "rps": common.median([r["rps"] for r in runs]),
            "p50": common.median([r["p50"] for r in runs]),
            "p99": common.median([r["p99"] for r in runs]),
            "bad": sum(r["errors"] + r["non2xx"] for r in runs),
        }
    for name, _unused in paths:
        m = medians[name]
        section.row(name, "%.0f" % m["rps"], common.ms(m["p50"]), common.ms(m["p99"]), m["bad"],
                    "%.2fx" % (m["rps"] / medians["plain"]["rps"]), "%.2fx" % (m["rps"] / medians["direct"]["rps"]))
    ratio = medians["deployed"]["rps"] / medians["plain"]["rps"]
    ratio_direct = medians["deployed"]["rps"] / medians["direct"]["rps"]
    for label, reference in (("plain", "plain"), ("direct", "direct"), ("log off", "log off")):
        round_ratios = [g["rps"] / p["rps"] for g, p in zip(samples["deployed"], samples[reference])]
        section.note("deployed / %s within each round: %s (median %.2fx)"
                     % (label, ", ".join("%.2fx" % r for r in round_ratios), common.median(round_ratios)))
    section.note("each round's req/s: " + "; ".join(
        "%s %s" % (name, "/".join("%.0f" % r["rps"] for r in samples[name])) for name, _unused in paths))
    section.note("each round's p99: " + "; ".join(
        "%s %s" % (name, "/".join(common.ms(r["p99"]) for r in samples[name])) for name, _unused in paths))
    section.target("deployed / plain req/s", "%.2fx" % ratio, ">= %.1fx" % TARGET_RATIO,
                   None if tiny else ratio >= TARGET_RATIO)
    section.target("deployed / direct req/s", "%.2fx" % ratio_direct, ">= %.2fx" % TARGET_DIRECT,
                   None if tiny else ratio_direct >= TARGET_DIRECT)
    section.target("deployed / log off req/s", "%.2fx" % (medians["deployed"]["rps"] / medians["log off"]["rps"]),
                   "(reported)", None)
    section.target("allow-listed / log off req/s", "%.2fx" % (medians["allow-listed"]["rps"] / medians["log off"]["rps"]),
                   "(reported)", None)
    section.data = {"medians": medians, "samples": samples, "ratio_plain": ratio, "ratio_direct": ratio_direct}
    return section


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The data plane alone (bench/run.sh --only dataplane runs it too).")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--agent", action="store_true", help="also: deployed with the health agent following the log")
    parser.add_argument("--variants", action="store_true", help="also: the deployed balancer %s" % " and ".join(VARIANTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    options = parser.parse_args()
    print(run(tiny=options.tiny, rounds=options.rounds, seconds=options.seconds, agent=options.agent,
              variants=options.variants).markdown())
