"""The Docker test world of the molecule scenarios and the demo: antsle hosts and antlets are
containers on one user-defined docker network (the *world*, named like the network), each antlet
running tests/support/backend.py, an HTTP server that answers with the antlet's name. Standard
library and the ``docker`` command only.

Containers say what they are in labels (molecule's platforms set them, ``up`` here too):
``antman.world`` (the network), and for an antlet ``antman.antlet`` (its name), ``antman.address``
and ``antman.port`` (where its server listens). An antlet's container runs ``sleep infinity``;
its server is started with ``docker exec``, so that crashing the server leaves the container,
and its address, in place: connections are then refused, as on a real antlet whose application died.

  docker_world.py status WORLD              JSON: every antlet with address, port, state
  docker_world.py start WORLD NAME...       start the server; wait until it accepts connections
  docker_world.py kill WORLD NAME...        crash the server (SIGKILL): connections are refused
  docker_world.py hang WORLD NAME...        docker pause: connections are accepted, nothing answers
  docker_world.py resume WORLD NAME...      docker unpause
  docker_world.py break WORLD NAME...       the application breaks: its server answers 500 to everything
  docker_world.py fix WORLD NAME...         it answers again
  docker_world.py cut WORLD NAME...         disconnect the antlet from the network: connects time out
  docker_world.py mend WORLD NAME...        connect it again, at its address
  docker_world.py restart WORLD NAME... [--version N] [--start-after S]
                                            a deployment: stop the server (SIGTERM), start version N
                                            (it answers NAME-vN; version 1 answers NAME), listening S
                                            seconds later; returns at once (a health check waits for it)
  docker_world.py heal WORLD                undo every fault: unpause, reconnect, start, and put
                                            version 1 back where another version runs
  docker_world.py up WORLD --subnet S --image I [--port P] [--host NAME=ADDRESS]... NAME=ADDRESS...
                                            (the demo, the fleet benchmark) the network, antsle host
                                            containers running systemd, and antlets with their servers started
  docker_world.py down WORLD                remove the world's containers and network (idempotent)
  docker_world.py wait-systemd CONTAINER    wait until systemd in the container is up

``ContainerFile`` reads a file inside a container from an offset on (the drill reads nginx's access
log of an antsle host container with it).
"""
import argparse
import ipaddress
import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "backend.py")
BACKEND_IN_CONTAINER = "/srv/antman/backend.py"
# backend.py's --broken file: while it exists the server answers 500 (break / fix).
BROKEN_IN_CONTAINER = "/run/antman-broken"
WORLD_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,19}\Z")
NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,29}\Z")
READY_TIMEOUT = 10.0
# systemd in a container: what the antsle host containers need (no --privileged, see docs/molecule.md).
SYSTEMD_OPTIONS = ["--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"]


class WorldError(Exception):
    pass


def docker(*args, check=True, timeout=60):
    try:
        proc = subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise WorldError("docker %s: no answer within %d s" % (" ".join(args), timeout))
    except OSError as error:
        raise WorldError("docker %s: %s" % (" ".join(args), error))
    if check and proc.returncode != 0:
        raise WorldError("docker %s failed: %s" % (" ".join(args), (proc.stderr or proc.stdout).strip()))
    return proc


def inspect(names):
    if not names:
        return []
    return json.loads(docker("inspect", *names).stdout)


class World:
    """The antlets of one world, found by their labels (the same interface as antlets.World for
    tests/support/drill.py: status, signal, cut)."""

    def __init__(self, name):
        if not WORLD_RE.match(name):
            raise WorldError("world %r: use 1-20 of a-z 0-9 - (the docker network's name)" % name)
        self.name = name

    def containers(self, antlets_only=True):
        filters = ["--filter", "label=antman.world=%s" % self.name]
        if antlets_only:
            filters += ["--filter", "label=antman.antlet"]
        names = docker("ps", "-a", "--format", "{{.Names}}", *filters).stdout.split()
        return inspect(sorted(names))

    def antlets(self):
        result = {}
        for info in self.containers():
            labels = info["Config"]["Labels"]
            result[labels["antman.antlet"]] = {
                "name": labels["antman.antlet"], "container": info["Name"].lstrip("/"),
                "address": labels["antman.address"], "port": int(labels["antman.port"]), "info": info}
        return result

    def antlet(self, name):
        antlets = self.antlets()
        if name not in antlets:
            raise WorldError("world %s has no antlet %r (it has: %s)" % (self.name, name, ", ".join(sorted(antlets)) or "none"))
        return antlets[name]

    # -- state ------------------------------------------------------------------------------------

    @staticmethod
    def server_argv(antlet):
        """The arguments of the antlet's running server (backend.py's: NAME HOST PORT ...), or None."""
        proc = docker("exec", antlet["container"], "pgrep", "-a", "-f", BACKEND_IN_CONTAINER, check=False)
        for line in proc.stdout.splitlines():
            words = line.split()
            if BACKEND_IN_CONTAINER in words:
                return words[words.index(BACKEND_IN_CONTAINER) + 1:]
        return None

    def server_running(self, antlet):
        return self.server_argv(antlet) is not None

    def server_version(self, antlet):
        """The version its running server answers as (1: the antlet's name; N: NAME-vN), or None."""
        argv = self.server_argv(antlet)
        if not argv:
            return None
        answer = argv[0]
        if answer.startswith(antlet["name"] + "-v") and answer[len(antlet["name"]) + 2:].isdigit():
            return int(answer[len(antlet["name"]) + 2:])
        return 1

    def state(self, antlet):
        info = antlet["info"]["State"]
        if not info["Running"]:
            return "stopped"
        if info["Paused"]:
            return "hung"
        if self.name not in antlet["info"]["NetworkSettings"]["Networks"]:
            return "cut"
        return "running" if self.server_running(antlet) else "dead"

    def status(self):
        antlets = self.antlets()
        if not antlets:
            return {"world": self.name, "up": False, "antlets": []}
        listed = []
        for name in sorted(antlets):
            antlet = antlets[name]
            listed.append({"name": name, "container": antlet["container"], "address": antlet["address"],
                           "port": antlet["port"], "state": self.state(antlet), "version": self.server_version(antlet)})
        return {"world": self.name, "up": True, "antlets": listed}

    # -- faults and recoveries ----------------------------------------------------------------------

    def signal(self, name, action):
        """kill / start / hang / resume / break / fix one antlet (the names antlets.World uses)."""
        antlet = self.antlet(name)
        container = antlet["container"]
        if action == "kill":
            docker("exec", container, "pkill", "-KILL", "-f", BACKEND_IN_CONTAINER, check=False)
            deadline = time.monotonic() + 5
            while self.server_running(antlet):
                if time.monotonic() > deadline:
                    raise WorldError("antlet %s: its server survived SIGKILL for 5 s" % name)
                time.sleep(0.02)
        elif action == "start":
            if self.server_running(antlet):
                raise WorldError("antlet %s already runs its server" % name)
            docker("exec", "-d", container, "python3", BACKEND_IN_CONTAINER, name, "0.0.0.0", str(antlet["port"]),
                   "--broken", BROKEN_IN_CONTAINER)
            wait_reachable(name, antlet["address"], antlet["port"])
        elif action == "break":
            docker("exec", container, "touch", BROKEN_IN_CONTAINER)
        elif action == "fix":
            docker("exec", container, "rm", "-f", BROKEN_IN_CONTAINER)
        elif action == "hang":
            docker("pause", container)
        elif action == "resume":
            docker("unpause", container)
        else:
            raise WorldError("unknown action %r" % action)

    def restart(self, name, version=1, start_after=0.0):
        """A deployment of ``version``: the server stopped (SIGTERM, then SIGKILL after 5 s), the new
        one started, answering ``NAME-vVERSION`` (version 1: ``NAME``) and listening ``start_after``
        seconds later, as an application that takes a while to start. Returns once it is started,
        not once it listens: waiting for that is the health check's job."""
        antlet = self.antlet(name)
        container = antlet["container"]
        docker("exec", container, "pkill", "-TERM", "-f", BACKEND_IN_CONTAINER, check=False)
        deadline, killed = time.monotonic() + 5, False
        while self.server_running(antlet):
            if time.monotonic() > deadline and not killed:
                docker("exec", container, "pkill", "-KILL", "-f", BACKEND_IN_CONTAINER, check=False)
                killed = True
            time.sleep(0.02)
        answer = name if version == 1 else "%s-v%d" % (name, version)
        docker("exec", "-d", container, "python3", BACKEND_IN_CONTAINER, answer, "0.0.0.0", str(antlet["port"]),
               "--start-after", "%g" % start_after, "--broken", BROKEN_IN_CONTAINER)

    def cut(self, name, cut):
        """Disconnect the antlet from the world's network (cut), or connect it again at its address."""
        antlet = self.antlet(name)
        if cut:
            docker("network", "disconnect", self.name, antlet["container"])
        else:
            docker("network", "connect", "--ip", antlet["address"], self.name, antlet["container"])

    def heal(self):
        for name, antlet in sorted(self.antlets().items()):
            state = self.state(antlet)
            if state == "hung":
                self.signal(name, "resume")
            elif state == "cut":
                self.cut(name, False)
            if state != "stopped":
                self.signal(name, "fix")
            version = self.server_version(antlet)
            if version is None:
                self.signal(name, "start")
            elif version != 1:
                self.restart(name)
                wait_reachable(name, antlet["address"], antlet["port"])

    # -- the demo's world ---------------------------------------------------------------------------

    def up(self, subnet, image, port, hosts, specs, host_image=None):
        """``hosts``: NAME=ADDRESS of the antsle host containers (systemd, ``host_image`` or ``image``);
        ``specs``: NAME=ADDRESS of the antlets."""
        network = ipaddress.IPv4Network(subnet, strict=True)
        self.down(quiet=True)
        docker("network", "create", "--subnet", str(network), "--label", "antman.world=%s" % self.name, self.name)
        labels = ["--label", "antman.world=%s" % self.name]
        for host in hosts:
            name, address = parse_spec(host, network)
            docker("run", "-d", "--name", name, "--hostname", name, "--network", self.name, "--ip", address,
                   *(labels + SYSTEMD_OPTIONS), host_image or image, "/lib/systemd/systemd")
        for spec in specs:
            name, address = parse_spec(spec, network)
            docker("run", "-d", "--name", name, "--hostname", name, "--network", self.name, "--ip", address,
                   "-v", "%s:%s:ro" % (BACKEND, BACKEND_IN_CONTAINER), *labels,
                   "--label", "antman.antlet=%s" % name, "--label", "antman.address=%s" % address,
                   "--label", "antman.port=%d" % port, image, "sleep", "infinity")
        for spec in specs:
            self.signal(spec.partition("=")[0], "start")
        for host in hosts:
            wait_systemd(host.partition("=")[0])

    def down(self, quiet=False):
        names = [info["Name"].lstrip("/") for info in self.containers(antlets_only=False)]
        if names:
            docker("rm", "-f", *names)
        if docker("network", "inspect", self.name, check=False).returncode == 0:
            docker("network", "rm", self.name)
        if not quiet:
            print("world %s is down (%d containers removed)" % (self.name, len(names)))


def parse_spec(spec, network):
    name, _sep, address = spec.partition("=")
    if not NAME_RE.match(name):
        raise WorldError("container name %r: use 1-30 of a-z 0-9 -" % name)
    try:
        if ipaddress.IPv4Address(address) not in network:
            raise ValueError(address)
    except ValueError:
        raise WorldError("%s: address %r is not in %s" % (name, address, network))
    return name, address


def wait_reachable(name, address, port, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError as exc:
            error = exc
            time.sleep(0.05)
    raise WorldError("antlet %s at %s:%d not reachable within %ss: %s" % (name, address, port, timeout, error))


def wait_systemd(container, timeout=60.0):
    """Until ``systemctl is-system-running`` says running (or degraded: the units that failed are
    listed, and it is an error)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = docker("exec", container, "systemctl", "is-system-running", check=False).stdout.strip()
        if state == "running":
            return
        if state == "degraded":
            failed = docker("exec", container, "systemctl", "--failed", "--plain", "--no-legend", check=False).stdout
            raise WorldError("systemd in %s is degraded, failed units: %s" % (container, failed.strip()))
        time.sleep(0.2)
    raise WorldError("systemd in %s is not running after %d s (state %r)" % (container, timeout, state))


# The role's access log is written buffered (flush=1s, roles/load_balancer/templates/antman-server.conf.j2):
# nginx writes a request's line at most this long after the request ended.
LOG_FLUSH_SECONDS = 1.0


class ContainerFile:
    """A file inside a container, read with ``docker exec`` (nginx's access log on an antsle host)."""

    def __init__(self, container, path):
        self.container, self.path = container, path

    def size(self):
        out = docker("exec", self.container, "stat", "-c", "%s", self.path).stdout.strip()
        return int(out)

    def read_flushed(self, offset, ended):
        """``read_from(offset)`` once nginx has written the lines of every request that ended by
        ``ended`` (time.monotonic()): its flush interval later, with a margin for a busy host."""
        time.sleep(max(0.0, ended + LOG_FLUSH_SECONDS + 0.5 - time.monotonic()))
        return self.read_from(offset)

    def read_from(self, offset):
        proc = subprocess.run(["docker", "exec", self.container, "tail", "-c", "+%d" % (offset + 1), self.path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise WorldError("reading %s in %s: %s" % (self.path, self.container, proc.stderr.decode(errors="replace").strip()))
        return proc.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("status", "heal", "down"):
        sub.add_parser(command).add_argument("world")
    for command in ("start", "kill", "hang", "resume", "break", "fix", "cut", "mend"):
        each = sub.add_parser(command)
        each.add_argument("world")
        each.add_argument("names", nargs="+", metavar="NAME")
    restart = sub.add_parser("restart")
    restart.add_argument("world")
    restart.add_argument("names", nargs="+", metavar="NAME")
    restart.add_argument("--version", type=int, default=1)
    restart.add_argument("--start-after", type=float, default=0.0)
    up = sub.add_parser("up")
    up.add_argument("world")
    up.add_argument("--subnet", required=True)
    up.add_argument("--image", required=True)
    up.add_argument("--port", type=int, default=80)
    up.add_argument("--host", action="append", default=[], help="NAME=ADDRESS of an antsle host container (systemd); repeatable")
    up.add_argument("antlets", nargs="+", metavar="NAME=ADDRESS")
    wait = sub.add_parser("wait-systemd")
    wait.add_argument("container")
    args = parser.parse_args(argv)
    try:
        if args.command == "wait-systemd":
            wait_systemd(args.container)
            return 0
        world = World(args.world)
        if args.command == "status":
            print(json.dumps(world.status(), indent=1, sort_keys=True))
        elif args.command == "heal":
            world.heal()
        elif args.command == "down":
            world.down()
        elif args.command == "up":
            world.up(args.subnet, args.image, args.port, args.host, args.antlets)
            for antlet in world.status()["antlets"]:
                print("antlet %-10s %s:%d  (container %s, %s)"
                      % (antlet["name"], antlet["address"], antlet["port"], antlet["container"], antlet["state"]))
        elif args.command == "restart":
            for name in args.names:
                world.restart(name, args.version, args.start_after)
        elif args.command in ("cut", "mend"):
            for name in args.names:
                world.cut(name, args.command == "cut")
        else:
            for name in args.names:
                world.signal(name, args.command)
    except WorldError as error:
        print("docker_world: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
