# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the health agent sees now, for readers (``lb_rule_info``, ``lb_rules state=gathered``, the
rule table): the status file it rewrites beside the rules directory (at once when a state changes,
else every few seconds)
(``.<rules dir>.health.json``, hidden like the lock and the journal), and the one function that
turns it, the declared rules and the applied verdicts into each upstream's ``health``.

The status file is not configuration: nothing renders from it (the applied verdicts in the rules
directory are what nginx serves). It carries the agent's pid and the time it last wrote; a reader
that finds the agent gone, or the file older than ``stale_after``, reports every checked upstream
``stale`` with the last values it knows, and ``in_rotation`` from the applied verdicts, which nginx
keeps serving.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import clean_detail
from ansible_collections.antsle.antman.plugins.module_utils.host.files import fsync_dir, remove_quietly, write_file
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import is_checked, rotation
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import process_alive

FORMAT = 1
HEALTHY, UNHEALTHY, UNKNOWN, OFF, STALE = "healthy", "unhealthy", "unknown", "off", "stale"
MIN_STALE_AFTER = 10.0  # seconds without a write after which a reader says stale


def status_path(rules_dir):
    """The status file of the agent of ``rules_dir``: ``/etc/nginx/.antman.d.health.json`` for
    ``/etc/nginx/antman.d``."""
    path = os.path.normpath(os.path.abspath(rules_dir))
    parent, base = os.path.split(path)
    return os.path.join(parent, ".%s.health.json" % base)


def write_status(path, body):
    """Replace the status file atomically (readers see the old one or the new one). Not synced to
    disk: the agent writes it again within seconds; a host that crashed may leave the last one
    stale or unreadable (read as no agent) until the agent, started again, writes it."""
    temporary = "%s.tmp-%d" % (path, os.getpid())
    remove_quietly(temporary)
    write_file(temporary, (json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n").encode("ascii"), 0o644,
               sync=False)
    os.rename(temporary, path)


def read_status(path):
    """The status body, or None (no file, or not one this reader understands)."""
    try:
        with open(path, "rb") as handle:
            body = json.loads(handle.read().decode("utf-8"))
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT or not isinstance(body.get("rules"), dict):
        return None
    return body


def agent_running(body, now=None):
    """Whether the agent that wrote ``body`` still runs and writes."""
    now = time.time() if now is None else now
    pid, updated = body.get("pid"), body.get("updated")
    if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(updated, (int, float)) or pid <= 0:
        return False
    stale_after = body.get("stale_after")
    stale_after = stale_after if isinstance(stale_after, (int, float)) else MIN_STALE_AFTER
    return process_alive(pid) and now - updated <= max(MIN_STALE_AFTER, stale_after)


def iso(epoch):
    """An epoch time as ISO 8601 UTC (what Ansible users read), or None."""
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _probe(entry):
    probe = entry.get("probe") if isinstance(entry, dict) else None
    if not isinstance(probe, dict):
        return None
    ms = probe.get("ms")
    return OrderedDict([("ok", probe.get("ok") is True), ("ms", ms if isinstance(ms, (int, float)) else None),
                        ("detail", clean_detail(probe.get("detail"))), ("at", iso(probe.get("at")))])


NO_AGENT, NO_LOG, STARTING = "no agent", "no access log", "starting"


def _traffic(body, running, name, address):
    """An upstream's traffic over the last minute as the agent last wrote it (``access_log.py``):
    ``requests_per_second``, ``errors_5xx_share`` (5xx answers of its tries, 0 to 1; None without
    tries), ``window_seconds``; numbers None and ``unavailable`` saying why when there are none."""
    traffic = body.get("traffic") if running else None
    unavailable = NO_AGENT if not running else NO_LOG if not isinstance(traffic, dict) else None
    window = traffic.get("window") if unavailable is None else None
    if unavailable is None and (not isinstance(window, (int, float)) or window <= 0):
        unavailable = STARTING  # not a full turn of snapshots yet
    if unavailable is not None:
        return OrderedDict([("requests_per_second", None), ("errors_5xx_share", None), ("window_seconds", None),
                            ("unavailable", unavailable)])
    by_rule = traffic.get("rules") if isinstance(traffic.get("rules"), dict) else {}
    figures = (by_rule.get(name) or {}).get(address) if isinstance(by_rule.get(name), dict) else None
    rate, share = figures if isinstance(figures, list) and len(figures) == 2 else (0.0, None)
    return OrderedDict([("requests_per_second", rate if isinstance(rate, (int, float)) else 0.0),
                        ("errors_5xx_share", share if isinstance(share, (int, float)) else None),
                        ("window_seconds", window), ("unavailable", None)])


def upstream_health(rules, verdicts, body, now=None):
    """{rule name: {address: health}} for every upstream of ``rules`` ({name: canonical rule}),
    from the applied ``verdicts`` (Verdicts) and the status ``body`` (None: no agent ran).

    health: ``state`` (healthy, unhealthy, unknown, off when not checked, stale when the agent is
    not running), ``since`` (ISO 8601), ``probe`` (the last one: ok, ms, detail, at; or None),
    ``in_rotation`` (whether nginx may send it traffic: neither declared down nor held out),
    ``traffic`` (``_traffic``: requests per second and 5xx share from the access log) and, when the
    agent says, ``fail_open``."""
    running = body is not None and agent_running(body, now)
    seen = body.get("rules", {}) if body is not None else {}
    result = OrderedDict()
    for name, rule in rules.items():
        unhealthy = verdicts.unhealthy(name)
        held = rotation(rule, unhealthy)
        by_address = OrderedDict()
        for upstream in rule["upstreams"]:
            address = upstream["address"]
            entry = (seen.get(name) or {}).get(address) if isinstance(seen.get(name), dict) else None
            entry = entry if isinstance(entry, dict) else {}
            health = OrderedDict([("state", OFF), ("since", None), ("probe", None),
                                  ("in_rotation", not upstream["down"] and address not in held.held_out)])
            if not upstream["down"] and is_checked(rule):
                if running:
                    state = entry.get("state")
                    health["state"] = state if state in (HEALTHY, UNHEALTHY, UNKNOWN) else UNKNOWN
                elif body is not None or address in unhealthy:
                    health["state"] = STALE
                verdict = verdicts.by_rule.get(name, {}).get(address)
                health["since"] = iso(entry.get("since")) or (iso(verdict.since) if verdict else None)
                health["probe"] = _probe(entry)
                health["fail_open"] = held.fail_open
            health["traffic"] = _traffic(body or {}, running, name, address)
            by_address[address] = health
        result[name] = by_address
    return result


def rules_health(snapshot, rules_dir, names=None, now=None):
    """``upstream_health`` of the rules of ``snapshot`` (``host/snapshot.py``; those in ``names`` when
    given) as the agent of ``rules_dir`` last wrote: what lb_rule_info and lb_rules state=gathered
    return beside the rules (a key of its own, so that the rules can be fed back as they are)."""
    rules = OrderedDict((name, rule) for name, rule in snapshot.rules().items() if names is None or name in names)
    return upstream_health(rules, snapshot.verdicts, read_status(status_path(rules_dir)), now)


def remove_status(path):
    remove_quietly(path)
    try:
        fsync_dir(os.path.dirname(path))
    except OSError:
        pass
