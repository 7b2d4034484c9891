#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_rule
short_description: Manage one load-balancing rule of an antsle host
version_added: 0.1.0
description:
  - Creates, edits or deletes one antMan-style load-balancing rule. nginx on the antsle host then
    spreads the traffic for the rule's O(server_name) and O(server_port) over its O(upstreams)
    (antlets), with weights, backup upstreams and failover.
  - Each rule is one file in O(rules_dir). A change is validated with C(nginx -t) and takes effect at
    once through a reload, or is rolled back completely.
  - Everything is validated before anything is touched; errors name the field and the bad value.
  - On an existing rule, an option left out keeps its current value; a rule is created with the defaults
    shown here for the options not given. O(upstreams), when given, is the whole list of upstreams.
  - To manage the whole rule set in one step (one validation and one reload for any number of
    rules), use M(antsle.antman.lb_rules).
  - nginx answers a request for a Host name no rule serves with the default server of the port, or without one
    with the first rule it reads there. When a rule is created on (or moved to) a port where no server outside
    O(rules_dir) is the default, the module warns and says how to add a catch-all (the
    P(antsle.antman.load_balancer#role) role's C(antman_lb_extra_ports)).
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.rule
  - antsle.antman.host
  - antsle.antman.apply
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff is the rule's nginx configuration text.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) creates the rule (the options not given take their defaults; O(server_name) for an http rule
        and O(upstreams) are needed), or changes an existing rule's options that are given. Options left out
        keep their current values, as with M(antsle.antman.lb_rules)' V(merged); O(upstreams), when given,
        replaces the list of upstreams (an upstream left out of it is removed).
      - V(absent) deletes it; only O(name) is used.
    type: str
    choices: [present, absent]
    default: present
  replace:
    description:
      - With V(true), the rule becomes exactly what is given - the options left out return to their defaults,
        and optional settings left out (O(tls), O(rate_limit), O(allow_from), O(next_upstream_tries)...) are
        removed, as M(antsle.antman.lb_rules)' V(replaced) does (what V(present) did in earlier versions).
      - With V(false), options left out keep their current values.
    type: bool
    default: false
seealso:
  - module: antsle.antman.lb_rules
  - module: antsle.antman.lb_rule_info
  - name: nginx upstream module
    description: Semantics of weight, backup, down, max_fails and fail_timeout.
    link: https://nginx.org/en/docs/http/ngx_http_upstream_module.html
"""

EXAMPLES = r"""
- name: Create a rule, as on antMan's Load Balancing page
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: my-balanced-page.local
    upstreams:
      - address: 10.1.1.102:80
        weight: 3
      - address: 10.1.1.103
      - address: 10.1.1.104
        backup: true

- name: Edit it, the change takes effect at once (options not given keep their values; the upstreams are the list given)
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: [my-balanced-page.local, www.example.com]
    read_timeout: 30s
    upstreams:
      - address: 10.1.1.102:80
        weight: 3
      - address: 10.1.1.103
        down: true
      - address: 10.1.1.104
        backup: true

- name: Give it a longer read timeout, changing nothing else
  antsle.antman.lb_rule:
    name: my-balanced-page
    read_timeout: 60s

- name: Make it exactly this (options not given return to their defaults, tls and rate_limit are removed)
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: my-balanced-page.local
    upstreams:
      - address: 10.1.1.102:80
    replace: true

- name: Delete it
  antsle.antman.lb_rule:
    name: my-balanced-page
    state: absent

- name: HTTPS for a shop, with plain HTTP redirected to it
  antsle.antman.lb_rule:
    name: shop
    server_name: shop.example.com
    server_port: 443
    redirect_http: true
    tls:
      certificate_content: "{{ lookup('ansible.builtin.file', 'shop.crt') }}"
      key_content: "{{ lookup('ansible.builtin.file', 'shop.key') }}"
    upstreams:
      - address: 10.1.1.102:8080
      - address: 10.1.1.103:8080

- name: An admin panel for the office only, 10 requests a second per client, behind the company's proxy
  antsle.antman.lb_rule:
    name: admin
    server_name: admin.example.com
    allow_from: [198.51.100.0/24, "2001:db8:10::/48"]
    rate_limit:
      requests_per_second: 10
      burst: 5
    real_ip_from: [10.0.0.1]
    upstreams:
      - address: 10.1.1.102:8080

- name: An SSH bastion spread over two antlets (TCP, nginx stream module)
  antsle.antman.lb_rule:
    name: bastion
    protocol: tcp
    server_port: 2222
    upstreams:
      - address: 10.1.1.110:22
      - address: 10.1.1.111:22
        backup: true
"""

RETURN = r"""
rule:
  description:
    - The rule in canonical form (lowercase names, addresses with ports, every field of its protocol present;
      TLS content as sha256 digests only).
    - For O(state=absent), the rule that was deleted, or V(null) if there was none.
  returned: always
  type: dict
  sample:
    name: my-balanced-page
    server_name: [my-balanced-page.local]
    server_port: 80
    ipv6: true
    method: round_robin
    upstreams:
      - {address: "10.1.1.102:80", weight: 3, backup: false, down: false, max_fails: null, fail_timeout: null}
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
config_file:
  description: Path of the rule's nginx file.
  returned: always
  type: str
  sample: /etc/nginx/antman.d/my-balanced-page.conf
reloaded:
  description: Whether nginx was reloaded (only when something changed and O(reload=true)).
  returned: always
  type: bool
  sample: true
rules:
  description: On failure, the rule(s) nginx refused.
  returned: failure
  type: list
  elements: str
nginx_output:
  description: On failure caused by nginx, its own message.
  returned: failure
  type: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rule as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
