#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_host_apply
short_description: Internal to the load_balancer role - apply the base configuration, the rules and the health agent in one run
version_added: 0.1.0
description:
  - 'B(Internal.) A module of the P(antsle.antman.load_balancer#role) role, not for playbooks. It lives in the
    collection''s C(plugins/modules/__load_balancer/), which C(ansible-doc -l) does not list, and may change
    without notice. Users of the modules prepare a host with that role''s C(tasks_from: configure) (README, "First step"),
    and apply rules with M(antsle.antman.lb_rules).'
  - The role's whole change of a host in one module run (each module run costs the host and the controller about the same
    CPU, whatever it does), in parts applied in this order - O(base), O(rules), O(agent). A part left out is not touched.
  - Each part is one transaction as the collection's modules apply changes - the previous state of every file saved, the
    change validated with C(nginx -t), nginx reloaded where it runs, everything put back exactly if nginx refuses it. A
    part that fails leaves the parts before it applied (each was validated and reloaded on its own) and its own change put
    back; the parts after it do not run.
  - nginx need not run - the O(base) and O(rules) parts then write and validate, and nginx reads the files when it is
    started (the role starts it after this module).
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
  - antsle.antman.apply
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed file - the base configuration's files, the rule files, the agent's unit.
  platform:
    platforms: posix
options:
  base:
    description: 'The base configuration, as the role''s C(configure) step applies it: files nginx needs outside O(rules_dir),
      C(include) lines in O(nginx_conf), links made and removed, log files created, all one validated change (C(nginx -t)
      on the configuration as it is first; put back exactly if nginx refuses the result). Left out, not touched.'
    type: dict
    suboptions:
      files:
        description:
        - Files to make exactly this content, created where missing. A symbolic link at such a path is refused.
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: Absolute path of the file (letters, digits and C(. _ - + @)).
            type: path
            required: true
          content:
            description: The file's text.
            type: str
            required: true
          mode:
            description: Its mode, in octal.
            type: str
            default: '0644'
      logs:
        description:
        - Log files nginx writes (the role's access log), created empty with this owner, group and mode where missing, before
          nginx first opens them (nginx would create them 0644, owned by root). An existing one is left as it is. They are
          not configuration, so a change nginx refuses leaves a created one behind, empty.
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: Absolute path of the log.
            type: path
            required: true
          owner:
            description: Its owner, a user of the host.
            type: str
            required: true
          group:
            description: Its group, a group of the host.
            type: str
            required: true
          mode:
            description: Its mode, in octal.
            type: str
            default: '0640'
      links:
        description:
        - Symbolic links to make point at a target (for example the link with which Debian's nginx package enables a module).
          A regular file at such a path is refused.
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: Absolute path of the link.
            type: path
            required: true
          target:
            description: Absolute path it points to.
            type: path
            required: true
      remove_links:
        description:
        - Symbolic links to remove (for example Debian's C(/etc/nginx/sites-enabled/default)); their targets stay. A regular
          file at such a path is refused, never deleted.
        type: list
        elements: path
        default: []
      includes:
        description:
        - Files O(nginx_conf) must include, in a context. A line C(include PATH;) is added where the configuration does not
          include the path yet, at the end of the C(http { }) block, just before its closing brace (context V(http); nginx
          then reads the file after every server the host already has, so a server that is the default of its port only because
          nginx reads it first stays the default), or at the end of the file (context V(main)).
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: Absolute path (or glob) to include; letters, digits and C(. _ - / *).
            type: str
            required: true
          context:
            description: Where nginx must read it.
            type: str
            choices:
            - http
            - main
            default: http
  rules:
    description: The inventory's rules, applied exactly as M(antsle.antman.lb_rules) applies them with the same O(rules.state).
      In check mode, when the O(base) part would change something, they are planned against that pending change (O(nginx_conf)
      need not include O(rules_dir) yet). nginx is reloaded only where it runs. Left out, not touched.
    type: dict
    suboptions:
      config:
        description:
        - The rules, complete, as the filter P(antsle.antman.lb_expand_rules#filter) returns them. Left out with O(rules.state=deleted),
          every managed rule.
        type: list
        elements: dict
      state:
        description: As M(antsle.antman.lb_rules)'s O(antsle.antman.lb_rules#module:state).
        type: str
        choices:
        - overridden
        - replaced
        - deleted
        required: true
  agent:
    description: 'The health agent (the role''s C(antman_lb_health)): its code and script, and with O(agent.unit) its systemd
      unit; or, with O(agent.state=absent), the agent stopped where this module runs it, its files and unit removed and every
      upstream it held out returned to rotation. Left out, not touched.'
    type: dict
    suboptions:
      state:
        description: Whether the agent is installed (and, with O(agent.service=direct), running) or gone.
        type: str
        choices:
        - present
        - absent
        default: present
      script:
        description: The content of the agent's process script (the role's C(files/antman-health)). Required with O(agent.state=present).
        type: str
      lib_dir:
        description: Where the agent's code and script live on the host; nothing else may be kept there.
        type: path
        default: /usr/local/lib/antsle-antman
      service:
        description: V(systemd) (the role's unit runs the agent) or V(direct) (this module keeps it running).
        type: str
        choices:
        - systemd
        - direct
        default: systemd
      pid_file:
        description: The pid file of an agent this module runs (O(agent.service=direct)).
        type: path
        default: /run/antman-health.pid
      log_file:
        description: The log of an agent this module runs (O(agent.service=direct)); under systemd it logs to the journal.
        type: path
        default: /var/log/antman-health.log
      writable:
        description: Files the agent's C(nginx -t) opens for writing (nginx's logs, its pid file); their directories are in
          RV(agent.writable).
        type: list
        elements: path
        default: []
      metrics_listen:
        description:
        - C(ADDRESS:PORT) of the agent's Prometheus C(/metrics) endpoint (the role's C(antman_lb_metrics_listen), validated
          by the role's plan); empty for none.
        - A change restarts an agent this module runs (O(agent.service=direct)); under systemd the unit's C(ExecStart=) changes.
        type: str
        default: ''
      metrics_allow:
        description: Addresses and networks that may ask C(/metrics); empty, every client may (the role allows that on loopback
          only).
        type: list
        elements: str
        default: []
      stub_status_url:
        description: nginx's local status page (C(http://ADDRESS:PORT/PATH)), whose counters C(/metrics) also shows; empty
          for none.
        type: str
        default: ''
      access_log:
        description:
        - nginx's access log in the role's C(log_format) (the role's C(antman_lb_access_log)), which the agent follows for
          the traffic figures (C(/metrics), the requests per second and 5xx share that M(antsle.antman.lb_rule_info) returns);
          empty for none.
        - A change restarts an agent this module runs (O(agent.service=direct)); under systemd the unit's C(ExecStart=) changes.
        type: str
        default: ''
      unit:
        description:
        - The agent's systemd unit, written with mode C(0644) by the module's user (root) only where its
        - content, mode or owner differ (RV(agent.unit_changed)); removed with O(agent.state=absent).
        type: dict
        suboptions:
          path:
            description: Where the unit goes.
            type: path
            required: true
          content:
            description: The unit's text (the role renders it on the controller).
            type: str
            required: true
seealso:
  - module: antsle.antman.lb_rules
"""

EXAMPLES = r"""
# As the load_balancer role calls it (tasks/apply.yml), shortened.
- name: Apply the base configuration, the rules and the health agent
  antsle.antman.__load_balancer.lb_host_apply:
    base:
      files:
        - path: /etc/nginx/conf.d/zz-antman.conf
          content: "{{ lookup('ansible.builtin.template', 'antman.conf.j2') }}"
      includes:
        - path: /etc/nginx/conf.d/zz-antman.conf
    rules:
      config: "{{ antman_lb_rules | antsle.antman.lb_expand_rules(groups, hostvars) }}"
      state: overridden
    agent:
      script: "{{ lookup('ansible.builtin.file', 'antman-health') }}"
      unit:
        path: /etc/systemd/system/antman-health.service
        content: "{{ lookup('ansible.builtin.template', 'antman-health.service.j2') }}"
  register: _antman_lb_apply
"""

RETURN = r"""
base:
  description: The O(base) part's result - C(changed), C(changes) (one item per file, with C(path) and C(action)) and C(reloaded).
  returned: when O(base) is given
  type: dict
rules:
  description:
    - The O(rules) part's result, as M(antsle.antman.lb_rules) returns it - C(changed), C(before), C(after), C(changes)
      (one item per rule, with C(name) and C(action)) and C(reloaded).
  returned: when O(rules) is given
  type: dict
agent:
  description:
    - The O(agent) part's result - C(changed), C(unit_changed) (the unit was written or removed), and with O(agent.state=present)
      C(files) (the paths under O(agent.lib_dir) written), C(python), C(command), C(exec_start), C(writable), C(started);
      with O(agent.state=absent) C(stopped), C(removed) and C(back_in_rotation).
  returned: when O(agent) is given
  type: dict
  contains:
    unit_changed:
      description: Whether O(agent.unit) was written or removed (the role then makes systemd read its units again).
      type: bool
    files:
      description: The paths under O(agent.lib_dir) written (O(agent.state=present)).
      type: list
      elements: str
    writable:
      description: The directories the agent writes in (the unit's C(ReadWritePaths=)) - the rules directory's parent and
        those of O(agent.writable).
      type: list
      elements: str
nginx_output:
  description: On failure caused by nginx, its own message.
  returned: failure
  type: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_host_apply as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
