# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The fields of a load-balancing rule. Defaults must match COMMON_DEFAULTS in module_utils/rule.py
    # and the argument spec (a unit test checks it); protocol-dependent defaults are described.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - The rule's identifier. It names the rule's file (C(<name>.conf)) and its nginx upstream (C(antman_<name>)).
      - 1 to 64 letters, digits, C(-) or C(_), starting with a letter or digit. Names that differ only
        in case are the same name to nginx and are refused.
    type: str
    required: true
  protocol:
    description:
      - "V(http) balances HTTP requests (nginx's http context): server names, TLS, per-request retries."
      - V(tcp) and V(udp) balance connections and datagrams (nginx's stream context); the port identifies
        the rule, and O(server_name), O(keepalive), O(retry_non_idempotent), O(tls) and O(redirect_http)
        do not apply (giving them is an error). Weights, backup, down and the failover settings work the same way;
        a hung TCP upstream that accepts connections cannot be detected (there is no request to time out),
        a crashed or unreachable one is skipped. nginx's stream module must be loaded and
        C(include <rules_dir>/*.stream;) be in its C(stream) context (the P(antsle.antman.load_balancer#role) role
        does both).
    type: str
    choices: [http, tcp, udp]
    default: http
  server_name:
    description:
      - The host name(s) users visit, as nginx C(server_name) values. Host names (V(my-balanced-page.local),
        V(example.com)), leading or trailing wildcards (V(*.example.com), V(www.example.*)) or IPv4 addresses.
      - Case-insensitive; stored lowercase, in the order given. Required when an http rule is present.
      - A server name may be used by one rule per O(server_port) only.
    type: list
    elements: str
  server_port:
    description:
      - The port nginx listens on for this rule (1-65535).
    type: int
    default: 80
  method:
    description:
      - How requests are spread over the upstreams.
      - V(round_robin) is weighted round robin (nginx's smooth variant, exact with any number of workers).
      - V(least_conn) sends each request to the upstream with the fewest active connections, weighted.
      - V(ip_hash) keeps each client IP on one upstream (sticky); it cannot be combined with backup upstreams.
        For tcp and udp rules it is rendered as C(hash $remote_addr).
    type: str
    choices: [round_robin, least_conn, ip_hash]
    default: round_robin
  upstreams:
    description:
      - The antlets (or any servers) traffic is spread over. At least one must be neither O(upstreams[].backup)
        nor O(upstreams[].down). Required when the rule is present. At most 128.
    type: list
    elements: dict
    suboptions:
      address:
        description:
          - V(host), V(host:port), V(10.1.1.102:80), V([2001:db8::5]:8080). The port defaults to 80.
          - Host names must resolve when nginx loads the configuration, or the change is refused and rolled back.
          - Two upstreams of one rule cannot have the same address.
        type: str
        required: true
      weight:
        description:
          - Relative share of requests (1-1000). Weights 3, 1, 1 send 3 of every 5 requests to the first.
        type: int
        default: 1
      backup:
        description:
          - Used only when all the other (non-backup) upstreams are down or failed.
        type: bool
        default: false
      down:
        description:
          - Kept in the rule but taken out of rotation (maintenance).
        type: bool
        default: false
      max_fails:
        description:
          - Overrides the rule's O(max_fails) for this upstream.
        type: int
      fail_timeout:
        description:
          - Overrides the rule's O(fail_timeout) for this upstream.
        type: str
  connect_timeout:
    description:
      - How long nginx waits to connect to an upstream before trying the next one (nginx time, at most
        V(75s); a bare number is seconds). An antlet whose link is cut, or that drops connections, costs
        a request this long.
      - nginx's own default is 60s, which stalls requests for a minute when an antlet disappears.
    type: str
    default: 1s
  read_timeout:
    description:
      - http - how long nginx waits between two reads from (or writes to) an upstream before it counts the upstream
        as failed and, for requests that may be retried, tries the next one. This bounds how long a request
        can stall on a hung antlet. Default V(5s).
      - Trade-off, a short value cuts legitimately slow responses (a report that takes 20 s before its first
        byte). Raise it per rule for such applications; it is per rule for that reason.
        nginx's own default is 60s, with which a hung antlet stalls a third of the requests (with three
        upstreams) for a minute each.
      - tcp - the idle time after which a proxied connection is closed (nginx C(proxy_timeout)). Default V(600s),
        as in nginx, because TCP sessions such as SSH are often idle.
      - udp - how long a client's session waits for upstream datagrams. Default V(10s).
    type: str
  max_fails:
    description:
      - Failed attempts within O(fail_timeout) after which an upstream is considered unavailable for
        O(fail_timeout). V(0) disables the accounting (the upstream is never marked unavailable).
      - Why 3 and not nginx's 1 - nginx cannot tell a hung upstream from one page that is slower than
        O(read_timeout); with 1, a single slow request takes every upstream it was tried on out of rotation,
        and a few of them at once make the whole rule answer 502 (see docs/benchmarks.md). A crashed or
        hung upstream is still avoided after its first few failures, and the requests that failed on it are
        retried elsewhere.
    type: int
    default: 3
  fail_timeout:
    description:
      - The window for O(max_fails), and how long an upstream is then avoided before one request probes it
        again (whole seconds, nginx time such as V(10s)).
    type: str
    default: 10s
  next_upstream_tries:
    description:
      - How many upstreams a request may be tried on in total, V(0) for no limit.
    type: int
    default: 3
  retry_non_idempotent:
    description:
      - http only. Also retry POST, LOCK and PATCH requests on the next upstream after an error or timeout.
      - Off (V(false)) by default because the failed upstream may already have acted on the request, which
        would then run twice. Turn it on only for applications whose non-idempotent requests are safe to repeat.
    type: bool
  keepalive:
    description:
      - http only. Idle connections to the upstreams each nginx worker keeps open for reuse. About doubles
        proxied throughput. Default V(32); V(0) turns it off (a new connection per request).
    type: int
  tls:
    description:
      - http only. Terminate HTTPS for this rule with a certificate; upstreams are still reached over plain HTTP.
      - Give either O(tls.certificate) and O(tls.key) (files on the host), or O(tls.certificate_content) and
        O(tls.key_content), which are written beside the rule's file as C(<name>.crt) and C(<name>.key)
        (mode 0600) in the same atomic change. The key is never shown in results, diffs or logs; rules read back
        carry O(tls.certificate_sha256) and O(tls.key_sha256) instead of the content.
      - Usually with O(server_port=443). All http rules on one port must agree on using tls.
    type: dict
    suboptions:
      certificate:
        description: Absolute path of the certificate (chain) in PEM on the host.
        type: str
      key:
        description: Absolute path of the private key in PEM on the host.
        type: str
      certificate_content:
        description: The certificate (chain) in PEM.
        type: str
      key_content:
        description: The unencrypted private key in PEM.
        type: str
      certificate_sha256:
        description:
          - Digest of certificate content the collection wrote earlier, as rules are read back. Given instead of
            content, the files already on the host are kept (a gathered rule set restores as it was).
        type: str
      key_sha256:
        description: Digest of key content the collection wrote earlier (see O(tls.certificate_sha256)).
        type: str
      protocols:
        description: TLS versions accepted. Default V([TLSv1.2, TLSv1.3]).
        type: list
        elements: str
        choices: [TLSv1.2, TLSv1.3]
  redirect_http:
    description:
      - http with O(tls) only. Also answer plain HTTP on port 80 for the same server names with a
        301 redirect to https (to O(server_port)). Default V(false).
    type: bool
"""


def _without_defaults(options):
    """The same options with each default moved into the description: in lb_rules a field an
    item does not mention keeps its current value (merged), so it has no default there."""
    result = {}
    for name, spec in options.items():
        spec = dict(spec)
        if "default" in spec:
            default = spec.pop("default")
            shown = str(default).lower() if isinstance(default, bool) else default
            spec["description"] = list(spec["description"]) + [
                "When a rule is created or replaced and this is not given, V(%s)." % shown]
        if "suboptions" in spec:
            spec["suboptions"] = _without_defaults(spec["suboptions"])
        result[name] = spec
    return result


def _config_documentation(text):
    import yaml

    # Option references in the shared descriptions point into config[] here (O(max_fails) -> O(config[].max_fails)).
    options = yaml.safe_load(text.replace("O(", "O(config[]."))["options"]
    return yaml.safe_dump({"options": {"config": {"suboptions": _without_defaults(options)}}}, sort_keys=False)


# lb_rules' config items have the same fields: derived from DOCUMENTATION, not written twice.
# (Assigned after the class: ansible-test's yamllint reads class-level string literals only.)
ModuleDocFragment.CONFIG = _config_documentation(ModuleDocFragment.DOCUMENTATION)
