#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_rules
short_description: Manage the whole load-balancing rule set of an antsle host as one resource
version_added: 0.1.0
description:
  - Makes the host's load-balancing rules match a list, in one step, with the states of Ansible's
    network resource modules. Whatever the number of rules, a call validates the whole set, runs
    C(nginx -t) once and reloads nginx at most once; if anything fails, nothing is changed.
  - Suited to rules kept in inventory (C(group_vars), C(host_vars)). For one rule at a time see
    M(antsle.antman.lb_rule).
  - A rule created on (or moved to) a port where no server outside O(rules_dir) is nginx's default server is warned
    about, as M(antsle.antman.lb_rule) does - a Host name no rule serves would reach the first rule nginx reads there.
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
    details: One diff per changed rule file, its nginx configuration text.
  platform:
    platforms: posix
options:
  config:
    description:
      - The rules. Each item has the rule fields of M(antsle.antman.lb_rule), with the same meaning
        and validation. The defaults shown apply when a rule is created or replaced; with O(state=merged), a field an
        item does not mention keeps the rule's current value.
      - Every item is validated before anything is touched; errors name the item, the rule, the field and the value
        (a misspelt field too, with the field probably meant).
      - Rule names must be unique in the list.
      - For O(state=deleted) only C(name) is used. An empty list deletes nothing; leave O(config) out to delete
        every managed rule.
      - Required, non-empty, for O(state=merged), O(state=replaced) and O(state=overridden), so that an
        empty list never wipes the rule set by accident.
    type: list
    elements: dict
    suboptions:
      # BEGIN schema config_rule_options: generated from plugins/module_utils/model/schema.py by scripts/generate-schema-files.sh; edit the fields there
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
            the rule, and the http-only fields (O(config[].server_name), O(config[].keepalive), O(config[].retry_non_idempotent),
            O(config[].tls), O(config[].redirect_http)) do not apply (giving them is an error). Weights, backup,
            down and the failover settings work the same way; a hung TCP upstream that accepts connections cannot
            be detected (there is no request to time out), a crashed or unreachable one is skipped. nginx's
            stream module must be loaded and C(include <rules_dir>/*.stream;) be in its C(stream) context (the
            P(antsle.antman.load_balancer#role) role does both).
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
          - A server name may be used by one rule per O(config[].server_port) only.
        type: list
        elements: str
      server_port:
        description:
          - The port nginx listens on for this rule (1-65535).
        type: int
        default: 80
      ipv6:
        description:
          - Listen on IPv6 too (C([::]:<server_port>), and C([::]:80) for O(config[].redirect_http)) when the
            host has IPv6; a host without it gets the IPv4 listener only, from the same rule. V(false) listens
            on IPv4 only.
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
          - The antlets (or any servers) traffic is spread over. At least one must be neither O(config[].upstreams[].backup)
            nor O(config[].upstreams[].down). Required when the rule is present. At most 128.
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
              - Overrides the rule's O(config[].max_fails) for this upstream.
            type: int
          fail_timeout:
            description:
              - Overrides the rule's O(config[].fail_timeout) for this upstream.
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
          - Failed attempts within O(config[].fail_timeout) after which an upstream is considered unavailable
            for O(config[].fail_timeout). V(0) disables the accounting (the upstream is never marked unavailable).
          - 'Why 5 and not nginx''s 1 - nginx cannot tell a hung upstream from one page that is slower than
            O(config[].read_timeout): each try of such a page counts as a failure of its upstream. With the
            default O(config[].next_upstream_timeout) a slow page is tried on two upstreams, one failure each,
            so up to four slow pages at once take no upstream out of rotation, and with three upstreams it takes
            eight to make the rule answer 502 (with nginx''s 1, a single one does; see docs/benchmarks.md).
            Under load a crashed or hung upstream still collects its 5 failures within milliseconds, and the
            requests that failed on it are retried elsewhere. The health agent (O(config[].health_check)) takes
            such an upstream out before any request times out.'
        type: int
        default: 5
      fail_timeout:
        description:
          - The window for O(config[].max_fails), and how long an upstream is then avoided before one request
            probes it again (whole seconds, nginx time such as V(10s)).
        type: str
        default: 10s
      next_upstream_tries:
        description:
          - How many upstreams a request may be tried on in total, V(0) for no limit.
          - 'Not given, it is computed from the upstreams: 3, or with backups, every upstream in rotation (primaries
            and backups that are not O(config[].upstreams[].down)), so that a request reaches a backup even
            when all the primaries fail at the same moment. A given value too small for that is applied with
            a warning.'
        type: int
      next_upstream_timeout:
        description:
          - How long a request may go on being passed to the next upstream (nginx C(proxy_next_upstream_timeout));
            once it has spent this long, the failure it last met is the answer. V(0) for no limit.
          - 'It bounds how long a request can take when several upstreams hang, whatever the number of tries:
            at most this plus one try (O(config[].connect_timeout) + O(config[].read_timeout)).'
          - 'Not given, http rules use the time of one try, O(config[].connect_timeout) + O(config[].read_timeout)
            (6s with the defaults): a request that timed out is passed to one more upstream, not to all of them,
            so a page slower than O(config[].read_timeout) costs two upstreams a failure (see O(config[].max_fails))
            and gets its 504 after 2 x O(config[].read_timeout); errors that come at once (a refused connection)
            are still passed on up to O(config[].next_upstream_tries). A rule with backups uses three tries''
            worth, 3 x (O(config[].connect_timeout) + O(config[].read_timeout)) (18s), so that a request gets
            past hung primaries to a backup. tcp and udp rules have no limit (their retries only happen while
            connecting, each bounded by O(config[].connect_timeout)).'
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
            C(Upgrade) and C(Connection: upgrade) and gives the upgraded connection O(config[].websocket_timeout);
            ordinary requests keep upstream O(config[].keepalive) and O(config[].read_timeout). No nginx variable
            or C(map) is defined, so nothing clashes with the host''s own (such as C($connection_upgrade)).'
          - V(false) - C(Upgrade) is not forwarded, a WebSocket handshake gets no C(101).
        type: bool
        default: true
      websocket_timeout:
        description:
          - http only. How long an upgraded (WebSocket) connection may stay idle, no data either way, before
            nginx closes it (at most V(24h)). Independent of O(config[].read_timeout), which keeps bounding
            ordinary requests; an application that pings every 30 s keeps its sockets for as long as it likes.
          - 'Trade-off, nginx also waits this long for the answer to the handshake itself: a hung upstream holds
            a handshake up to this long (a crashed one is skipped at once, a cut link costs O(config[].connect_timeout)).
            Ordinary requests to the same upstream mark it failed after O(config[].read_timeout).'
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
          - Give either O(config[].tls.certificate) and O(config[].tls.key) (files on the host), or O(config[].tls.certificate_content)
            and O(config[].tls.key_content), which are written beside the rule's file as C(<name>.crt) and C(<name>.key)
            (mode 0600) in the same atomic change, or O(config[].tls.acme=true) (a certificate the role obtains
            and renews). The key is never shown in results, diffs or logs; rules read back carry O(config[].tls.certificate_sha256)
            and O(config[].tls.key_sha256) instead of the content.
          - Usually with O(config[].server_port=443). All http rules on one port must agree on using tls.
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
              - Digest of key content the collection wrote earlier (see O(config[].tls.certificate_sha256)).
            type: str
          acme:
            description:
              - 'V(true): the certificate comes from an ACME CA (Let''s Encrypt), obtained and renewed by the
                role (see the role''s C(antman_lb_acme_*) variables) through HTTP-01 challenges, which this
                rule answers on port 80 for exactly its O(config[].server_name) names (C(/.well-known/acme-challenge/),
                from C(<acme_dir>/challenge)); other requests there get 404, or the redirect of O(config[].redirect_http).'
              - nginx serves C(<acme_dir>/certs/<name>.pem) with the key C(<acme_dir>/private/<name>.key); until
                the CA has issued the certificate, the role puts a self-signed placeholder there.
              - Given instead of the certificate and key fields.
            type: bool
          acme_dir:
            description:
              - With O(config[].tls.acme), the directory of the ACME files (the role sets it from C(antman_lb_acme_dir)).
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
          - http only. With O(config[].tls), offer HTTP/2 (ALPN C(h2)) besides HTTP/1.1, in the syntax of the
            host's nginx version (C(listen ... http2) before 1.25.1, C(http2 on) from 1.25.1; read from C(nginx
            -v)). Upstreams are still reached over HTTP/1.1. WebSocket clients use HTTP/1.1 connections, which
            keep working.
          - All tls rules on one port must agree on it (before nginx 1.25.1 it is a setting of the listening
            socket). Without O(config[].tls) it has no effect (browsers speak HTTP/2 over TLS only).
        type: bool
        default: true
      redirect_http:
        description:
          - http only. With O(config[].tls) only. Also answer plain HTTP on port 80 for the same server names
            with a 301 redirect to https (to O(config[].server_port)).
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
          - The address checked is the client's as O(config[].real_ip_from) gives it when the rule is behind
            a trusted proxy.
        type: list
        elements: str
      rate_limit:
        description:
          - 'http and tcp only. Per client address. http - at most O(config[].rate_limit.requests_per_second)
            on average with O(config[].rate_limit.burst) more at once; requests beyond get C(429) with C(Retry-After:
            1). tcp - at most O(config[].rate_limit.connections) open connections; further ones are closed.'
          - Each rule has a shared memory zone of its own (C(antman_<name>_req) or C(antman_<name>_conn), 1m,
            room for about 8000 client addresses; the least recently seen are forgotten first), written in the
            rule's file.
          - WebSocket handshakes count as requests; one refused gets C(429) without C(Retry-After).
        type: dict
        suboptions:
          requests_per_second:
            description:
              - http only. Requests per second each client address may make (1-100000), on average. Required
                in an http rule's O(config[].rate_limit).
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
                Required in a tcp rule's O(config[].rate_limit).
            type: int
      real_ip_from:
        description:
          - http and tcp only. Trusted proxies (addresses or networks, as in O(config[].allow_from)) in front
            of this host. A connection from one of them gets its client address from the C(X-Forwarded-For)
            header (http), or from the PROXY protocol header when O(config[].proxy_protocol=true) (required
            for tcp). That address is what O(config[].allow_from), O(config[].rate_limit), V(ip_hash), C(X-Real-IP)
            and the access log use. From any other source the header is ignored, so a client cannot choose its
            address.
          - With several trusted proxies in a row, the last address in C(X-Forwarded-For) that is not one of
            them is the client's.
        type: list
        elements: str
      proxy_protocol:
        description:
          - 'http and tcp only. The listening side speaks PROXY protocol (v1 or v2): every connection to O(config[].server_port)
            must start with a PROXY header (as a load balancer such as HAProxy or a cloud one sends it). Needs
            O(config[].real_ip_from), the proxies whose header is trusted. All http rules on one port must agree
            on it (it is a setting of the listening socket).'
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
            this rule''s rotation after O(config[].health_check.fails) failed probes in a row and returns it
            after O(config[].health_check.passes) passed ones, through the same validated reload as the modules.
            Held-out upstreams are rendered C(down) in the rule''s file; the rule itself (what modules return
            and compare) is unchanged, so a playbook run keeps them out and reports no change. Upstreams declared
            O(config[].upstreams[].down) are never probed.'
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
              - V(http) - a GET of O(config[].health_check.path) (on the connection of the last probe that passed
                when its answer allowed HTTP/1.1 keep-alive, a new one at least every 10 probes and after any
                failure); it passes when the answer's status is one of O(config[].health_check.status) within
                O(config[].health_check.timeout). V(tcp) - a TCP connect within O(config[].health_check.timeout).
              - 'A tcp rule has no HTTP to send: V(http) is refused there.'
              - The default shown is for http rules; not given, a tcp rule has V(tcp).
            type: str
            choices:
              - http
              - tcp
            default: http
          path:
            description:
              - With O(config[].health_check.type=http) only. The path (and query) requested, such as V(/health).
            type: str
            default: /
          host:
            description:
              - With O(config[].health_check.type=http) only. The C(Host) header sent, a host name or address
                with an optional port. Not given, the rule's first O(config[].server_name); when that is a wildcard
                (V(*.example.com)), the upstream's address (host:port), with a warning.
            type: str
          status:
            description:
              - 'With O(config[].health_check.type=http) only. The statuses that pass, each a status (V(200))
                or a range (V(200-399)). The default, V(200-499): any answer but a server error means the application
                answered; give V(200) (or V(200-399)) when the path is a health endpoint that says so.'
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
      # END schema config_rule_options
  state:
    description:
      - V(merged) creates the listed rules and updates existing ones with the fields given; fields and
        upstreams (matched by address) that an item does not mention keep their current value. Nothing is removed.
      - V(replaced) makes each listed rule exactly what is given (fields not given take their defaults);
        rules not listed are untouched.
      - V(overridden) makes the managed rules exactly the listed set; every other managed rule is removed.
        Files in O(rules_dir) that this collection does not manage are never touched.
      - V(deleted) removes the listed rules (by name); an empty O(config) removes none; without O(config) (left
        out, not empty), every managed rule.
      - V(gathered) returns the managed rules in canonical form in RV(gathered); changes nothing.
      - V(rendered) returns, in RV(rendered), the nginx configuration text of each listed rule, without
        touching or needing the host's nginx (usable with C(delegate_to=localhost) in CI).
      - V(parsed) reads nginx configuration text from O(running_config) and returns it as rules in
        RV(parsed); what cannot be expressed as a rule is listed in RV(unsupported). Needs the
        C(crossplane) Python library where the module runs.
    type: str
    choices: [merged, replaced, overridden, deleted, gathered, rendered, parsed]
    default: merged
  running_config:
    description:
      - For O(state=parsed), nginx configuration text containing C(upstream) and C(server) blocks (for example
        the output of C(nginx -T) or a file from a host configured by hand or by antMan).
      - Each C(server) block whose C(location /) proxies to an upstream (or to one address) becomes a rule.
        Directives that are absent mean what they mean to nginx (for example 60s timeouts, no keepalive).
      - "Cannot be expressed, reported in RV(unsupported) and left out: TLS (C(listen ... ssl)), unix sockets,
        other locations than C(/), regular-expression and catch-all server names, C(hash) and C(random)
        balancing, C(max_conns)/C(slow_start)/C(resolve) server parameters, custom headers and other directives."
    type: str
  nginx_version:
    description:
      - For O(state=rendered), the version of the nginx the text is meant for, such as V(1.22.1). It decides the
        HTTP/2 syntax of tls rules (C(listen ... http2) before 1.25.1, C(http2 on) from 1.25.1).
      - Not given, the text uses C(listen ... http2), which every nginx with HTTP/2 accepts (1.25.1 and later
        warn that it is deprecated). The other states read the version from the host's nginx (C(nginx -v))
        and refuse this option.
    type: str
requirements:
  - crossplane (only for O(state=parsed))
seealso:
  - module: antsle.antman.lb_rule
  - module: antsle.antman.lb_rule_info
  - name: Ansible network resource module states
    description: The meaning of merged, replaced, overridden, deleted, gathered, rendered and parsed.
    link: https://docs.ansible.com/ansible/latest/network/user_guide/network_resource_modules.html
"""

EXAMPLES = r"""
- name: The host's rules are exactly the ones in inventory
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ antman_lb_rules }}"

- name: Add one upstream to an existing rule, keeping everything else
  antsle.antman.lb_rules:
    state: merged
    config:
      - name: my-balanced-page
        upstreams:
          - address: 10.1.1.105:80
            weight: 2

- name: Take an upstream out of rotation for maintenance
  antsle.antman.lb_rules:
    config:
      - name: my-balanced-page
        upstreams:
          - address: 10.1.1.102:80
            down: true

- name: Back up the rule set...
  antsle.antman.lb_rules:
    state: gathered
  register: saved

- name: ... and restore it exactly
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ saved.gathered }}"

- name: Render the configuration in CI, without any nginx, for the version the hosts run
  antsle.antman.lb_rules:
    state: rendered
    config: "{{ antman_lb_rules }}"
    nginx_version: 1.22.1
  delegate_to: localhost
  register: preview

- name: Keep each rule's file for review
  ansible.builtin.copy:
    content: "{{ item.text }}"
    dest: "preview/{{ item.file }}"
    mode: "0644"
  loop: "{{ preview.rendered }}"
  loop_control:
    label: "{{ item.name }}"
  delegate_to: localhost

- name: Import what a host configured by hand already has
  antsle.antman.lb_rules:
    state: parsed
    running_config: "{{ lookup('ansible.builtin.file', 'old-site.conf') }}"
  delegate_to: localhost
  register: imported

- name: Retire the rules listed this week (an empty list removes none)
  antsle.antman.lb_rules:
    state: deleted
    config: "{{ rules_to_retire }}"  # [{name: old-site}, ...]

- name: Remove every managed rule (config left out)
  antsle.antman.lb_rules:
    state: deleted
"""

RETURN = r"""
before:
  description: The managed rules before the call, canonical form, sorted by name.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
after:
  description: The managed rules after the call (in check mode, as they would be), sorted by name.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
changes:
  description: What changed (or would change, in check mode), one item per rule.
  returned: when O(state) is merged, replaced, overridden or deleted
  type: list
  elements: dict
  sample: [{name: my-balanced-page, action: updated}, {name: old-site, action: deleted}]
  contains:
    name:
      description: Rule name.
      type: str
    action:
      description: V(created), V(updated) or V(deleted).
      type: str
reloaded:
  description: Whether nginx was reloaded (once, when something changed and O(reload=true)).
  returned: when O(state) is merged, replaced, overridden or deleted
  type: bool
gathered:
  description: The managed rules in canonical form, sorted by name; feed them back with O(state=overridden).
  returned: when O(state=gathered)
  type: list
  elements: dict
health:
  description:
    - Each upstream's health by rule name, then address, as the health agent last wrote it; what
      M(antsle.antman.lb_rule_info) returns as C(health) (C(state), C(since), C(probe), C(in_rotation), C(traffic)). Beside
      O(state=gathered)'s rules, not inside them, so that they can be fed back as they are.
  returned: when O(state=gathered)
  type: dict
rendered:
  description: The nginx configuration of each listed rule, in the order of O(config).
  returned: when O(state=rendered)
  type: list
  elements: dict
  contains:
    name:
      description: The rule's name.
      type: str
    file:
      description: The name of its file in O(rules_dir) (V(<name>.conf), or V(<name>.stream) for tcp and udp rules).
      type: str
    text:
      description: The file's nginx configuration text.
      type: str
parsed:
  description: The rules found in O(running_config), canonical form.
  returned: when O(state=parsed)
  type: list
  elements: dict
unsupported:
  description: For O(state=parsed), every construct of O(running_config) that could not be expressed as a rule and was left out.
  returned: when O(state=parsed)
  type: list
  elements: str
rules:
  description: On failure, the rule(s) nginx refused.
  returned: failure
  type: list
  elements: str
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rules as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
