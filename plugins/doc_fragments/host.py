# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Where rules and nginx live on the antsle host.
    DOCUMENTATION = r"""
options:
  rules_dir:
    description:
      - Directory holding one nginx file per rule, named C(<name>.conf), and nothing else.
      - "It must be included from nginx's C(http) context, for example by
        C(include /etc/nginx/antman.d/*.conf;). The module fails if the configuration in O(nginx_conf)
        does not include it. The first step on a host is the P(antsle.antman.load_balancer#role) role
        with C(tasks_from: configure) (and C(antman_lb_extra_ports), the ports the rules use): it includes
        the directory and answers unknown Host names on those ports, as one validated change."
      - The collection keeps it as a symbolic link to a generation directory beside it, so that a
        change replaces the whole rule set in one atomic step. An existing plain directory is adopted.
      - Files in it that the collection did not write are reported and never touched.
    type: path
    default: /etc/nginx/antman.d
  nginx_binary:
    description:
      - The nginx executable, as a path or a name looked up in E(PATH) and the usual sbin directories.
    type: str
    default: nginx
  nginx_conf:
    description:
      - nginx's main configuration file, used for C(nginx -t) and to check that O(rules_dir) is included.
    type: path
    default: /etc/nginx/nginx.conf
"""
