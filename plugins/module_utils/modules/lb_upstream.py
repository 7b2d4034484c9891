# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_upstream module: one upstream address taken out of rotation (``down: true``)
or put back, in every managed rule that has it, in one transaction (one validation, one
``nginx -t``, one reload).

Order of events:

1. every option is parsed (``model/upstream.py``), then the rules on the host are read and the
   change is planned; anything refused (no rule has the address, a rule would keep no upstream in
   rotation...) fails here, naming the rule, before anything is touched;
2. ``enabled``: the health check probes the address first; if it never passes, the module fails
   and nothing is changed (the address stays out of rotation);
3. the transaction applies the plan, recomputed under its lock from what is on disk then;
4. ``disabled`` with ``wait_drained``: the module waits until nginx holds no connection to the
   address (``host/connections.py``), up to ``timeout``; connections that outlive it (long TCP
   sessions) are reported and never cut.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.host import connections, probe
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.model.upstream import (
    DEFAULTS, DISABLED, ENABLED, STATES, parse_request, plan_state)
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options, transaction

MODULE_KWARGS = {}
MAX_PROBES_SHOWN = 100


def argument_spec():
    spec = host_options()
    spec.update(apply_options())
    spec.update(
        address=dict(type="str", required=True),
        state=dict(type="str", required=True, choices=list(STATES)),
        rules=dict(type="list", elements="str"),
        wait_drained=dict(type="bool", default=DEFAULTS["wait_drained"]),
        timeout=dict(type="float", default=DEFAULTS["timeout"]),
        health_check=dict(type="bool", default=DEFAULTS["health_check"]),
        health_path=dict(type="str"),
        health_status=dict(type="list", elements="str", default=list(DEFAULTS["health_status"])),
        healthy_after=dict(type="int", default=DEFAULTS["healthy_after"]),
        health_interval=dict(type="float", default=DEFAULTS["health_interval"]),
        allow_missing=dict(type="bool", default=DEFAULTS["allow_missing"]),
    )
    return spec


def check_health(request):
    """(passed, probes) of the request's health check of its address."""
    health = request.health
    if health.kind == "http":
        def check(timeout):
            return probe.http_check(request.address, health.path, health.statuses, timeout)
    else:
        def check(timeout):
            return probe.tcp_check(request.address, timeout)
    return probe.health_gate(check, health.healthy_after, health.interval, request.timeout)


def health_failure(request, plan, probes):
    last = probes[-1]
    return ("%s did not pass the health check (%s) %d time%s in a row within %g s: %d probe%s, the last one %s; it "
            "stays out of rotation in %s, nothing was changed"
            % (request.address, request.health.describe(), request.health.healthy_after,
               "" if request.health.healthy_after == 1 else "s", request.timeout, len(probes),
               "" if len(probes) == 1 else "s", "passed" if last["ok"] else "failed (%s)" % last["error"],
               ", ".join("'%s'" % name for name in plan.changing)))


def drain_counter(applier, request):
    """The connection counter of the drain, made before anything is touched (a host name that
    does not resolve, or nginx's sockets that cannot be read, fail the module here)."""
    master = applier.nginx.master_pid()
    if master is None:
        return None
    try:
        connections.check_readable(master)
        return connections.ConnectionCounter(master, request.address)
    except connections.ConnectionsError as error:
        raise RuleError(["wait_drained: %s; set wait_drained: false to not wait" % error])


def run(module):
    params = module.params
    request = parse_request(params)
    applier = transaction(module).read_host()
    plan = plan_state(applier.host.snapshot(applier.features, recovered=module.check_mode).rules(), request)
    result = dict(changed=False, address=request.address, state=request.state, matched=plan.matched, rules=[],
                  reloaded=False, drained_in=None, connections_left=None, health=[])
    if not plan.matched:
        return result  # allow_missing, and nothing has the address
    drain = request.state == DISABLED and request.wait_drained and not module.check_mode and params["reload"]
    counter = drain_counter(applier, request) if drain else None
    if request.state == ENABLED and request.health is not None and plan.changing:
        passed, probes = check_health(request)
        result["health"] = probes[-MAX_PROBES_SHOWN:]
        if not passed:
            module.fail_json(msg=health_failure(request, plan, probes), **result)
    outcome = applier.run(lambda have: plan_state(have.rules(), request).desired)
    result.update(changed=outcome.changed, rules=[change.name for change in outcome.changes], reloaded=outcome.reloaded,
                  warnings=outcome.warnings())
    if module._diff and outcome.changes:
        result["diff"] = [change.diff() for change in outcome.changes]
    if request.state == DISABLED and request.wait_drained and not params["reload"]:
        result["warnings"].append("reload: false, so nginx still sends traffic to %s; the drain was not waited for"
                                  % request.address)
    if counter is not None:
        drained_in, left = connections.wait_drained(counter.count, request.timeout)
        result.update(drained_in=drained_in, connections_left=left)
        if left:
            result["warnings"].append("%s: nginx still has %d connection%s to it after %g s (requests or sessions still "
                                      "running; they were not cut)" % (request.address, left, "" if left == 1 else "s",
                                                                       request.timeout))
    return result
