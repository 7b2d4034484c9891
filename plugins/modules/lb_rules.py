#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_rules
short_description: Manage the whole load-balancing rule set of an antsle host as one resource
version_added: 0.1.0
description:
  - Makes the host's load-balancing rules match a list, in one step, with the states of Ansible's
    network resource modules. Whatever the number of rules, a call validates the whole set, runs
    C(nginx -t) once and reloads nginx at most once; if anything fails, nothing is changed.
  - Suited to rules kept in inventory (C(group_vars), C(host_vars)). For one rule at a time see
    M(antsle.antman.lb_rule).
  - A rule created on (or moved to) a port where no server outside O(rules_dir) is nginx's default server is warned
    about, as M(antsle.antman.lb_rule) does - a Host name no rule serves would reach the first rule nginx reads there.
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.rule.config
  - antsle.antman.host
  - antsle.antman.apply
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed rule file, its nginx configuration text.
  platform:
    platforms: posix
options:
  config:
    description:
      - The rules. Each item has the rule fields of M(antsle.antman.lb_rule), with the same meaning
        and validation. The defaults shown apply when a rule is created or replaced; with O(state=merged), a field an
        item does not mention keeps the rule's current value.
      - Every item is validated before anything is touched; errors name the item, the rule, the field and the value
        (a misspelt field too, with the field probably meant).
      - Rule names must be unique in the list.
      - For O(state=deleted) only C(name) is used. An empty list deletes nothing; leave O(config) out to delete
        every managed rule.
      - Required, non-empty, for O(state=merged), O(state=replaced) and O(state=overridden), so that an
        empty list never wipes the rule set by accident.
    type: list
    elements: dict
  state:
    description:
      - V(merged) creates the listed rules and updates existing ones with the fields given; fields and
        upstreams (matched by address) that an item does not mention keep their current value. Nothing is removed.
      - V(replaced) makes each listed rule exactly what is given (fields not given take their defaults);
        rules not listed are untouched.
      - V(overridden) makes the managed rules exactly the listed set; every other managed rule is removed.
        Files in O(rules_dir) that this collection does not manage are never touched.
      - V(deleted) removes the listed rules (by name); an empty O(config) removes none; without O(config) (left
        out, not empty), every managed rule.
      - V(gathered) returns the managed rules in canonical form in RV(gathered); changes nothing.
      - V(rendered) returns, in RV(rendered), the nginx configuration text of each listed rule, without
        touching or needing the host's nginx (usable with C(delegate_to=localhost) in CI).
      - V(parsed) reads nginx configuration text from O(running_config) and returns it as rules in
        RV(parsed); what cannot be expressed as a rule is listed in RV(unsupported). Needs the
        C(crossplane) Python library where the module runs.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
  running_config:
    description:
      - For O(state=parsed), nginx configuration text containing C(upstream) and C(server) blocks (for example
        the output of C(nginx -T) or a file from a host configured by hand or by antMan).
      - Each C(server) block whose C(location /) proxies to an upstream (or to one address) becomes a rule.
        Directives that are absent mean what they mean to nginx (for example 60s timeouts, no keepalive).
      - "Cannot be expressed, reported in RV(unsupported) and left out: TLS (C(listen ... ssl)), unix sockets,
        other locations than C(/), regular-expression and catch-all server names, C(hash) and C(random)
        balancing, C(max_conns)/C(slow_start)/C(resolve) server parameters, custom headers and other directives."
    type: str
  nginx_version:
    description:
      - For O(state=rendered), the version of the nginx the text is meant for, such as V(1.22.1). It decides the
        HTTP/2 syntax of tls rules (C(listen ... http2) before 1.25.1, C(http2 on) from 1.25.1).
      - Not given, the text uses C(listen ... http2), which every nginx with HTTP/2 accepts (1.25.1 and later
        warn that it is deprecated). The other states read the version from the host's nginx (C(nginx -v))
        and refuse this option.
    type: str
  include_pending:
    description:
      - Check mode only. Plan the rules against the base configuration that a M(antsle.antman.lb_base_config) call
        earlier in the same check-mode run changes, but did not write - O(nginx_conf) need not include O(rules_dir)
        yet (on a host with no rules yet, every listed rule is then reported as created, as the real run will), and
        ports are not warned about for lacking a default server (the base configuration may add its catch-all).
      - Ignored outside check mode, where nginx must include O(rules_dir).
    type: bool
    default: false
requirements:
  - crossplane (only for O(state=parsed))
seealso:
  - module: antsle.antman.lb_rule
  - module: antsle.antman.lb_rule_info
  - name: Ansible network resource module states
    description: The meaning of merged, replaced, overridden, deleted, gathered, rendered and parsed.
    link: https://docs.ansible.com/ansible/latest/network/user_guide/network_resource_modules.html
"""

EXAMPLES = r"""
- name: The host's rules are exactly the ones in inventory
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ antman_lb_rules }}"

- name: Add one upstream to an existing rule, keeping everything else
  antsle.antman.lb_rules:
    state: merged
    config:
      - name: my-balanced-page
        upstreams:
          - address: 10.1.1.105:80
            weight: 2

- name: Take an upstream out of rotation for maintenance
  antsle.antman.lb_rules:
    config:
      - name: my-balanced-page
        upstreams:
          - address: 10.1.1.102:80
            down: true

- name: Back up the rule set...
  antsle.antman.lb_rules:
    state: gathered
  register: saved

- name: ... and restore it exactly
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ saved.gathered }}"

- name: Render the configuration in CI, without any nginx, for the version the hosts run
  antsle.antman.lb_rules:
    state: rendered
    config: "{{ antman_lb_rules }}"
    nginx_version: 1.22.1
  delegate_to: localhost
  register: preview

- name: Keep each rule's file for review
  ansible.builtin.copy:
    content: "{{ item.text }}"
    dest: "preview/{{ item.file }}"
    mode: "0644"
  loop: "{{ preview.rendered }}"
  loop_control:
    label: "{{ item.name }}"
  delegate_to: localhost

- name: Import what a host configured by hand already has
  antsle.antman.lb_rules:
    state: parsed
    running_config: "{{ lookup('ansible.builtin.file', 'old-site.conf') }}"
  delegate_to: localhost
  register: imported

- name: Retire the rules listed this week (an empty list removes none)
  antsle.antman.lb_rules:
    state: deleted
    config: "{{ rules_to_retire }}"  # [{name: old-site}, ...]

- name: Remove every managed rule (config left out)
  antsle.antman.lb_rules:
    state: deleted
"""

RETURN = r"""
before:
  description: The managed rules before the call, canonical form, sorted by name.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
after:
  description: The managed rules after the call (in check mode, as they would be), sorted by name.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
changes:
  description: What changed (or would change, in check mode), one item per rule.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample: [{name: my-balanced-page, action: updated}, {name: old-site, action: deleted}]
  contains:
    name:
      description: Rule name.
      type: str
    action:
      description: V(created), V(updated) or V(deleted).
      type: str
reloaded:
  description: Whether nginx was reloaded (once, when something changed and O(reload=true)).
  returned: when O(state) is merged, replaced, overridden or deleted
  type: bool
gathered:
  description: The managed rules in canonical form, sorted by name; feed them back with O(state=overridden).
  returned: when O(state=gathered)
  type: list
  elements: dict
health:
  description:
    - Each upstream's health by rule name, then address, as the health agent last wrote it; what
      M(antsle.antman.lb_rule_info) returns as C(health) (C(state), C(since), C(probe), C(in_rotation)). Beside
      O(state=gathered)'s rules, not inside them, so that they can be fed back as they are.
  returned: when O(state=gathered)
  type: dict
rendered:
  description: The nginx configuration of each listed rule, in the order of O(config).
  returned: when O(state=rendered)
  type: list
  elements: dict
  contains:
    name:
      description: The rule's name.
      type: str
    file:
      description: The name of its file in O(rules_dir) (V(<name>.conf), or V(<name>.stream) for tcp and udp rules).
      type: str
    text:
      description: The file's nginx configuration text.
      type: str
parsed:
  description: The rules found in O(running_config), canonical form.
  returned: when O(state=parsed)
  type: list
  elements: dict
unsupported:
  description: For O(state=parsed), every construct of O(running_config) that could not be expressed as a rule and was left out.
  returned: when O(state=parsed)
  type: list
  elements: str
rules:
  description: On failure, the rule(s) nginx refused.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rules as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
