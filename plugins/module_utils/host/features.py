# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the host offers that the text of a rule depends on (``nginx.render.NginxFeatures``): the
version of its nginx (the HTTP/2 syntax) and whether it has IPv6 (the ``[::]`` listeners).

Read once per run, by every module that reads or writes the host, so that the reader's in-sync
check and the transaction render each rule exactly as it will be written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import NginxFeatures


def has_ipv6():
    """Whether nginx could listen on ``[::]`` here: the kernel has IPv6 and an IPv6 socket binds to
    the any-address (what ``listen [::]:PORT`` does). False where IPv6 is disabled in the kernel."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(("::", 0))
        return True
    except (OSError, AttributeError):
        return False


def host_features(version):
    """NginxFeatures of this host; ``version`` is a callable returning nginx's version (such as
    ``control.Nginx.version``, ``nginx -v``), asked only if a rule needs it, then remembered."""
    return NginxFeatures(version=version, ipv6=has_ipv6())
