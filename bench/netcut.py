"""A host whose link can be cut: an upstream in its own network namespace behind a veth pair.

``cut()`` takes the namespace's end of the veth down: the host's end loses carrier but keeps its
route, and a permanent neighbour entry means no ARP failure is ever reported, so every packet to
the upstream (new SYNs as well as data on open connections) silently disappears. That is what a
host with a dead link or a firewall that drops looks like: no refusal, no reset, only silence
until a timeout. Names start with ``bench`` (namespace, interfaces); ``remove()`` deletes them.
"""
import os
import subprocess

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import process_alive

NET = "10.231"


def ip(*args, **kwargs):
    check = kwargs.get("check", True)
    result = subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=10, check=False)
    if check and result.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), result.stderr.strip()))
    return result.stdout


def available():
    """(True, "") when network namespaces can be made here, else (False, why)."""
    if os.geteuid() != 0:
        return False, "needs root (network namespaces)"
    try:
        ip("netns", "list")
    except (OSError, RuntimeError) as error:
        return False, "no usable iproute2: %s" % error
    return True, ""


def free_subnet():
    """A 10.231.N.0/30 no route uses yet."""
    used = ip("-4", "route", "show")
    for third in range(1 + os.getpid() % 200, 255):
        if "%s.%d." % (NET, third) not in used:
            return "%s.%d" % (NET, third)
    raise RuntimeError("no free %s.N.0/30 subnet" % NET)


NAMESPACE_PREFIX = "bench-cut-"


class CuttableHost:
    def __init__(self):
        pid = os.getpid()  # in the names, so that reap_stale() knows whose they are
        self.namespace = "%s%d" % (NAMESPACE_PREFIX, pid)
        self.host_if, self.inner_if = "bench%dh" % pid, "bench%dn" % pid  # 15 characters at most
        self.subnet = None
        self.address = None
        self.made = False

    def create(self):
        self.subnet = free_subnet()
        host_ip, self.address = self.subnet + ".1", self.subnet + ".2"
        ip("netns", "add", self.namespace)
        self.made = True
        ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.inner_if)
        ip("link", "set", self.inner_if, "netns", self.namespace)
        ip("addr", "add", host_ip + "/30", "dev", self.host_if)
        ip("link", "set", self.host_if, "up")
        ip("-n", self.namespace, "addr", "add", self.address + "/30", "dev", self.inner_if)
        ip("-n", self.namespace, "link", "set", self.inner_if, "up")
        ip("-n", self.namespace, "link", "set", "lo", "up")
        mac = ip("-n", self.namespace, "-o", "link", "show", self.inner_if).split("link/ether ")[1].split()[0]
        ip("neigh", "replace", self.address, "lladdr", mac, "dev", self.host_if, "nud", "permanent")
        return self

    def wrapper(self):
        """Command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.namespace]

    def cut(self):
        ip("-n", self.namespace, "link", "set", self.inner_if, "down")

    def remove(self):
        if self.made:
            ip("netns", "del", self.namespace, check=False)
            ip("link", "del", self.host_if, check=False)
            self.made = False


def reap_stale():
    """Remove namespaces (and their veth pairs) left by benchmark runs that were killed."""
    if not available()[0]:
        return 0
    reaped = 0
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        suffix = name[len(NAMESPACE_PREFIX):]
        if name.startswith(NAMESPACE_PREFIX) and suffix.isdigit() and not process_alive(int(suffix)):
            ip("netns", "del", name, check=False)
            ip("link", "del", "bench%sh" % suffix, check=False)
            reaped += 1
    return reaped


def start_cuttable_backend(stack, name, port=8080, delay=0.0):
    """A backend inside a fresh namespace; returns (backend, host). Both are removed at the end."""
    host = CuttableHost()
    stack.callback(host.remove)
    host.create()
    backend = common.Backend(name, host.address, port, delay=delay, wrapper=host.wrapper())
    stack.callback(backend.kill)
    backend.start()
    return backend, host
