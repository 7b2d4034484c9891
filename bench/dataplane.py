"""Scenario 1, data plane: requests/s and p99 latency with wrk on loopback.

Three paths to the same backend (an nginx ``return 200`` on three addresses: the Python backend
would be the bottleneck), measured in interleaved rounds whose order rotates, medians reported:

* direct: wrk -> backend;
* plain: wrk -> nginx with a hand-written ``upstream`` + ``proxy_pass``, no tuning;
* generated: wrk -> nginx with the rule the collection generates (``normalize_rule`` defaults,
  applied with ``Applier.run``);
* allow-listed: the same rule with ``allow_from`` (the client's network) and a ``rate_limit`` far
  above what the run reaches, on a second nginx: what checking who may reach a rule costs.
"""
import re

from ansible_collections.antsle.antman.bench import common

WRK_RPS_RE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_PCT_RE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_ERRORS_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_NON2XX_RE = re.compile(r"Non-2xx or 3xx responses: (\d+)")
UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
TARGET_RATIO = 2.3


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


def run(tiny=False, rounds=3, seconds=8, threads=2, connections=64):
    if tiny:
        rounds, seconds = 1, 1
    section = common.Section(
        "1. Data plane: throughput and p99 latency (wrk)",
        ["path", "req/s (median)", "p50", "p99 (median)", "errors + non-2xx", "vs plain", "vs direct"],
        "wrk -t%d -c%d, %d s per measurement, %d interleaved round(s), order rotated each round; "
        "backend: one nginx (2 workers) answering `return 200` on three addresses; balancer: nginx "
        "with 2 workers, access log off." % (threads, connections, seconds, rounds),
        short="data plane")
    with common.time_bound(rounds * 4 * (seconds + 10) + 60), common.world() as (stack, scratch):
        addresses = {}
        for index in range(1, 4):
            host = "127.0.31.%d" % index
            addresses["%s:%d" % (host, common.free_port(host))] = "antlet%d" % index
        backend = common.StaticBackend(scratch + "/backend", addresses, workers=2).start()
        stack.callback(backend.stop)
        first = backend.addresses[0]

        generated = common.start_nginx(stack, scratch, "generated", access_log=False)
        generated_port = common.free_port()
        common.apply_rule(generated, name="bench_dataplane", server_name="dp.bench.test", server_port=generated_port,
                          upstreams=[{"address": a} for a in backend.addresses])
        guarded = common.start_nginx(stack, scratch, "allow-listed", access_log=False)
        guarded_port = common.free_port()
        common.apply_rule(guarded, name="bench_dataplane", server_name="dp.bench.test", server_port=guarded_port,
                          upstreams=[{"address": a} for a in backend.addresses], allow_from=["127.0.0.0/8"],
                          rate_limit={"requests_per_second": 100000, "burst": 100000})
        plain_port = common.free_port()
        common.start_hand_written(stack, scratch, "plain", common.plain_config(plain_port, "dp.bench.test",
                                                                               backend.addresses), access_log=False)
        common.wait_serving(plain_port, "dp.bench.test")
        common.wait_serving(generated_port, "dp.bench.test")
        common.wait_serving(guarded_port, "dp.bench.test")
        paths = [
            ("direct", "http://%s/" % first),
            ("plain", "http://127.0.0.1:%d/" % plain_port),
            ("generated", "http://127.0.0.1:%d/" % generated_port),
            ("allow-listed", "http://127.0.0.1:%d/" % guarded_port),
        ]
        if not tiny:
            for name, url in paths:
                wrk(url, "dp.bench.test", 1, threads, connections)  # warm-up: workers, caches, connections
        samples = dict((name, []) for name, _unused in paths)
        for round_index in range(rounds):
            order = paths[round_index % len(paths):] + paths[:round_index % len(paths)]
            for name, url in order:
                samples[name].append(wrk(url, "dp.bench.test", seconds, threads, connections))

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
    ratio = medians["generated"]["rps"] / medians["plain"]["rps"]
    round_ratios = [g["rps"] / p["rps"] for g, p in zip(samples["generated"], samples["plain"])]
    section.note("generated / plain within each round: %s (median %.2fx)"
                 % (", ".join("%.2fx" % r for r in round_ratios), common.median(round_ratios)))
    section.note("each round's req/s: " + "; ".join(
        "%s %s" % (name, "/".join("%.0f" % r["rps"] for r in samples[name])) for name, _unused in paths))
    section.target("generated / plain req/s", "%.2fx" % ratio, ">= %.1fx" % TARGET_RATIO,
                   None if tiny else ratio >= TARGET_RATIO)
    section.target("generated / direct req/s", "%.2fx" % (medians["generated"]["rps"] / medians["direct"]["rps"]),
                   "(reported)", None)
    section.target("allow-listed / generated req/s", "%.2fx" % (medians["allow-listed"]["rps"] / medians["generated"]["rps"]),
                   "(reported)", None)
    section.data = {"medians": medians, "samples": samples, "ratio_plain": ratio}
    return section


if __name__ == "__main__":
    import sys
    print(run(tiny="--tiny" in sys.argv).markdown())
