#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_host_info
short_description: Describe the host's own nginx, as the load-balancing rules fit into it
version_added: 0.1.0
description:
  - Reads the host's nginx configuration (O(nginx_conf) and everything it includes, as nginx reads it, whatever
    wrote it) and describes it, for anyone adding load balancing beside what the host already serves.
  - Where nginx reads http-level files (the C(include) globs of the C(http) context), and so where the
    P(antsle.antman.load_balancer#role) role's drop-in goes (O(dropin_path)); whether O(rules_dir) is included already.
  - The host's own servers (those in files this collection did not write) and, for each port they listen on, its
    default server and whether it stays the default once the collection's files are read (an explicit
    C(default_server) always does; a server that is the default only because nginx reads it first does while nginx
    reads it before the collection's files). On such a port rules answer by name beside the host's server.
  - The names the host defines at http level (log formats, upstreams, zones, variables) and its http-level settings,
    so that what a caller adds does not clash with them; how nginx runs (version, user, pid, systemd); whether the
    host has IPv6 (the rules then listen on C([::]) too).
  - Never changes anything. The modules that apply rules check them against the host's servers themselves, before
    they touch anything (a rule that would take a name or a port from the host's servers is refused; run them in
    check mode to see).
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
    description:
      - Where the P(antsle.antman.load_balancer#role) role's http-level drop-in goes (its C(antman_lb_dropin_path)), an
        absolute path; RV(dropin) says whether the configuration includes it, and where nginx reads it among the
        host's servers decides which default servers stay.
      - V(auto) chooses C(zz-antman.conf) in the first directory that the C(http) context includes with a glob which
        matches that name (C(conf.d/*.conf) on Debian and RHEL, C(virtualhosts/*.conf) on antMan's own layout; the
        C(zz-) has nginx read it after the host's files there, and a drop-in an older release wrote there as
        C(antman.conf) is kept), else C(antman.conf) beside O(nginx_conf) (which then needs an include line). A file
        there that this collection did not write is an error, never taken over.
    type: str
    default: auto
seealso:
  - module: antsle.antman.lb_rules
"""

EXAMPLES = r"""
- name: Where does the role's drop-in go, and which server is the default on each port the host listens on?
  antsle.antman.lb_host_info:
  register: host_nginx

- name: Say what rules would share with the host
  ansible.builtin.debug:
    msg: "{{ host_nginx.notes }}"
"""

RETURN = r"""
nginx:
  description: How nginx runs.
  returned: always
  type: dict
  contains:
    binary:
      description: The nginx binary.
      type: str
    conf:
      description: Its main configuration file.
      type: str
    version:
      description: Its version (from C(nginx -V)).
      type: str
      sample: 1.22.1
    user:
      description: The C(user) of its main context, V(null) when unset (nginx's compiled-in default).
      type: str
      sample: nginx
    group:
      description: The group of the C(user) directive, V(null) when not given.
      type: str
    pid_file:
      description: Its pid file (the C(pid) directive, else the compiled-in path).
      type: str
    master_pid:
      description: The pid of its running master process, V(null) when it does not run.
      type: int
    running:
      description: Whether it runs.
      type: bool
    systemd:
      description: Whether systemd runs it (C(nginx.service) has its master as main process).
      type: bool
dropin:
  description: The http-level drop-in of O(dropin_path).
  returned: always
  type: dict
  contains:
    path:
      description: Its path.
      type: str
      sample: /etc/nginx/conf.d/zz-antman.conf
    auto:
      description: Whether it was chosen (O(dropin_path=auto)).
      type: bool
    included:
      description: Whether the configuration includes it in its C(http) context already (a glob counts).
      type: bool
    include:
      description: The C(file:line) of the include directive that does, V(null) when none does.
      type: str
    includes_rules:
      description:
        - Whether the drop-in has to include O(rules_dir)C(/*.conf) itself - V(false) when the host's configuration
          includes it elsewhere (RV(rules_included_by)), for example the line M(antsle.antman.lb_rule) asks for on a
          host without the role. nginx would otherwise read every rule twice and refuse the configuration.
      type: bool
rules_included:
  description: Whether O(rules_dir)C(/*.conf) is included in the C(http) context.
  returned: always
  type: bool
rules_included_by:
  description: The include directives of O(rules_dir)C(/*.conf) in the C(http) context outside the drop-in.
  returned: always
  type: list
  elements: dict
  sample: [{file: /etc/nginx/nginx.conf, line: 31}]
stream_included:
  description: Whether O(rules_dir)C(/*.stream) is included in the C(stream) context.
  returned: always
  type: bool
http_includes:
  description: The include directives of the C(http) context, in nginx's reading order.
  returned: always
  type: list
  elements: dict
  sample: [{pattern: /etc/nginx/conf.d/*.conf, file: /etc/nginx/nginx.conf, line: 30}]
servers:
  description: The host's own http servers (not in files this collection wrote), in nginx's reading order.
  returned: always
  type: list
  elements: dict
  sample: [{file: /etc/nginx/nginx.conf, line: 38, listen: ["*:80 default_server", "[::]:80 default_server"], server_name: [_]}]
host_ports:
  description: The ports the host's own servers listen on.
  returned: always
  type: list
  elements: int
default_servers:
  description:
    - For each port the host's servers listen on (RV(host_ports)), its default server there.
    - C(explicit) is whether its C(listen) says C(default_server); C(stays) whether it remains nginx's default once
      the collection's files are read (always when explicit).
  returned: always
  type: list
  elements: dict
  sample: [{port: 8000, file: /etc/nginx/virtualhosts/antlets.conf, line: 9, server_name: [_], explicit: true, stays: true}]
http_settings:
  description: "The host's own http-level settings by directive name, each with C(args), C(file) and C(line), as first given."
  returned: always
  type: dict
  sample: {server_names_hash_bucket_size: {args: ["128"], file: /etc/nginx/nginx.conf, line: 21}}
names:
  description: The names the host defines at http level, C(kind) one of V(log_format), V(upstream), V(zone), V(variable).
  returned: always
  type: list
  elements: dict
  sample: [{kind: variable, name: connection_upgrade, file: /etc/nginx/virtualhosts/antman-ui.conf, line: 1}]
ipv6:
  description:
    - Whether the host has IPv6 (an IPv6 socket binds to C([::])). Rules with C(ipv6=true) then listen on C([::]) too,
      and so do the role's catch-all servers; every module and the role ask the same question.
  returned: always
  type: bool
notes:
  description:
    - What an operator should know about fitting rules into this host, one sentence each (where the drop-in goes, and
      for each port the host listens on, who answers names no rule serves).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_host_info as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
