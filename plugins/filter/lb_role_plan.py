# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_role_plan
short_description: The load_balancer role's run, planned by the collection's model (the role uses it)
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - The one answer the P(antsle.antman.load_balancer#role) role asks of the collection's model on the controller,
    before anything is touched. Its variables are checked with the grammars the modules use (paths, the status
    endpoint, the ACME settings), its rules as P(antsle.antman.lb_expand_rules#filter) checks them, and it returns
    every fact the role's tasks use that does not depend on the host. What depends on the host (where the drop-in
    goes, which ports get a catch-all server, IPv6, how nginx runs) is read on the host by the role itself.
  - All problems are reported at once, each naming the role variable (C(antman_lb_*)) and the value.
  - The result holds no key material (TLS content as sha256 digests only), so it may be stored in a fact.
positional: groups, hostvars
extends_documentation_fragment:
  - antsle.antman.inventory_rules
options:
  entry:
    description:
      - The role's entry point that runs (C(tasks_from)). Only V(main) and V(rules) apply the rules; the others keep
        the managed rules on the host, with their ports' catch-all servers and their stream context.
    type: str
    choices: [main, install, configure, rules, ha]
    default: main
  rules_dir:
    description: C(antman_lb_rules_dir).
    type: str
    required: true
  dropin_path:
    description: C(antman_lb_dropin_path), V(auto) or a path ending in C(.conf).
    type: str
    default: auto
  stream_conf_path:
    description: C(antman_lb_stream_conf_path).
    type: str
    required: true
  stream:
    description: C(antman_lb_stream).
    type: bool
    default: false
  access_log:
    description: C(antman_lb_access_log), empty for none.
    type: str
    default: ""
  log_format_name:
    description: C(antman_lb_log_format_name).
    type: str
    default: antman_upstream
  status_listen:
    description: C(antman_lb_status_listen), a loopback C(ADDRESS:PORT), empty for no status page.
    type: str
    default: ""
  status_path:
    description: C(antman_lb_status_path).
    type: str
    default: /
  extra_ports:
    description: C(antman_lb_extra_ports).
    type: list
    elements: int
    default: []
  exclusive:
    description: C(antman_lb_exclusive).
    type: bool
    default: true
  allow_empty:
    description: C(antman_lb_allow_empty).
    type: bool
    default: false
  disable_default_site:
    description: C(antman_lb_disable_default_site).
    type: bool
    default: false
  default_site_path:
    description: C(antman_lb_default_site_path).
    type: str
  acme_dir:
    description: C(antman_lb_acme_dir), the directory of the ACME account and of the rules that do not name one.
    type: str
  acme_email:
    description: C(antman_lb_acme_email) (checked when a rule uses C(tls.acme)).
    type: str
    default: ""
  acme_directory:
    description: C(antman_lb_acme_directory) (checked when a rule uses C(tls.acme)).
    type: str
    default: ""
  acme_ca_path:
    description: C(antman_lb_acme_ca_path), empty for the system's CA bundle.
    type: str
    default: ""
  acme_renew_days:
    description: C(antman_lb_acme_renew_days).
    type: int
    default: 30
  metrics_listen:
    description: C(antman_lb_metrics_listen), the health agent's C(/metrics) C(ADDRESS:PORT), empty for none; anywhere but
      loopback it needs O(metrics_allow).
    type: str
    default: ""
  metrics_allow:
    description: C(antman_lb_metrics_allow), addresses and networks that may ask C(/metrics).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Plan the role's run
  ansible.builtin.set_fact:
    plan: >-
      {{ antman_lb_rules | antsle.antman.lb_role_plan(groups, hostvars, rules_dir=antman_lb_rules_dir,
                                                      stream_conf_path=antman_lb_stream_conf_path) }}
"""

RETURN = r"""
_value:
  description: The role's plan for the host.
  type: dict
  contains:
    rules:
      description: The rules in canonical form, in the order given (TLS content as digests).
      type: list
      elements: dict
    http_ports:
      description: Sorted ports of the http rules' servers (port 80 of V(redirect_http) and of C(tls.acme) included) and
        O(extra_ports), the ports that may get a catch-all server.
      type: list
      elements: int
    tls_ports:
      description: Sorted ports on which http rules terminate TLS.
      type: list
      elements: int
    stream:
      description: Whether nginx's stream module and context are needed (a tcp or udp rule, or O(stream)).
      type: bool
    rules_state:
      description:
        - The C(state) of M(antsle.antman.lb_rules) that applies the rules (V(overridden) with O(exclusive), else
          V(replaced); with no rules, V(deleted) with O(exclusive)), or V(null) when the entry point applies none or there is
          nothing to do.
      type: str
    parts:
      description:
        - The parts of the role's apply module this entry point gives - V(base), V(rules) (only when RV(_value.rules_state)
          is not null) and V(agent) for V(main), V(base) for V(configure), V(rules) for V(rules), none for the others.
      type: list
      elements: str
    keep_unlisted:
      description: Whether the managed rules on the host that are not listed stay (not O(exclusive), or an entry point
        that applies no rules).
      type: bool
    remove_links:
      description: The links the base configuration removes (O(default_site_path) with O(disable_default_site)).
      type: list
      elements: str
    status_listen:
      description: The status page's C(listen) address, canonical (IPv6 in brackets), empty for none.
      type: str
    status_port:
      description: Its port, V(null) for none.
      type: int
    metrics:
      description: The health agent's metrics endpoint - C(listen) (canonical, empty for none), C(allow) (canonical
        addresses and networks, empty for every client) and C(stub_status_url) (the status page whose counters it shows,
        empty without one).
      type: dict
    acme:
      description:
        - C(rules), the rules whose certificate comes from an ACME CA, each with C(name), C(server_name), C(acme_dir) and
          its files C(certificate) and C(key) (what nginx serves), C(issued), C(record) and C(challenge_root);
          C(directories), every directory those files and the account key need, parents first, each with C(path) and
          C(mode) (the rules' own C(tls.acme_dir) included); C(account_key), the ACME account's key.
      type: dict
    tls_policy:
      description: The nginx directives of the collection's TLS defaults, for the catch-all servers on TLS ports.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError


def lb_role_plan(rules, groups, hostvars, **settings):
    from ansible_collections.antsle.antman.plugins.module_utils.model.role import role_plan
    from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
    from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import tls_policy_lines
    try:
        plan = role_plan(rules, groups, hostvars, **settings)
    except RuleError as error:
        raise AnsibleFilterError("invalid antman_lb_rules or role variables:\n- " + "\n- ".join(error.problems))
    except TypeError as error:  # an option the filter does not take
        raise AnsibleFilterError("lb_role_plan: %s" % error)
    plan["tls_policy"] = tls_policy_lines()
    return plan


class FilterModule(object):
    def filters(self):
        return {"lb_role_plan": lb_role_plan}
