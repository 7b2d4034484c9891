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

Standard library only (the ``cryptography`` package is not needed: the certificate is read by the
ssl module's own decoder from the verified connection)."""
import argparse
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter, OrderedDict


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
    lock, started = threading.Lock(), time.monotonic()
    state = {"next": 0, "stop": False}
    failures, certificates, order = [], Counter(), []

    def client():
        while True:
            with lock:
                if state["stop"]:
                    return
                index = state["next"]
                state["next"] += 1
            due = started + index / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing only: no result depends on it
            try:
                seen = get(args.address, args.port, args.host, ctx, args.path)
                ok = seen["status"] == 200
                outcome = seen["sha256"] if ok else "status %d" % seen["status"]
            except (OSError, ssl.SSLError, http.client.HTTPException) as error:
                ok, outcome = False, "%s: %s" % (type(error).__name__, error)
            with lock:
                if ok:
                    if outcome not in certificates:
                        order.append(outcome)
                    certificates[outcome] += 1
                else:
                    failures.append({"index": index, "at_s": round(time.monotonic() - started, 3), "error": outcome})

    threads = [threading.Thread(target=client, daemon=True) for _unused in range(args.clients)]
    for thread in threads:
        thread.start()
    time.sleep(args.lead)  # requests before the command starts, to have the old certificate on record
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    time.sleep(args.lead)  # and after it, to see the new one
    with lock:
        state["stop"] = True
    for thread in threads:
        thread.join()
    return OrderedDict([
        ("rc", process.returncode), ("output_tail", process.stdout[-3000:]),
        ("requests", sum(certificates.values()) + len(failures)), ("failed", len(failures)), ("failures", failures[:20]),
        ("certificates", [[sha, certificates[sha]] for sha in order]),
        ("seconds", round(time.monotonic() - started, 2)),
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
