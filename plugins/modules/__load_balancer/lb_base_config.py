#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_base_config
short_description: Internal to the load_balancer role - apply the nginx base configuration as one transaction
version_added: 0.1.0
description:
  - 'B(Internal.) A module of the P(antsle.antman.load_balancer#role) role, not for playbooks. It lives in the
    collection''s C(plugins/modules/__load_balancer/), which C(ansible-doc -l) does not list, and may change
    without notice. Users of the modules prepare a host with that role''s C(tasks_from: configure) (README, "First step").'
  - Writes the files the rules need outside O(rules_dir) (the role's http-level drop-in, the stream context
    for tcp and udp rules, a served ACME certificate), adds C(include) lines to O(nginx_conf) where they are missing,
    makes links (a module enabled) and removes links (a distribution's default site), all in one change.
  - The change goes through the same transaction as the rules. The previous state of every file (bytes, mode,
    owner, or the target of a link) is saved first; each file is then replaced in one atomic rename;
    C(nginx -t) checks the result; nginx is reloaded when it runs. If nginx refuses the result, every file is
    put back exactly as it was and nginx keeps serving as before.
  - Before anything is touched, C(nginx -t) checks the configuration as it is (in check mode too, when nginx
    runs). A configuration nginx already rejects is refused with nginx's message and nothing is written, so
    that a change is never blamed for what was broken before it.
  - O(nginx_conf) itself is only ever given include lines, never rewritten otherwise. An include already
    covered by the configuration (for example by C(include conf.d/*.conf;) in the C(http) context) adds nothing.
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per file changed, its text before and after (for O(nginx_conf), the lines added).
  platform:
    platforms: posix
options:
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
        default: "0644"
  logs:
    description:
      - Log files nginx writes (the role's access log), created empty with this owner, group and mode where
        missing, before nginx first opens them (nginx would create them 0644, owned by root). An existing one is
        left as it is. They are not configuration, so a change nginx refuses leaves a created one behind, empty.
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
        default: "0640"
  links:
    description:
      - Symbolic links to make point at a target (for example the link with which Debian's nginx package enables
        a module). A regular file at such a path is refused.
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
      - Symbolic links to remove (for example Debian's C(/etc/nginx/sites-enabled/default)); their targets stay.
        A regular file at such a path is refused, never deleted.
    type: list
    elements: path
    default: []
  includes:
    description:
      - Files O(nginx_conf) must include, in a context. A line C(include PATH;) is added where the configuration
        does not include the path yet, at the end of the C(http { }) block, just before its closing brace (context
        V(http); nginx then reads the file after every server the host already has, so a server that is the
        default of its port only because nginx reads it first stays the default), or at the end of the file
        (context V(main)).
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
        choices: [http, main]
        default: http
  reload:
    description:
      - Reload nginx after a validated change when nginx runs, and wait until its new workers run the new
        configuration (when it does not run, it reads the new files when it starts). nginx is never restarted.
      - With V(false) changes are written and validated with C(nginx -t) only.
    type: bool
    default: true
  lock_timeout:
    description:
      - Seconds to wait for another run that is changing rules or base configuration of the same O(rules_dir).
    type: int
    default: 300
notes:
  - If a run is killed while applying, the next run of this module or of a rule module puts every file back as
    it was before the interrupted change, then applies its own.
seealso:
  - module: antsle.antman.lb_rules
    description: The rules, which these files make nginx read.
"""

EXAMPLES = r"""
# As the load_balancer role's configure part calls it (tasks/base_config.yml).
- name: Apply the base configuration (drop-in, stream context, default site), validated as one change
  antsle.antman.__load_balancer.lb_base_config:
    files:
      - path: /etc/nginx/conf.d/zz-antman.conf
        content: "{{ lookup('ansible.builtin.template', 'antman.conf.j2') }}"
    includes:
      - path: /etc/nginx/conf.d/zz-antman.conf
        context: http
    remove_links:
      - /etc/nginx/sites-enabled/default
"""

RETURN = r"""
changes:
  description: What changed (or would change, in check mode), one item per file.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/nginx/conf.d/antman.conf, action: created}, {path: /etc/nginx/nginx.conf, action: updated}]
  contains:
    path:
      description: The file.
      type: str
    action:
      description: V(created), V(updated) or V(removed).
      type: str
reloaded:
  description: Whether nginx was reloaded.
  returned: always
  type: bool
nginx_output:
  description: On failure caused by nginx, its own message.
  returned: failure
  type: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_base_config as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
