"""Demo and test antlets: network namespaces on a private bridge, each running an HTTP server
that says who it is (tests/support/backend.py). Used by drill.py for such worlds (the molecule scenarios
and the demo use containers instead: docker_world.py).

A *world* is one bridge (the antsle host's side, first address of the subnet) plus its antlets.
Each antlet is a network namespace with its own address on that subnet, a veth pair into the
bridge, and one server process bound to 0.0.0.0:PORT inside the namespace.

  antlets.py up WORLD --subnet 10.1.1.0/24 [--port 80] NAME[=ADDRESS] ...
  antlets.py down WORLD               remove everything of the world (idempotent, also after a crash)
  antlets.py kill WORLD NAME          crash the server (SIGKILL): connections are refused
  antlets.py start WORLD NAME         start the server again
  antlets.py hang WORLD NAME          stop the process (SIGSTOP): connects succeed, nothing answers
  antlets.py resume WORLD NAME        continue a hung server (SIGCONT)
  antlets.py cut WORLD NAME           cut the link: no packet gets back, connects time out
  antlets.py mend WORLD NAME          undo cut
  antlets.py heal WORLD               undo every fault: resume hung, mend cut and start dead antlets
  antlets.py status WORLD             JSON: every antlet with address, pid and state

Names: WORLD is 1-8 of [a-z0-9]; an antlet NAME is 1-20 of [a-z0-9-]. The bridge is ``al-WORLD``,
namespaces ``antlet-WORLD-NAME``, host-side veths ``alWORLDN``. State lives in
/run/antman-antlets/WORLD/. Every command is an argument list; nothing goes through a shell.
"""
import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "backend.py")
STATE_ROOT = os.environ.get("ANTLETS_STATE_DIR", "/run/antman-antlets")
WORLD_RE = re.compile(r"\A[a-z0-9]{1,8}\Z")
NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,19}\Z")
READY_TIMEOUT = 10.0


class AntletsError(Exception):
    pass


def run(args, check=True):
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if check and proc.returncode != 0:
        raise AntletsError("%s failed: %s" % (" ".join(args), (proc.stderr or proc.stdout).strip()))
    return proc


def alive(pid):
    """True if ``pid`` runs and is not a zombie (a killed child of a non-reaping PID 1 stays a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError, TypeError):
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def process_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError, TypeError):
        return "dead"
    letter = stat[stat.rfind(")") + 2:].split()[0]
    return {"Z": "dead", "T": "hung", "t": "hung"}.get(letter, "running")


class World:
    def __init__(self, name):
        if not WORLD_RE.match(name):
            raise AntletsError("world %r: use 1-8 of a-z 0-9" % name)
        self.name = name
        self.dir = os.path.join(STATE_ROOT, name)
        self.state_file = os.path.join(self.dir, "state.json")
        self.bridge = "al-%s" % name

    # -- state ---------------------------------------------------------------------------------

    def load(self):
        try:
            with open(self.state_file) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def save(self, state):
        os.makedirs(self.dir, exist_ok=True)
        temporary = self.state_file + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        os.rename(temporary, self.state_file)

    def antlet(self, state, name):
        if state is None:
            raise AntletsError("world %s is not up" % self.name)
        for antlet in state["antlets"]:
            if antlet["name"] == name:
                return antlet
        raise AntletsError("world %s has no antlet %r (it has: %s)"
                           % (self.name, name, ", ".join(a["name"] for a in state["antlets"])))

    def namespace(self, name):
        return "antlet-%s-%s" % (self.name, name)

    # -- up / down -------------------------------------------------------------------------------

    def up(self, subnet, port, specs):
        network = ipaddress.IPv4Network(subnet, strict=True)
        hosts = list(network.hosts())
        if len(hosts) < 2:
            raise AntletsError("subnet %s is too small" % subnet)
        bridge_address = hosts[0]
        antlets = []
        explicit = set(ipaddress.IPv4Address(spec.partition("=")[2]) for spec in specs if "=" in spec)
        # Antlets without an address get the next free one from .101 on (antsle numbers them similarly).
        automatic = iter(h for h in hosts[100:] + hosts[1:100] if h not in explicit)
        for index, spec in enumerate(specs):
            name, _sep, address = spec.partition("=")
            if not NAME_RE.match(name):
                raise AntletsError("antlet name %r: use 1-20 of a-z 0-9 -" % name)
            address = ipaddress.IPv4Address(address) if address else next(automatic, None)
            if address is None or address not in network or address == bridge_address:
                raise AntletsError("antlet %s: address %s is not a free address of %s" % (name, address, subnet))
            antlets.append({"name": name, "address": str(address), "port": port, "namespace": self.namespace(name),
                            "veth": "al%s%d" % (self.name, index), "pid": None})
        if len(set(a["name"] for a in antlets)) != len(antlets) or len(set(a["address"] for a in antlets)) != len(antlets):
            raise AntletsError("antlet names and addresses must be unique")
        self.down(quiet=True)
        check_subnet_free(network)
        state = {"world": self.name, "subnet": str(network), "bridge": self.bridge,
                 "bridge_address": str(bridge_address), "antlets": antlets}
        self.save(state)
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        run(["ip", "addr", "add", "%s/%d" % (bridge_address, network.prefixlen), "dev", self.bridge])
        run(["ip", "link", "set", self.bridge, "up"])
        for antlet in antlets:
            ns = antlet["namespace"]
            run(["ip", "netns", "add", ns])
            run(["ip", "link", "add", antlet["veth"], "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(["ip", "link", "set", antlet["veth"], "master", self.bridge, "up"])
            run(["ip", "-n", ns, "addr", "add", "%s/%d" % (antlet["address"], network.prefixlen), "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            self.start_server(antlet)
            self.save(state)
        for antlet in antlets:
            self.wait_reachable(antlet)
        return state

    def start_server(self, antlet):
        if antlet.get("pid") and alive(antlet["pid"]):
            raise AntletsError("antlet %s already runs (pid %d)" % (antlet["name"], antlet["pid"]))
        log = open(os.path.join(self.dir, "%s.log" % antlet["name"]), "ab")
        # Bind 0.0.0.0 inside the namespace (see ENVIRONMENT.md); `ip netns exec` execs python, so
        # the pid recorded is the server's own.
        proc = subprocess.Popen(
            ["ip", "netns", "exec", antlet["namespace"], sys.executable, BACKEND, antlet["name"], "0.0.0.0",
             str(antlet["port"])],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
        log.close()
        antlet["pid"] = proc.pid

    def wait_reachable(self, antlet):
        deadline = time.monotonic() + READY_TIMEOUT
        error = None
        while time.monotonic() < deadline:
            if not alive(antlet["pid"]):
                raise AntletsError("antlet %s: server exited, see %s/%s.log" % (antlet["name"], self.dir, antlet["name"]))
            try:
                socket.create_connection((antlet["address"], antlet["port"]), timeout=0.5).close()
                return
            except OSError as exc:
                error = exc
                time.sleep(0.05)
        raise AntletsError("antlet %s at %s:%d not reachable within %ss: %s"
                           % (antlet["name"], antlet["address"], antlet["port"], READY_TIMEOUT, error))

    def down(self, quiet=False):
        """Remove processes, namespaces, veths and the bridge of this world, whatever state it is in."""
        state = self.load() or {"antlets": []}
        for antlet in state["antlets"]:
            stop_process(antlet.get("pid"))
        prefix = "antlet-%s-" % self.name
        namespaces = [line.split()[0] for line in run(["ip", "netns", "list"], check=False).stdout.splitlines() if line]
        for ns in namespaces:
            if ns.startswith(prefix):
                # Anything still running inside (a server started by hand) goes with the namespace.
                for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split():
                    stop_process(int(pid))
                run(["ip", "netns", "del", ns], check=False)
        for link in links():
            if link == self.bridge or re.match(r"\Aal%s\d+\Z" % self.name, link):
                run(["ip", "link", "del", link], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        if not quiet:
            print("world %s is down" % self.name)

    # -- faults ----------------------------------------------------------------------------------

    def signal(self, name, action):
        state = self.load()
        antlet = self.antlet(state, name)
        pid = antlet.get("pid")
        if action == "kill":
            stop_process(pid)
        elif action == "start":
            self.start_server(antlet)
            self.save(state)
            self.wait_reachable(antlet)
        elif action == "hang":
            if not alive(pid):
                raise AntletsError("antlet %s is not running" % name)
            os.kill(pid, signal.SIGSTOP)
        elif action == "resume":
            if alive(pid):
                os.kill(pid, signal.SIGCONT)
        return state

    def cut(self, name, cut):
        """Drop every packet the antlet sends to the bridge (a more specific blackhole route inside
        the namespace): SYN-ACKs never arrive, so connecting times out, like a severed link."""
        state = self.load()
        antlet = self.antlet(state, name)
        target = "%s/32" % state["bridge_address"]
        if cut:
            run(["ip", "-n", antlet["namespace"], "route", "replace", "blackhole", target])
        else:
            run(["ip", "-n", antlet["namespace"], "route", "del", "blackhole", target], check=False)
        antlet["cut"] = cut
        self.save(state)

    def heal(self):
        """Every antlet running and reachable again, whatever was done to it."""
        state = self.load()
        if state is None:
            raise AntletsError("world %s is not up" % self.name)
        for antlet in state["antlets"]:
            state = process_state(antlet.get("pid"))
            if state == "hung":
                self.signal(antlet["name"], "resume")
            elif state == "dead":
                self.signal(antlet["name"], "start")
            if antlet.get("cut"):
                self.cut(antlet["name"], False)

    def status(self):
        state = self.load()
        if state is None:
            return {"world": self.name, "up": False, "antlets": []}
        for antlet in state["antlets"]:
            antlet["state"] = process_state(antlet.get("pid"))
        state["up"] = True
        return state


def check_subnet_free(network):
    """Refuse a subnet that overlaps an address already configured on this machine (a real antlet
    network, another world): the demo must never shadow a network in use."""
    out = run(["ip", "-o", "-4", "addr", "show"], check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        if "inet" not in fields:
            continue
        interface, address = fields[1], fields[fields.index("inet") + 1]
        if ipaddress.IPv4Interface(address).network.overlaps(network):
            raise AntletsError("subnet %s overlaps %s on %s, which is in use; choose another --subnet"
                               % (network, address, interface))


def links():
    out = run(["ip", "-o", "link", "show"], check=False).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]


def stop_process(pid, timeout=5.0):
    if not pid or not alive(pid):
        return
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it happens to be our child
    except ChildProcessError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create the world and start its antlets")
    up.add_argument("world")
    up.add_argument("--subnet", required=True, help="IPv4 subnet, e.g. 10.1.1.0/24; the host takes its first address")
    up.add_argument("--port", type=int, default=80, help="port every antlet server listens on")
    up.add_argument("antlets", nargs="+", metavar="NAME[=ADDRESS]")
    for command in ("down", "status", "heal"):
        sub.add_parser(command).add_argument("world")
    for command in ("kill", "start", "hang", "resume", "cut", "mend"):
        each = sub.add_parser(command)
        each.add_argument("world")
        each.add_argument("name")
    args = parser.parse_args(argv)
    try:
        world = World(args.world)
        if args.command == "up":
            state = world.up(args.subnet, args.port, args.antlets)
            for antlet in state["antlets"]:
                print("antlet %-12s %s:%d  (namespace %s, pid %d)"
                      % (antlet["name"], antlet["address"], antlet["port"], antlet["namespace"], antlet["pid"]))
        elif args.command == "down":
            world.down()
        elif args.command == "heal":
            world.heal()
        elif args.command == "status":
            print(json.dumps(world.status(), indent=1, sort_keys=True))
        elif args.command in ("cut", "mend"):
            world.cut(args.name, args.command == "cut")
        else:
            world.signal(args.name, args.command)
    except (AntletsError, ValueError) as error:
        print("antlets: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
