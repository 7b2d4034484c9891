#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_host_facts
short_description: Internal to the load_balancer role - what the role needs to know about the host's nginx
version_added: 0.1.0
description:
  - B(Internal.) A module of the P(antsle.antman.load_balancer#role) role, not for playbooks. It lives in the
    collection's C(plugins/modules/__load_balancer/), which C(ansible-doc -l) does not list, and may change
    without notice. To look at a host's nginx, use M(antsle.antman.lb_host_info).
  - Reads the host's nginx as M(antsle.antman.lb_host_info) does and answers every question the role has about
    the host, decided here rather than in the role's YAML - where the drop-in goes, which of O(ports) get a catch-all
    server, which are TLS, whether the stream context is needed, whether the catch-all servers listen on IPv6 (the
    decision the rules' C([::]) listeners follow), how nginx is run, the drop-in's
    C(server_names_hash_bucket_size), and the state of the systemd units of O(units).
  - Fails, listing every problem, when the role would take something from the host's own servers (a rule's server
    name, TLS on a port, a tcp port, an upstream name), or add a log format name or a status port the host has.
    Never changes anything.
  - Answers the role's install question on every host - whether the nginx binary O(nginx_binary) is there
    (RV(installed)), the host's Python (RV(python)), which of the health agent's files are there (RV(agent_found)),
    the host's OS family (RV(os_family)) and its service manager (RV(host_service_manager)). On a host without nginx,
    or of another family than Debian and RedHat, it returns only these.
  - Fails, before reading anything else, on a host whose OS family is not in O(os_families) (the role's own families).
  - The OS family and the service manager are read from the host itself, as Ansible's C(distribution) and
    C(service_mgr) facts decide them, so that the role runs no C(setup) of its own; facts a play gathered are
    neither needed nor changed.
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
  dropin_path:
    description: The role's C(antman_lb_dropin_path), V(auto) or a path (see M(antsle.antman.lb_host_info)).
    type: str
    default: auto
  ports:
    description: The http ports of the rules and C(antman_lb_extra_ports).
    type: list
    elements: int
    default: []
  rules:
    description: The rules in canonical form, checked against the host's own servers.
    type: list
    elements: dict
    default: []
  keep_unlisted:
    description:
      - Whether the managed rules on the host that are not in O(rules) stay. Their http ports then count among
        O(ports), and RV(tls_ports) and RV(stream) include them, so they keep their catch-all server and their
        stream context.
    type: bool
    default: false
  remove_links:
    description: Links the role's base configuration removes (the default site); their servers do not count.
    type: list
    elements: path
    default: []
  catch_all:
    description: C(antman_lb_catch_all); without it RV(catch_all_ports) is empty.
    type: bool
    default: true
  stream:
    description: C(antman_lb_stream), or a rule of O(rules) is tcp or udp.
    type: bool
    default: false
  ipv6:
    description: C(antman_lb_ipv6); RV(ipv6) is true only with it and when the host has IPv6.
    type: bool
    default: true
  service_manager:
    description: C(antman_lb_service_manager).
    type: str
    choices: [auto, systemd, direct]
    default: auto
  server_names_hash_bucket_size:
    description: C(antman_lb_server_names_hash_bucket_size).
    type: int
    default: 0
  log_format_name:
    description: C(antman_lb_log_format_name), which the host must not define already.
    type: str
  status_port:
    description: The port of C(antman_lb_status_listen), on which the host's servers must not listen.
    type: int
  units:
    description: The systemd units whose state RV(units) reports (the role's C(nginx) and C(antman-health)).
    type: list
    elements: str
    default: []
  os_families:
    description:
      - The OS families the role knows; the module fails on a host of another family, naming it, before it reads
        anything else. Empty for any family.
    type: list
    elements: str
    default: []
  agent:
    description: Where the health agent's files are, looked for to answer RV(agent_found).
    type: dict
    suboptions:
      lib_dir:
        description: Its code directory.
        type: path
        required: true
      pid_file:
        description: Its pid file where the role runs it without systemd.
        type: path
        required: true
      unit:
        description: Its systemd unit.
        type: path
        required: true
seealso:
  - module: antsle.antman.lb_host_info
"""

EXAMPLES = r"""
# As the load_balancer role calls it (tasks/layout.yml).
- name: Read the host's own nginx
  antsle.antman.__load_balancer.lb_host_facts:
    ports: [80, 443]
    rules: "{{ _antman_lb_plan.rules }}"
  register: _antman_lb_host
"""

RETURN = r"""
installed:
  description:
    - Whether the nginx binary O(nginx_binary) is on the host. When false (or RV(os_family) is neither V(Debian) nor
      V(RedHat)), only RV(installed), RV(python), RV(cryptography), RV(agent_found), RV(os_family) and
      RV(host_service_manager) are returned.
  returned: always
  type: bool
python:
  description: The host's Python running this module (the health agent's interpreter).
  returned: always
  type: str
cryptography:
  description:
    - Whether the host's Python running this module imports Python's cryptography (what community.crypto's modules,
      which the role runs there for ACME certificates, need); the role installs it only when it does not.
  returned: always
  type: bool
os_family:
  description:
    - The host's OS family from C(/etc/os-release)'s C(ID) and C(ID_LIKE), V(Debian) or V(RedHat) as Ansible's
      C(ansible_facts.os_family) maps them; any other system is answered with its C(NAME) (refused when O(os_families) is given).
  returned: always
  type: str
  sample: Debian
host_service_manager:
  description:
    - The host's service manager, named as Ansible's C(ansible_facts.service_mgr) names it on Linux (V(systemd) when
      systemd is PID 1 or has booted the host). With O(service_manager=auto) an nginx that does not run yet is
      started through systemd only on a V(systemd) host.
  returned: always
  type: str
  sample: systemd
agent_found:
  description:
    - The health agent's files on the host - its code directory, unit and pid file (O(agent)), its status file beside
      O(rules_dir) and its verdicts file in O(rules_dir). Its log file does not count.
  returned: always
  type: list
  elements: str
nginx:
  description: How nginx runs, as M(antsle.antman.lb_host_info) returns it.
  returned: always
  type: dict
service:
  description: How the role runs nginx, V(systemd) or V(direct) (started and signalled by the role).
  returned: always
  type: str
dropin:
  description: The drop-in, as M(antsle.antman.lb_host_info) returns it (C(path), C(included), C(includes_rules)...).
  returned: always
  type: dict
rules_included:
  description: Whether O(rules_dir)C(/*.conf) is included in the C(http) context.
  returned: always
  type: bool
rules_included_by:
  description: The include directives of O(rules_dir)C(/*.conf) outside the drop-in.
  returned: always
  type: list
  elements: dict
ports:
  description: The http ports considered, O(ports) and, with O(keep_unlisted), those of RV(kept_rules).
  returned: always
  type: list
  elements: int
default_servers:
  description: The host's default server on each of RV(ports) it listens on.
  returned: always
  type: list
  elements: dict
catch_all_ports:
  description: The RV(ports) on which no host server stays the default, where the role adds a catch-all server.
  returned: always
  type: list
  elements: int
tls_ports:
  description: The ports on which the rules of O(rules) and RV(kept_rules) terminate TLS.
  returned: always
  type: list
  elements: int
stream:
  description: Whether nginx's stream context is needed (O(stream), or a tcp or udp rule among RV(kept_rules)).
  returned: always
  type: bool
kept_rules:
  description: With O(keep_unlisted), the names of the managed rules on the host that are not in O(rules) and stay.
  returned: always
  type: list
  elements: str
ipv6:
  description: Whether the catch-all servers listen on C([::]) too - O(ipv6) and the host has IPv6, the decision
    the rules' C([::]) listeners follow.
  returned: always
  type: bool
hash_bucket_size:
  description: The drop-in's C(server_names_hash_bucket_size), V(0) for none (the host sets it itself).
  returned: always
  type: int
server_snippet:
  description: >-
    The file of the role's server-level settings of every rule (its access log): O(rules_dir)C(-server.conf),
    which the http server blocks of the rules include.
  returned: always
  type: str
notes:
  description: What an operator should know about how the role fits into the host, one sentence each.
  returned: always
  type: list
  elements: str
units:
  description:
    - For each unit of O(units), C(installed) (systemd has loaded its unit file), C(enabled) (C(systemctl is-enabled)
      succeeds) and C(active) (active or activating), as M(ansible.builtin.systemd_service) judges them; all false
      where systemd does not run. The role asks systemd to enable and start a unit only when it is not both.
  returned: always
  type: dict
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_host_facts as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
