#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_upstream
short_description: Take an antlet out of rotation in every rule and drain it, or put it back once healthy
version_added: 0.1.0
description:
  - Maintenance of one upstream (an antlet) across the whole rule set of an antsle host, without dropped
    requests. V(disabled) marks O(address) C(down) in every managed rule that has it (or in O(rules)),
    and by default waits until nginx has finished the requests it was serving there
    (O(wait_drained)). V(enabled) first checks that the address answers (O(health_check)) and only
    then puts it back into rotation.
  - All the rules change together in one transaction, as with M(antsle.antman.lb_rules) - one
    validation, one C(nginx -t), one reload, and on any failure nothing changed.
  - Every option is validated, and the change is planned against the rules on the host, before
    anything is touched. Refused, naming the rule - an O(address) no managed rule has (unless
    O(allow_missing)), a rule of O(rules) that does not exist or lacks the address, and
    disabling an address that is the last upstream in rotation of a rule (backups do not count;
    enable another upstream of that rule first).
  - Typical use is a rolling update with C(serial=1) - disable and drain an antlet, deploy to it,
    enable it behind the health check, go on with the next (see the C(antsle.antman.rolling) playbook).
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
  - antsle.antman.apply
attributes:
  check_mode:
    support: full
    details:
      - Predicts exactly which rules change and changes nothing. It does not wait for a drain.
      - With O(state=enabled) the health check runs in check mode too (probes change nothing on the
        host), so a check run fails where the real run would.
  diff_mode:
    support: full
    details: One diff per changed rule file, its nginx configuration text.
  platform:
    platforms: posix
options:
  address:
    description:
      - The upstream, as in the rules' C(upstreams[].address) and with the same grammar - V(host),
        V(host:port), V(10.1.1.102:80), V([2001:db8::5]:8080). Without a port, port 80.
      - Matched canonically - V(10.1.1.102) is V(10.1.1.102:80), host names in any letter case, IPv6 in
        any spelling. A host name and the IP address it resolves to are different upstreams.
    type: str
    required: true
  state:
    description:
      - V(disabled) takes the address out of rotation (C(down=true)) in each matched rule; nginx keeps
        the upstream in the rule and sends it no new request. Established connections are left to finish.
      - V(enabled) puts it back (C(down=false)), after the health check passes.
      - A rule where the address is already in the state is left alone; when all are, nothing changes
        (C(changed=false)).
    type: str
    required: true
    choices: [enabled, disabled]
  rules:
    description:
      - Names of the rules to change. By default every managed rule that has O(address) as an upstream.
      - Each must exist and have the address (unless O(allow_missing)).
      - With O(state=disabled) and O(wait_drained), a rule left out that keeps the address in rotation is
        an error - nginx's connections to it would never drain.
    type: list
    elements: str
  wait_drained:
    description:
      - With O(state=disabled) - after the reload, wait until nginx holds no connection to the address,
        up to O(timeout), and report it in RV(drained_in) and RV(connections_left). Ignored with
        O(state=enabled).
      - Counted on the host from C(/proc) (Linux), as the sockets of nginx's processes (old workers
        finishing their requests included) whose remote end is the address. Needs root (C(become=true))
        to read them; checked before anything is touched.
      - nginx sends no new request to a C(down) upstream, and closes its idle keepalive connections to it
        at the reload; what is left are the requests, or stream (tcp/udp) sessions, that were in flight.
        Those that outlive O(timeout) (a long SSH or WebSocket session) are reported in
        RV(connections_left) with a warning, never cut, and the module does not fail.
      - Also waited for when the address was already disabled, so a rerun waits for a drain that timed out.
      - Connections from nginx configuration this collection does not manage count too.
      - Not waited for in check mode, nor with O(reload=false) (nginx then still uses the address).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the drain (O(state=disabled)) or for the health check to pass
        (O(state=enabled)); 0.1 to 86400.
    type: float
    default: 60.0
  health_check:
    description:
      - With O(state=enabled) - before changing anything, probe the address from the antsle host until
        it passes O(healthy_after) times in a row, one probe every O(health_interval) seconds. If that
        does not happen within O(timeout), the module fails and nothing is changed - the address stays
        out of rotation. Each probe is reported in RV(health).
      - The probe is a TCP connect, or with O(health_path) an HTTP GET. Each probe waits at most 5 seconds.
      - Only run when the address would be enabled in at least one rule.
      - An address that only udp rules have cannot be checked this way - set V(false) for it.
    type: bool
    default: true
  health_path:
    description:
      - Makes the health check an HTTP/1.1 GET of this path (and query) on a new connection to the
        address, such as V(/health) or V(/status?full=1); C(Host) is the address. Redirects are not followed.
      - "Starts with V(/); letters, digits, parentheses and C(- . _ ~ ! $ & ' * + , ; = : @ / ?), other
        characters percent-encoded; at most 1024 characters."
      - Without it the health check is a TCP connect.
    type: str
  health_status:
    description:
      - HTTP statuses that pass the check with O(health_path) - a status (V(200)), a range (V(200-399)) or a
        list of them, within 100-599.
    type: list
    elements: str
    default: ['200-399']
  healthy_after:
    description:
      - How many probes in a row must pass (1-100). One failure starts the count again.
    type: int
    default: 2
  health_interval:
    description:
      - Seconds from the start of one probe to the start of the next (0.1-3600).
    type: float
    default: 1.0
  allow_missing:
    description:
      - Make an address that no rule has (or a rule of O(rules) that does not exist or lacks it) a no-op
        instead of an error, for playbooks run against hosts whose rules differ.
    type: bool
    default: false
notes:
  - The change is a C(down) flag in the rules' files. A later run of M(antsle.antman.lb_rules) or of the
    C(antsle.antman.load_balancer) role that applies the rules from inventory sets the flags from
    inventory again (C(antman_lb_down)); do not run one during a rolling update.
seealso:
  - module: antsle.antman.lb_rules
  - module: antsle.antman.lb_rule_info
  - name: nginx upstream server parameters (down)
    description: A server marked down receives no requests.
    link: https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server
"""

EXAMPLES = r"""
- name: Take the antlet out of every rule and wait for its requests to finish
  antsle.antman.lb_upstream:
    address: 10.1.1.102:8080
    state: disabled
    timeout: 120
  register: drained

- name: Put it back once its application answers /health with 200 three times in a row
  antsle.antman.lb_upstream:
    address: 10.1.1.102:8080
    state: enabled
    health_path: /health
    health_status: 200
    healthy_after: 3
    timeout: 300

- name: Only in one rule, without waiting
  antsle.antman.lb_upstream:
    address: 10.1.1.103
    rules: [shop]
    state: disabled
    wait_drained: false

- name: The same play against hosts that may not have this antlet
  antsle.antman.lb_upstream:
    address: "{{ antlet_address }}"
    state: disabled
    allow_missing: true
"""

RETURN = r"""
address:
  description: O(address) in canonical form, as the rules hold it.
  returned: always
  type: str
  sample: 10.1.1.102:8080
state:
  description: O(state).
  returned: always
  type: str
matched:
  description: Names of the managed rules considered that have the address (in the state or not), sorted by name.
  returned: always
  type: list
  elements: str
  sample: [blog, shop]
rules:
  description: Names of the rules that changed (in check mode, that would change); empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: [shop]
reloaded:
  description: Whether nginx was reloaded (once, when something changed and O(reload=true)).
  returned: always
  type: bool
drained_in:
  description:
    - Seconds from the reload (or, when nothing changed, from the start of the wait) until nginx held no
      connection to the address. V(null) when it did not drain within O(timeout), or when the drain was not
      waited for (O(state=enabled), O(wait_drained=false), check mode, O(reload=false), nothing matched).
  returned: always
  type: float
  sample: 0.35
connections_left:
  description:
    - nginx's connections to the address when the wait ended - V(0) once drained, more when O(timeout)
      ran out (a warning says so); V(null) when the drain was not waited for.
  returned: always
  type: int
  sample: 0
health:
  description:
    - The probes of the health check, in order (the last 100); empty when no check ran.
  returned: always
  type: list
  elements: dict
  contains:
    ok:
      description: Whether the probe passed.
      type: bool
    status:
      description: The HTTP status of the answer (V(null) for a TCP connect or no answer).
      type: int
    error:
      description: Why the probe failed (V(null) when it passed).
      type: str
    at:
      description: Seconds after the first probe started.
      type: float
    ms:
      description: How long the probe took, in milliseconds.
      type: float
  sample:
    - {ok: false, status: null, error: "[Errno 111] Connection refused", at: 0.0, ms: 0.3}
    - {ok: true, status: 200, error: null, at: 1.0, ms: 2.1}
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_upstream as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
