#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_rule_info
short_description: List the load-balancing rules of an antsle host, optionally probing their upstreams
version_added: 0.1.0
description:
  - Reads every rule managed by this collection back from O(rules_dir) (or one, by O(name)) and returns
    them in canonical form, the form M(antsle.antman.lb_rule) and M(antsle.antman.lb_rules) accept.
  - With O(probe=true) it also tries a TCP connection to every upstream, from the antsle host, and reports
    whether it was accepted and how long it took. The C(antsle.antman.rules) playbook prints this as a table.
  - Fails if O(rules_dir) is not included from the http context of O(nginx_conf).
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description:
      - Return only the rule of this name. If there is none, RV(rules) is empty and the module warns, naming the
        managed rules there are.
    type: str
  probe:
    description:
      - Probe every upstream with a TCP connection, concurrently.
    type: bool
    default: false
  probe_timeout:
    description:
      - Seconds to wait for each probe connection.
    type: float
    default: 1.0
seealso:
  - module: antsle.antman.lb_rule
  - module: antsle.antman.lb_rules
"""

EXAMPLES = r"""
- name: List every rule
  antsle.antman.lb_rule_info:
  register: lb

- name: One rule, with the reachability of its upstreams
  antsle.antman.lb_rule_info:
    name: my-balanced-page
    probe: true
  register: lb

- name: Show which upstreams are unreachable
  ansible.builtin.debug:
    msg: "{{ item.0.name }} -> {{ item.1.address }}: {{ item.1.probe_error }}"
  loop: "{{ lb.rules | subelements('upstreams') }}"
  loop_control:
    label: "{{ item.0.name }} {{ item.1.address }}"
  when: not item.1.reachable
"""

RETURN = r"""
rules:
  description:
    - The managed rules in canonical form, sorted by name.
    - With O(probe=true), each upstream also has C(reachable) (bool), C(connect_ms) (float, V(null) if
      unreachable) and C(probe_error) (str or V(null)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: my-balanced-page
      server_name: [my-balanced-page.local]
      server_port: 80
      ipv6: true
      method: round_robin
      upstreams:
        - {address: "10.1.1.102:80", weight: 3, backup: false, down: false, max_fails: null, fail_timeout: null,
           reachable: true, connect_ms: 0.21, probe_error: null}
      connect_timeout: 1s
      read_timeout: 5s
      max_fails: 3
      fail_timeout: 10s
      next_upstream_tries: null
      next_upstream_timeout: null
      retry_non_idempotent: false
      keepalive: 32
      websocket: true
      websocket_timeout: 3600s
      client_max_body_size: 200m
      buffering: true
      tls: null
      http2: true
      redirect_http: false
health:
  description:
    - Each upstream's health as the health agent (active checks, O(antsle.antman.lb_rule#module:health_check)
      of a rule) last wrote it, by rule name, then by upstream address; a key of its own so that the rules can be
      fed back as they are.
    - C(state) - V(healthy) or V(unhealthy) (after C(health_check.passes) or C(fails) probes in a row),
      V(unknown) (not probed enough yet), V(off) (not checked - declared C(down), C(health_check.enabled=false),
      a udp rule, or no agent ever ran), V(stale) (the agent is not running; the values are its last ones).
    - C(since) - when the state began (ISO 8601 UTC, or V(null)); C(probe) - the last probe (C(ok), C(ms)
      from its start to its verdict as the agent saw it, which reads answers every 20 ms while probes run,
      C(detail), C(at)) or V(null); C(in_rotation) - whether nginx may send it traffic (neither declared
      C(down) nor held out by the agent); C(fail_open) (checked upstreams) - every upstream of the rule fails
      and all stay in rotation.
    - C(traffic) - what the access log (the role's C(antman_lb_access_log)) shows of the upstream over the last
      minute, as the agent last wrote it (every 5 seconds) - C(requests_per_second) (the requests nginx sent it,
      each try of a failover counted), C(errors_5xx_share) (the share of those it answered with a 5xx status or
      nginx answered 502/504 for, 0 to 1; V(null) without requests), C(window_seconds) (60, shorter in the agent's
      first minute) and C(unavailable) - V(null), or why the numbers are V(null) - V(no agent) (the agent is not
      running), V(no access log) (it follows none), V(starting) (its first 5 seconds).
  returned: always
  type: dict
  sample:
    web:
      "10.1.1.102:80":
        state: unhealthy
        since: "2026-12-06T20:01:02Z"
        probe: {ok: false, ms: 1000.2, detail: no answer within 1000 ms, at: "2026-12-06T20:01:05Z"}
        in_rotation: false
        fail_open: false
        traffic: {requests_per_second: 0.4, errors_5xx_share: 1.0, window_seconds: 60.0, unavailable: null}
out_of_sync:
  description: Names of managed rules whose file differs from what the rule renders to (edited by hand); the next apply rewrites them.
  returned: always
  type: list
  elements: str
unmanaged:
  description: Files in O(rules_dir) that this collection does not manage.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rule_info as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
