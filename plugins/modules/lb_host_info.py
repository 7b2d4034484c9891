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
    wrote it) and returns the facts needed to add load balancing without changing what the host already serves.
  - Where nginx reads http-level files (the C(include) globs of the C(http) context), and so where an http-level
    drop-in goes (O(dropin_path)); whether O(rules_dir) is included already.
  - The host's own servers (those in files this collection did not write), and for each of O(ports) the host's
    default server there and whether it stays the default (an explicit C(default_server) always does; a server
    that is the default only because nginx reads it first does while nginx reads it before the collection's files).
    RV(catch_all_ports) are the ports where a catch-all server may be added without taking that role from the host.
  - The names the host defines at http level (log formats, upstreams, zones, variables) and its http-level settings,
    so that what a caller adds does not clash with them; how nginx runs (version, user, pid, systemd).
  - The P(antsle.antman.load_balancer#role) role runs it before changing anything; it never changes anything itself.
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
      - Where the caller's http-level drop-in is, an absolute path; RV(dropin) says whether the configuration includes it.
      - V(auto) chooses C(antman.conf) in the first directory that the C(http) context includes with a glob which
        matches that name (C(conf.d/*.conf) on Debian and RHEL, C(virtualhosts/*.conf) on antMan's own layout),
        else C(antman.conf) beside O(nginx_conf) (which then needs an include line). A file there that this collection
        did not write is an error, never taken over.
    type: str
    default: auto
  ports:
    description:
      - The http ports the caller's rules use; RV(default_servers) and RV(catch_all_ports) are about these.
    type: list
    elements: int
    default: []
  catch_all:
    description:
      - Whether the caller adds a catch-all server on RV(catch_all_ports) (only changes the wording of RV(notes)).
    type: bool
    default: true
  remove_links:
    description:
      - Links the caller's change removes (for example Debian's C(sites-enabled/default)); their servers do not count.
    type: list
    elements: path
    default: []
  rules:
    description:
      - Rules to check against the host's own servers, in canonical form (as M(antsle.antman.lb_rules) with
        O(antsle.antman.lb_rules#module:state=gathered) returns them, or the role's rule set); RV(rule_problems) says
        what keeps them from fitting. The modules that apply rules make the same checks before they touch anything.
    type: list
    elements: dict
    default: []
  keep_unlisted:
    description:
      - Whether the managed rules already on the host that are not in O(rules) stay (as with
        O(antsle.antman.lb_rules#module:state=replaced), the role's C(antman_lb_exclusive=false)). Their http ports
        then count among O(ports), and RV(tls_ports) and RV(stream) include them, so they keep their catch-all
        server and their stream context.
    type: bool
    default: false
seealso:
  - module: antsle.antman.lb_base_config
  - module: antsle.antman.lb_rules
"""

EXAMPLES = r"""
- name: Where would an http-level drop-in go, and which of ports 80 and 8000 already have a default server?
  antsle.antman.lb_host_info:
    ports: [80, 8000]
  register: host_nginx

- name: Say what the rules would share with the host
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
      sample: /etc/nginx/conf.d/antman.conf
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
    - For each of O(ports) the host's servers listen on, its default server there.
    - C(explicit) is whether its C(listen) says C(default_server); C(stays) whether it remains nginx's default once
      the collection's files are read (always when explicit).
  returned: always
  type: list
  elements: dict
  sample: [{port: 8000, file: /etc/nginx/virtualhosts/antlets.conf, line: 9, server_name: [_], explicit: true, stays: true}]
ports:
  description: The http ports considered, O(ports) and, with O(keep_unlisted), those of RV(kept_rules).
  returned: always
  type: list
  elements: int
tls_ports:
  description: The ports on which the rules of O(rules) and RV(kept_rules) terminate TLS.
  returned: always
  type: list
  elements: int
stream:
  description: Whether a rule of O(rules) or RV(kept_rules) is a tcp or udp rule (nginx's stream context).
  returned: always
  type: bool
kept_rules:
  description: With O(keep_unlisted), the names of the managed rules on the host that are not in O(rules) and stay.
  returned: always
  type: list
  elements: str
catch_all_ports:
  description: The RV(ports) on which no host server stays the default (where a catch-all server takes nothing away).
  returned: always
  type: list
  elements: int
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
rule_problems:
  description:
    - What keeps O(rules) from fitting into the host's nginx, one sentence each naming the rule and the host's file
      (empty when they fit). A server name a host server answers on the same port (the same name, or one its
      wildcard or regular-expression name matches, which the rule would take over); a port where the rule and a host
      server disagree on TLS; a tcp port a host http server listens on; an upstream or zone name the host defines.
  returned: always
  type: list
  elements: str
  sample: ["rule 'ui': server_name 'myantsle.local' on port 80 is served by the host's server in /etc/nginx/virtualhosts/ui.conf:6
           (which already has server_name myantsle.local); a rule would take it over"]
notes:
  description: What an operator should know about fitting rules into this host, one sentence each.
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
