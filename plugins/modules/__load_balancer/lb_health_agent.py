#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_health_agent
short_description: Internal to the load_balancer role - install, run or remove the health agent
version_added: 0.1.0
description:
  - B(Internal.) A module of the P(antsle.antman.load_balancer#role) role (its variable C(antman_lb_health)),
    not for playbooks. It lives in the collection's C(plugins/modules/__load_balancer/), which C(ansible-doc -l)
    does not list, and may change without notice.
  - O(state=present) makes O(lib_dir) hold exactly the health agent's code (the collection's C(module_utils) it
    imports, run by the host's Python, no Ansible needed on the host) and its process script O(script) as
    C(antman-health). With O(service=direct) it starts the agent (C(--daemon), O(pid_file), O(log_file)) when it
    does not run, and restarts it when its files changed; under systemd the role's unit runs RV(exec_start).
  - O(state=absent) stops an agent it started (O(service=direct); the role stops the systemd unit first),
    removes O(lib_dir) and the agent's status file, and clears the agent's verdicts, so that every upstream it
    held out returns to rotation - one change through the collection's transaction (C(nginx -t), reload,
    rollback). It reports a change only when something was there to stop, remove or return.
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description: Whether the agent is installed (and, with O(service=direct), running) or gone.
    type: str
    choices: [present, absent]
    default: present
  script:
    description: The content of the agent's process script (the role's C(files/antman-health)). Required with O(state=present).
    type: str
  lib_dir:
    description: Where the agent's code and script live on the host; nothing else may be kept there.
    type: path
    default: /usr/local/lib/antsle-antman
  service:
    description: V(systemd) (the role's unit runs the agent) or V(direct) (this module keeps it running).
    type: str
    choices: [systemd, direct]
    default: systemd
  pid_file:
    description: The pid file of an agent this module runs (O(service=direct)).
    type: path
    default: /run/antman-health.pid
  log_file:
    description: The log of an agent this module runs (O(service=direct)); under systemd it logs to the journal.
    type: path
    default: /var/log/antman-health.log
  writable:
    description: Files the agent's C(nginx -t) opens for writing (nginx's logs, its pid file); their directories are in RV(writable).
    type: list
    elements: path
    default: []
  lock_timeout:
    description: Seconds to wait for another run's lock of O(rules_dir) when the verdicts are cleared.
    type: int
    default: 300
  metrics_listen:
    description:
      - C(ADDRESS:PORT) of the agent's Prometheus C(/metrics) endpoint (the role's C(antman_lb_metrics_listen),
        validated by the role's plan); empty for none.
      - A change restarts an agent this module runs (O(service=direct)); under systemd the unit's C(ExecStart=) changes.
    type: str
    default: ""
  metrics_allow:
    description: Addresses and networks that may ask C(/metrics); empty, every client may (the role allows that on loopback only).
    type: list
    elements: str
    default: []
  stub_status_url:
    description: nginx's local status page (C(http://ADDRESS:PORT/PATH)), whose counters C(/metrics) also shows; empty for none.
    type: str
    default: ""
  access_log:
    description:
      - nginx's access log in the role's C(log_format) (the role's C(antman_lb_access_log)), which the agent follows for
        the traffic figures (C(/metrics), the requests per second and 5xx share that M(antsle.antman.lb_rule_info) returns);
        empty for none.
      - A change restarts an agent this module runs (O(service=direct)); under systemd the unit's C(ExecStart=) changes.
    type: str
    default: ""
seealso:
  - module: antsle.antman.lb_rule_info
"""

EXAMPLES = r"""
# As the load_balancer role calls it (tasks/health.yml).
- name: Install the health agent
  antsle.antman.__load_balancer.lb_health_agent:
    script: "{{ lookup('ansible.builtin.file', 'antman-health') }}"
    service: systemd
  register: _antman_lb_health
"""

RETURN = r"""
files:
  description: The paths under O(lib_dir) written or removed (O(state=present)).
  returned: with state=present
  type: list
  elements: str
python:
  description: The host's Python that runs the agent (the one running this module).
  returned: with state=present
  type: str
command:
  description: The agent's command line, an argument list.
  returned: with state=present
  type: list
  elements: str
exec_start:
  description: RV(command) quoted for a systemd unit's C(ExecStart=).
  returned: with state=present
  type: str
writable:
  description: The directories the agent writes in (the unit's C(ReadWritePaths=)) - the rules directory's parent and those of O(writable).
  returned: with state=present
  type: list
  elements: str
started:
  description: Whether the module started (or restarted) the agent (O(service=direct)).
  returned: with state=present
  type: bool
stopped:
  description: Whether the module stopped an agent it ran (O(service=direct)).
  returned: with state=absent
  type: bool
removed:
  description: Whether O(lib_dir) was there and was removed.
  returned: with state=absent
  type: bool
back_in_rotation:
  description: The upstreams the agent held out that are back in rotation, each C(<rule> <address>).
  returned: with state=absent
  type: list
  elements: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_health_agent as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
