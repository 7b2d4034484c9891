# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_health_command
short_description: The health agent's command line and writable directories, for its systemd unit
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes the host's Python (what the role's C(lb_host_facts) reads as C(python)) and returns what the
    P(antsle.antman.load_balancer#role) role's unit of the health agent (C(antman_lb_health)) needs - its C(ExecStart=) and
    C(ReadWritePaths=) - computed by the same code that installs and runs the agent on the host, so the unit the controller
    renders runs exactly the command line the agent's module would start.
positional: lib_dir, rules_dir, nginx_binary, nginx_conf
options:
  _input:
    description: The host's Python, an absolute path.
    type: str
    required: true
  lib_dir:
    description: The agent's code directory.
    type: path
    required: true
  rules_dir:
    description: The rules directory the agent watches.
    type: path
    required: true
  nginx_binary:
    description: nginx's binary.
    type: str
    required: true
  nginx_conf:
    description: nginx's main configuration file.
    type: path
    required: true
  writable:
    description: Files the agent's C(nginx -t) opens for writing (nginx's logs, its pid file).
    type: list
    elements: path
    default: []
  metrics_listen:
    description: C(ADDRESS:PORT) of the agent's C(/metrics) endpoint; empty for none.
    type: str
    default: ""
  metrics_allow:
    description: Addresses and networks that may ask C(/metrics).
    type: list
    elements: str
    default: []
  stub_status_url:
    description: nginx's local status page; empty for none.
    type: str
    default: ""
  access_log:
    description: The access log the agent follows; empty for none.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Know the agent's command line
  ansible.builtin.debug:
    msg: >-
      {{ host_facts.python | antsle.antman.lb_health_command('/usr/local/lib/antsle-antman', '/etc/nginx/antman.d',
                                                             'nginx', '/etc/nginx/nginx.conf') }}
"""

RETURN = r"""
_value:
  description: C(command) (the argument list), C(exec_start) (it quoted for C(ExecStart=)) and C(writable) (the directories
    for C(ReadWritePaths=)).
  type: dict
"""


def lb_health_command(python, lib_dir, rules_dir, nginx_binary, nginx_conf, writable=(), metrics_listen="",
                      metrics_allow=(), stub_status_url="", access_log=""):
    from ansible_collections.antsle.antman.plugins.module_utils.health import command
    argv = command.command(python, lib_dir, rules_dir, nginx_binary, nginx_conf, metrics_listen, metrics_allow or (),
                           stub_status_url, access_log or "")
    return dict(command=argv, exec_start=command.systemd_command_line(argv),
                writable=command.writable_paths(rules_dir, list(writable or ())))


class FilterModule(object):
    def filters(self):
        return {"lb_health_command": lb_health_command}
