"""An HTTPS client for the ACME tests: what a browser that trusts only a given CA sees.

  https_probe.py get  --address A --host NAME --ca FILE [--port 443] [--path /] [--insecure]
  https_probe.py load --address A --host NAME --ca FILE [--port 443] [--clients 4] [--rate 40] -- COMMAND ARG...

``get`` connects to the address, sends the name by SNI and in the Host header, verifies the
certificate against ``--ca`` only (or, with ``--insecure``, does not verify: to look at a
self-signed placeholder) and prints JSON: status, body, the Strict-Transport-Security header, the
TLS version, and the served certificate's sha256, subject, issuer, names and validity.

``load`` sends verified GETs on new connections (each one request, as a browser that reconnects
would see a reload) from ``--clients`` clients paced at ``--rate`` per second in total while
COMMAND runs (an argument list, no shell), and prints JSON: the command's exit status and output
tail, how many requests were sent, which ones failed (anything but a verified 200) and how many
answers each served certificate gave, in the order first seen.

The ``cryptography`` package is not needed: the certificate is read by the ssl module's own decoder
from the verified connection."""
import argparse
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
from collections import OrderedDict

from ansible_collections.antsle.antman.tests.support.traffic import Load

SAFETY_SECONDS = 1800.0  # no load runs longer than this, whatever happens to the command


def context(ca, insecure=False):
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=ca)


def get(address, port, host, ctx, path="/", timeout=10.0):
    """One GET on a new connection: a dict of what was seen (raises on a TLS or socket error)."""
    raw = socket.create_connection((address, port), timeout=timeout)
    with ctx.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
        decoded = tls.getpeercert() if ctx.verify_mode != ssl.CERT_NONE else {}
        version = tls.version()
        tls.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: antman-https-probe\r\n\r\n"
                     % (path, host)).encode("ascii"))
        response = http.client.HTTPResponse(tls)
        response.begin()
        body = response.read().decode("utf-8", "replace")
        seen = OrderedDict([
            ("status", response.status), ("body", body.strip()), ("hsts", response.getheader("Strict-Transport-Security")),
            ("tls_version", version), ("sha256", hashlib.sha256(der).hexdigest()),
        ])
    if decoded:
        seen["subject"] = dict(item[0] for item in decoded.get("subject", ()))
        seen["issuer"] = dict(item[0] for item in decoded.get("issuer", ()))
        seen["names"] = [value for kind, value in decoded.get("subjectAltName", ()) if kind == "DNS"]
        seen["not_before"], seen["not_after"] = decoded.get("notBefore"), decoded.get("notAfter")
    return seen


def run_load(args, command):
    ctx = context(args.ca)

    def fetch(path):  # the served certificate is the answer
        seen = get(args.address, args.port, args.host, ctx, path)
        return seen["status"], seen["sha256"]

    load = Load(args.host, args.port, args.address, args.path, rate=args.rate, clients=args.clients,
                duration=SAFETY_SECONDS, fetch=fetch).start()
    time.sleep(args.lead)  # requests before the command starts, to have the old certificate on record
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    time.sleep(args.lead)  # and after it, to see the new one
    load.stop()
    samples = load.wait()
    answers = [sample.answer for sample in samples if sample.failure is None]
    failures = [{"index": s.index, "at_s": round(s.start, 3), "error": s.failure} for s in samples if s.failure]
    return OrderedDict([
        ("rc", process.returncode), ("output_tail", process.stdout[-3000:]),
        ("requests", len(samples)), ("failed", len(failures)), ("failures", failures[:20]),
        ("certificates", [[sha, answers.count(sha)] for sha in OrderedDict.fromkeys(answers)]),
        ("seconds", round(load.now(), 2)),
    ])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["get", "load"])
    parser.add_argument("--address", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--path", default="/")
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--lead", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.mode == "get":
        print(json.dumps(get(args.address, args.port, args.host, context(args.ca, args.insecure), args.path)))
        return 0
    if not command:
        parser.error("load needs -- COMMAND")
    print(json.dumps(run_load(args, command)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
