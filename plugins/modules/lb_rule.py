#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_rule
short_description: Manage one load-balancing rule of an antsle host
version_added: 0.1.0
description:
  - Creates, edits or deletes one antMan-style load-balancing rule. nginx on the antsle host then
    spreads the traffic for the rule's O(server_name) and O(server_port) over its O(upstreams)
    (antlets), with weights, backup upstreams and failover.
  - Each rule is one file in O(rules_dir). A change is validated with C(nginx -t) and takes effect at
    once through a reload, or is rolled back completely.
  - Everything is validated before anything is touched; errors name the field and the bad value.
  - On an existing rule, an option left out keeps its current value; a rule is created with the defaults
    shown here for the options not given. O(upstreams), when given, is the whole list of upstreams.
  - To manage the whole rule set in one step (one validation and one reload for any number of
    rules), use M(antsle.antman.lb_rules).
  - nginx answers a request for a Host name no rule serves with the default server of the port, or without one
    with the first rule it reads there. When a rule is created on (or moved to) a port where no server outside
    O(rules_dir) is the default, the module warns and says how to add a catch-all (the
    P(antsle.antman.load_balancer#role) role's C(antman_lb_extra_ports)).
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
    details: The diff is the rule's nginx configuration text.
  platform:
    platforms: posix
options:
  # BEGIN schema rule_options: generated from plugins/module_utils/model/schema.py by scripts/generate-schema-files.sh; edit the fields there
  name:
    description:
      - The rule's identifier. It names the rule's file (C(<name>.conf)) and its nginx upstream (C(antman_<name>)).
      - 1 to 64 letters, digits, C(-) or C(_), starting with a letter or digit. Names that differ only in
        case are the same name to nginx and are refused.
    type: str
    required: true
  protocol:
    description:
      - V(http) balances HTTP requests (nginx's http context), with server names, TLS and per-request retries.
      - V(tcp) and V(udp) balance connections and datagrams (nginx's stream context); the port identifies
        the rule, and the http-only fields (O(server_name), O(keepalive), O(retry_non_idempotent), O(tls),
        O(redirect_http)) do not apply (giving them is an error). Weights, backup, down and the failover
        settings work the same way; a hung TCP upstream that accepts connections cannot be detected (there
        is no request to time out), a crashed or unreachable one is skipped. nginx's stream module must
        be loaded and C(include <rules_dir>/*.stream;) be in its C(stream) context (the P(antsle.antman.load_balancer#role)
        role does both).
    type: str
    choices:
      - http
      - tcp
      - udp
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
  ipv6:
    description:
      - Listen on IPv6 too (C([::]:<server_port>), and C([::]:80) for O(redirect_http)) when the host has
        IPv6; a host without it gets the IPv4 listener only, from the same rule. V(false) listens on IPv4
        only.
      - Every rule listens on IPv4 (C(<server_port>), all addresses).
    type: bool
    default: true
  method:
    description:
      - How requests are spread over the upstreams.
      - V(round_robin) is weighted round robin (nginx's smooth variant, exact with any number of workers).
      - V(least_conn) sends each request to the upstream with the fewest active connections, weighted.
      - V(ip_hash) keeps each client IP on one upstream (sticky); it cannot be combined with backup upstreams.
        For tcp and udp rules it is rendered as C(hash $remote_addr).
    type: str
    choices:
      - round_robin
      - least_conn
      - ip_hash
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
          - V(host), V(host:port), V(10.1.1.102:80), V([2001:db8::5]:8080). Without a port, port 80.
          - Host names must resolve when nginx loads the configuration, or the change is refused and rolled
            back.
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
      - How long nginx waits to connect to an upstream before trying the next one (nginx time, at most V(75s);
        a bare number is seconds). An antlet whose link is cut, or that drops connections, costs a request
        this long.
      - nginx's own default is 60s, which stalls requests for a minute when an antlet disappears.
    type: str
    default: 1s
  read_timeout:
    description:
      - http - how long nginx waits between two reads from (or writes to) an upstream before it counts the
        upstream as failed and, for requests that may be retried, tries the next one. This bounds how long
        a request can stall on a hung antlet.
      - Trade-off, a short value cuts legitimately slow responses (a report that takes 20 s before its first
        byte). Raise it per rule for such applications; it is per rule for that reason. nginx's own default
        is 60s, with which a hung antlet stalls a third of the requests (with three upstreams) for a minute
        each.
      - tcp - the idle time after which a proxied connection is closed (nginx C(proxy_timeout)); long, as
        in nginx, because TCP sessions such as SSH are often idle.
      - udp - how long a client's session waits for upstream datagrams.
      - The default shown is for http rules; not given, a tcp rule has V(600s) and a udp rule has V(10s).
    type: str
    default: 5s
  max_fails:
    description:
      - Failed attempts within O(fail_timeout) after which an upstream is considered unavailable for O(fail_timeout).
        V(0) disables the accounting (the upstream is never marked unavailable).
      - 'Why 5 and not nginx''s 1 - nginx cannot tell a hung upstream from one page that is slower than
        O(read_timeout): each try of such a page counts as a failure of its upstream. With the default O(next_upstream_timeout)
        a slow page is tried on two upstreams, one failure each, so up to four slow pages at once take no
        upstream out of rotation, and with three upstreams it takes eight to make the rule answer 502 (with
        nginx''s 1, a single one does; see docs/benchmarks.md). Under load a crashed or hung upstream still
        collects its 5 failures within milliseconds, and the requests that failed on it are retried elsewhere.
        The health agent (O(health_check)) takes such an upstream out before any request times out.'
    type: int
    default: 5
  fail_timeout:
    description:
      - The window for O(max_fails), and how long an upstream is then avoided before one request probes
        it again (whole seconds, nginx time such as V(10s)).
    type: str
    default: 10s
  next_upstream_tries:
    description:
      - How many upstreams a request may be tried on in total, V(0) for no limit.
      - 'Not given, it is computed from the upstreams: 3, or with backups, every upstream in rotation (primaries
        and backups that are not O(upstreams[].down)), so that a request reaches a backup even when all
        the primaries fail at the same moment. A given value too small for that is applied with a warning.'
    type: int
  next_upstream_timeout:
    description:
      - How long a request may go on being passed to the next upstream (nginx C(proxy_next_upstream_timeout));
        once it has spent this long, the failure it last met is the answer. V(0) for no limit.
      - 'It bounds how long a request can take when several upstreams hang, whatever the number of tries:
        at most this plus one try (O(connect_timeout) + O(read_timeout)).'
      - 'Not given, http rules use the time of one try, O(connect_timeout) + O(read_timeout) (6s with the
        defaults): a request that timed out is passed to one more upstream, not to all of them, so a page
        slower than O(read_timeout) costs two upstreams a failure (see O(max_fails)) and gets its 504 after
        2 x O(read_timeout); errors that come at once (a refused connection) are still passed on up to O(next_upstream_tries).
        A rule with backups uses three tries'' worth, 3 x (O(connect_timeout) + O(read_timeout)) (18s),
        so that a request gets past hung primaries to a backup. tcp and udp rules have no limit (their retries
        only happen while connecting, each bounded by O(connect_timeout)).'
    type: str
  retry_non_idempotent:
    description:
      - http only. Also retry POST, LOCK and PATCH requests on the next upstream after an error or timeout.
      - Off by default because the failed upstream may already have acted on the request, which would then
        run twice. Turn it on only for applications whose non-idempotent requests are safe to repeat.
    type: bool
    default: false
  keepalive:
    description:
      - http only. Idle connections to the upstreams each nginx worker keeps open for reuse. About doubles
        proxied throughput. V(0) turns it off (a new connection per request).
    type: int
    default: 32
  websocket:
    description:
      - 'http only. Forward WebSocket (and any other HTTP/1.1 C(Upgrade)) requests to the upstreams. Requests
        with an C(Upgrade) header are proxied from a location of their own (C(@antman_websocket)) that forwards
        C(Upgrade) and C(Connection: upgrade) and gives the upgraded connection O(websocket_timeout); ordinary
        requests keep upstream O(keepalive) and O(read_timeout). No nginx variable or C(map) is defined,
        so nothing clashes with the host''s own (such as C($connection_upgrade)).'
      - V(false) - C(Upgrade) is not forwarded, a WebSocket handshake gets no C(101).
    type: bool
    default: true
  websocket_timeout:
    description:
      - http only. How long an upgraded (WebSocket) connection may stay idle, no data either way, before
        nginx closes it (at most V(24h)). Independent of O(read_timeout), which keeps bounding ordinary
        requests; an application that pings every 30 s keeps its sockets for as long as it likes.
      - 'Trade-off, nginx also waits this long for the answer to the handshake itself: a hung upstream holds
        a handshake up to this long (a crashed one is skipped at once, a cut link costs O(connect_timeout)).
        Ordinary requests to the same upstream mark it failed after O(read_timeout).'
    type: str
    default: 3600s
  client_max_body_size:
    description:
      - http only. The largest request body (upload) accepted, an nginx size (V(512k), V(200m), V(1g));
        larger ones get C(413). V(0) for no limit. The default is antMan's own; nginx's is 1m.
    type: str
    default: 200m
  buffering:
    description:
      - 'http only. V(true) - nginx''s buffering: a request body is read completely before it is sent to
        an upstream (a failed upstream can then be retried with it), and responses are read ahead of slow
        clients, which frees the upstream sooner. Streamed responses still reach clients as they are sent
        (C(text/event-stream), long polling), and an application can turn response buffering off per response
        with C(X-Accel-Buffering: no).'
      - 'V(false) - request and response bodies are streamed through as they come (C(proxy_request_buffering
        off), C(proxy_buffering off)): uploads reach the application while they are sent, nothing is written
        to nginx''s temporary files. A request whose body was already being sent is then never retried on
        another upstream.'
    type: bool
    default: true
  tls:
    description:
      - http only. Terminate HTTPS for this rule with a certificate; upstreams are still reached over plain
        HTTP.
      - Give either O(tls.certificate) and O(tls.key) (files on the host), or O(tls.certificate_content)
        and O(tls.key_content), which are written beside the rule's file as C(<name>.crt) and C(<name>.key)
        (mode 0600) in the same atomic change, or O(tls.acme=true) (a certificate the role obtains and renews).
        The key is never shown in results, diffs or logs; rules read back carry O(tls.certificate_sha256)
        and O(tls.key_sha256) instead of the content.
      - Usually with O(server_port=443). All http rules on one port must agree on using tls.
    type: dict
    suboptions:
      certificate:
        description:
          - Absolute path of the certificate (chain) in PEM on the host.
        type: str
      key:
        description:
          - Absolute path of the private key in PEM on the host.
        type: str
      certificate_content:
        description:
          - The certificate (chain) in PEM.
        type: str
      key_content:
        description:
          - The unencrypted private key in PEM.
        type: str
      certificate_sha256:
        description:
          - Digest of certificate content the collection wrote earlier, as rules are read back. Given instead
            of content, the files already on the host are kept (a gathered rule set restores as it was).
        type: str
      key_sha256:
        description:
          - Digest of key content the collection wrote earlier (see O(tls.certificate_sha256)).
        type: str
      acme:
        description:
          - 'V(true): the certificate comes from an ACME CA (Let''s Encrypt), obtained and renewed by the
            role (see the role''s C(antman_lb_acme_*) variables) through HTTP-01 challenges, which this
            rule answers on port 80 for exactly its O(server_name) names (C(/.well-known/acme-challenge/),
            from C(<acme_dir>/challenge)); other requests there get 404, or the redirect of O(redirect_http).'
          - nginx serves C(<acme_dir>/certs/<name>.pem) with the key C(<acme_dir>/private/<name>.key); until
            the CA has issued the certificate, the role puts a self-signed placeholder there.
          - Given instead of the certificate and key fields.
        type: bool
      acme_dir:
        description:
          - With O(tls.acme), the directory of the ACME files (the role sets it from C(antman_lb_acme_dir)).
        type: str
        default: /var/lib/antman/acme
      protocols:
        description:
          - TLS versions accepted.
          - Ciphers and key exchange groups follow Mozilla's "intermediate" profile (forward-secret AEAD
            suites only, groups X25519, prime256v1, secp384r1); they are not configurable.
        type: list
        elements: str
        choices:
          - TLSv1.2
          - TLSv1.3
        default:
          - TLSv1.2
          - TLSv1.3
      hsts:
        description:
          - 'Send C(Strict-Transport-Security: max-age=<hsts>) on every response of this rule (browsers
            then use https only for its names for that many seconds). 0 tells browsers to forget it. Not
            sent when not given.'
          - Mozilla recommends V(63072000) (two years) once https works for every name of the rule.
        type: int
  http2:
    description:
      - http only. With O(tls), offer HTTP/2 (ALPN C(h2)) besides HTTP/1.1, in the syntax of the host's
        nginx version (C(listen ... http2) before 1.25.1, C(http2 on) from 1.25.1; read from C(nginx -v)).
        Upstreams are still reached over HTTP/1.1. WebSocket clients use HTTP/1.1 connections, which keep
        working.
      - All tls rules on one port must agree on it (before nginx 1.25.1 it is a setting of the listening
        socket). Without O(tls) it has no effect (browsers speak HTTP/2 over TLS only).
    type: bool
    default: true
  redirect_http:
    description:
      - http only. With O(tls) only. Also answer plain HTTP on port 80 for the same server names with a
        301 redirect to https (to O(server_port)).
    type: bool
    default: false
  allow_from:
    description:
      - Only clients from these IPv4 or IPv6 addresses or networks (V(10.1.1.0/24), V(127.0.0.2), V(2001:db8::/32))
        reach the rule; others get C(403) (http) or have their connection closed (tcp, udp). Not given,
        everyone.
      - Networks must be written with their host bits clear (V(10.1.1.0/24), not V(10.1.1.7/24), which is
        refused naming the network). Stored canonical - single hosts without a prefix, IPv6 compressed -
        in the order given.
      - The address checked is the client's as O(real_ip_from) gives it when the rule is behind a trusted
        proxy.
    type: list
    elements: str
  rate_limit:
    description:
      - 'http and tcp only. Per client address. http - at most O(rate_limit.requests_per_second) on average
        with O(rate_limit.burst) more at once; requests beyond get C(429) with C(Retry-After: 1). tcp -
        at most O(rate_limit.connections) open connections; further ones are closed.'
      - Each rule has a shared memory zone of its own (C(antman_<name>_req) or C(antman_<name>_conn), 1m,
        room for about 8000 client addresses; the least recently seen are forgotten first), written in the
        rule's file.
      - WebSocket handshakes count as requests; one refused gets C(429) without C(Retry-After).
    type: dict
    suboptions:
      requests_per_second:
        description:
          - http only. Requests per second each client address may make (1-100000), on average. Required
            in an http rule's O(rate_limit).
        type: int
      burst:
        description:
          - http only. Requests beyond the rate a client may make at once, served without delay; the next
            ones get C(429).
        type: int
        default: 0
      connections:
        description:
          - tcp only. Connections each client address may have open at once (1-65535); more are closed.
            Required in a tcp rule's O(rate_limit).
        type: int
  real_ip_from:
    description:
      - http and tcp only. Trusted proxies (addresses or networks, as in O(allow_from)) in front of this
        host. A connection from one of them gets its client address from the C(X-Forwarded-For) header (http),
        or from the PROXY protocol header when O(proxy_protocol=true) (required for tcp). That address is
        what O(allow_from), O(rate_limit), V(ip_hash), C(X-Real-IP) and the access log use. From any other
        source the header is ignored, so a client cannot choose its address.
      - With several trusted proxies in a row, the last address in C(X-Forwarded-For) that is not one of
        them is the client's.
    type: list
    elements: str
  proxy_protocol:
    description:
      - 'http and tcp only. The listening side speaks PROXY protocol (v1 or v2): every connection to O(server_port)
        must start with a PROXY header (as a load balancer such as HAProxy or a cloud one sends it). Needs
        O(real_ip_from), the proxies whose header is trusted. All http rules on one port must agree on it
        (it is a setting of the listening socket).'
    type: bool
    default: false
  proxy_protocol_upstream:
    description:
      - tcp only. Send a PROXY protocol (v1) header to the upstreams at the start of each connection, so
        that they see the client's address. The upstreams must expect it (an application that does not reads
        it as data).
    type: bool
    default: false
  health_check:
    description:
      - 'http and tcp only. Active health checks by the health agent (the P(antsle.antman.load_balancer#role)
        role''s C(antman_lb_health)): it probes every upstream in rotation on its own, takes one out of
        this rule''s rotation after O(health_check.fails) failed probes in a row and returns it after O(health_check.passes)
        passed ones, through the same validated reload as the modules. Held-out upstreams are rendered C(down)
        in the rule''s file; the rule itself (what modules return and compare) is unchanged, so a playbook
        run keeps them out and reports no change. Upstreams declared O(upstreams[].down) are never probed.'
      - 'Fail open - a rule is never left with nothing to serve: when every primary fails, the backups serve;
        when nothing passes, every upstream stays in rotation.'
      - Checks are on by default for http and tcp rules (udp rules have none); options not given take their
        defaults, and rule files at the defaults do not mention it.
    type: dict
    suboptions:
      enabled:
        description:
          - V(false) - the agent does not probe this rule's upstreams (passive checks only).
        type: bool
        default: true
      type:
        description:
          - V(http) - a GET of O(health_check.path) (on the connection of the last probe that passed when
            its answer allowed HTTP/1.1 keep-alive, a new one at least every 10 probes and after any failure);
            it passes when the answer's status is one of O(health_check.status) within O(health_check.timeout).
            V(tcp) - a TCP connect within O(health_check.timeout).
          - 'A tcp rule has no HTTP to send: V(http) is refused there.'
          - The default shown is for http rules; not given, a tcp rule has V(tcp).
        type: str
        choices:
          - http
          - tcp
        default: http
      path:
        description:
          - With O(health_check.type=http) only. The path (and query) requested, such as V(/health).
        type: str
        default: /
      host:
        description:
          - With O(health_check.type=http) only. The C(Host) header sent, a host name or address with an
            optional port. Not given, the rule's first O(server_name); when that is a wildcard (V(*.example.com)),
            the upstream's address (host:port), with a warning.
        type: str
      status:
        description:
          - 'With O(health_check.type=http) only. The statuses that pass, each a status (V(200)) or a range
            (V(200-399)). The default, V(200-499): any answer but a server error means the application answered;
            give V(200) (or V(200-399)) when the path is a health endpoint that says so.'
        type: list
        elements: str
        default:
          - 200-499
      interval:
        description:
          - 'Time between two probes of an upstream (nginx time, V(100ms) to V(1h)). An upstream in doubt
            is probed sooner: half an interval after a failed probe, and as soon as the probe under way
            has not answered within four times the upstream''s usual answer time (at least 100ms, at most
            half an interval), so a hung application is judged about one timeout after its first unanswered
            probe began, plus that doubt for each further failure needed.'
        type: str
        default: 1s
      timeout:
        description:
          - How long one probe may take, connecting and (V(http)) until the status line (V(100ms) to V(60s)).
            A probe that takes longer fails.
        type: str
        default: 1s
      fails:
        description:
          - Failed probes in a row (1-100) after which an upstream leaves this rule's rotation.
        type: int
        default: 2
      passes:
        description:
          - Passed probes in a row (1-100) after which an upstream out of rotation returns. An upstream
            that keeps failing and returning (flapping) must pass for longer each time.
        type: int
        default: 2
  # END schema rule_options
  state:
    description:
      - V(present) creates the rule (the options not given take their defaults; O(server_name) for an http rule
        and O(upstreams) are needed), or changes an existing rule's options that are given. Options left out
        keep their current values, as with M(antsle.antman.lb_rules)' V(merged); O(upstreams), when given,
        replaces the list of upstreams (an upstream left out of it is removed).
      - V(absent) deletes it; only O(name) is used.
    type: str
    choices: [present, absent]
    default: present
  replace:
    description:
      - With V(true), the rule becomes exactly what is given - the options left out return to their defaults,
        and optional settings left out (O(tls), O(rate_limit), O(allow_from), O(next_upstream_tries)...) are
        removed, as M(antsle.antman.lb_rules)' V(replaced) does (what V(present) did in earlier versions).
      - With V(false), options left out keep their current values.
    type: bool
    default: false
seealso:
  - module: antsle.antman.lb_rules
  - module: antsle.antman.lb_rule_info
  - name: nginx upstream module
    description: Semantics of weight, backup, down, max_fails and fail_timeout.
    link: https://nginx.org/en/docs/http/ngx_http_upstream_module.html
"""

EXAMPLES = r"""
- name: Create a rule, as on antMan's Load Balancing page
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: my-balanced-page.local
    upstreams:
      - address: 10.1.1.102:80
        weight: 3
      - address: 10.1.1.103
      - address: 10.1.1.104
        backup: true

- name: Edit it, the change takes effect at once (options not given keep their values; the upstreams are the list given)
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: [my-balanced-page.local, www.example.com]
    read_timeout: 30s
    upstreams:
      - address: 10.1.1.102:80
        weight: 3
      - address: 10.1.1.103
        down: true
      - address: 10.1.1.104
        backup: true

- name: Give it a longer read timeout, changing nothing else
  antsle.antman.lb_rule:
    name: my-balanced-page
    read_timeout: 60s

- name: Make it exactly this (options not given return to their defaults, tls and rate_limit are removed)
  antsle.antman.lb_rule:
    name: my-balanced-page
    server_name: my-balanced-page.local
    upstreams:
      - address: 10.1.1.102:80
    replace: true

- name: Delete it
  antsle.antman.lb_rule:
    name: my-balanced-page
    state: absent

- name: HTTPS for a shop, with plain HTTP redirected to it
  antsle.antman.lb_rule:
    name: shop
    server_name: shop.example.com
    server_port: 443
    redirect_http: true
    tls:
      certificate_content: "{{ lookup('ansible.builtin.file', 'shop.crt') }}"
      key_content: "{{ lookup('ansible.builtin.file', 'shop.key') }}"
    upstreams:
      - address: 10.1.1.102:8080
      - address: 10.1.1.103:8080

- name: An admin panel for the office only, 10 requests a second per client, behind the company's proxy
  antsle.antman.lb_rule:
    name: admin
    server_name: admin.example.com
    allow_from: [198.51.100.0/24, "2001:db8:10::/48"]
    rate_limit:
      requests_per_second: 10
      burst: 5
    real_ip_from: [10.0.0.1]
    upstreams:
      - address: 10.1.1.102:8080

- name: An SSH bastion spread over two antlets (TCP, nginx stream module)
  antsle.antman.lb_rule:
    name: bastion
    protocol: tcp
    server_port: 2222
    upstreams:
      - address: 10.1.1.110:22
      - address: 10.1.1.111:22
        backup: true
"""

RETURN = r"""
rule:
  description:
    - The rule in canonical form (lowercase names, addresses with ports, every field of its protocol present;
      TLS content as sha256 digests only).
    - For O(state=absent), the rule that was deleted, or V(null) if there was none.
  returned: always
  type: dict
  sample:
    name: my-balanced-page
    server_name: [my-balanced-page.local]
    server_port: 80
    ipv6: true
    method: round_robin
    upstreams:
      - {address: "10.1.1.102:80", weight: 3, backup: false, down: false, max_fails: null, fail_timeout: null}
    connect_timeout: 1s
    read_timeout: 5s
    max_fails: 3
    fail_timeout: 10s
    next_upstream_tries: null
    next_upstream_timeout: null
    retry_non_idempotent: false
    keepalive: 32
    websocket: true
    websocket_timeout: 3600s
    client_max_body_size: 200m
    buffering: true
    tls: null
    http2: true
    redirect_http: false
config_file:
  description: Path of the rule's nginx file.
  returned: always
  type: str
  sample: /etc/nginx/antman.d/my-balanced-page.conf
reloaded:
  description: Whether nginx was reloaded (only when something changed and O(reload=true)).
  returned: always
  type: bool
  sample: true
rules:
  description: On failure, the rule(s) nginx refused.
  returned: failure
  type: list
  elements: str
nginx_output:
  description: On failure caused by nginx, its own message.
  returned: failure
  type: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rule as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
