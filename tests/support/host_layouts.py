"""Host nginx layouts the collection must fit into without changing what they serve, run by private
nginx instances on loopback.

Each layout is the tree of files a real host has (``/etc/nginx/...``, ``/var/log/nginx``,
``/run``): Debian's package layout, the RHEL family's, antMan's own (antsleOS, edgeLinux) and a
hand-written one. ``LayoutWorld`` copies a layout under a private prefix and starts nginx on it:

- every absolute path of the layout is moved under the prefix (``/etc/nginx/nginx.conf`` becomes
  ``<prefix>/etc/nginx/nginx.conf``; relative include paths stay relative, as on the host);
- every ``listen`` port is replaced by a free port (``world.port(80)`` is the port standing in for 80);
- backend addresses the layout names (antMan's UI at ``127.0.0.1:3000``, antlets at ``10.1.1.N``)
  are replaced by test backends on loopback (``127.0.0.1:<free>``, ``127.0.2.N:<free>``);
- what a private instance needs besides: a main-level ``error_log`` when the layout has none, temp
  paths under the prefix, and a ``user`` that exists on this machine when the layout's does not
  (the line is kept as a comment). Nothing is written outside the prefix.

``world.probes`` are requests that show what every pre-existing server answers (by its names, and
names only a default server gets); ``world.answers()`` sends them all.
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import ConfScan, block_span
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import child_pids, process_alive
from ansible_collections.antsle.antman.tests.support.paths import tool
from ansible_collections.antsle.antman.tests.support.harness import (
    Backend, free_port, get, nginx_binary, nginx_master_of, run_command, stop_master)

REWRITTEN_ROOTS = ("/etc/nginx", "/var/log/nginx", "/var/cache/nginx", "/var/lib/nginx", "/usr/share/nginx",
                   "/var/www", "/var/run", "/run")
PATH_RE = re.compile(r"(?<![\w./-])(%s)(?=[/;\s\"']|$)" % "|".join(re.escape(r) for r in REWRITTEN_ROOTS))
LISTEN_RE = re.compile(r"(\blisten\s+(?:\[[^\]]*\]:|[0-9.]+:|[a-z]+:)?)([0-9]+)")
USER_RE = re.compile(r"^user\s+([^\s;]+)[^;]*;", re.M)
TEMP_PATHS = ("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path")
# Antlets at 10.1.1.N on the host, 127.0.2.N here: the three replicas of antMan's balanced domain
# (the same application, so the same answer whichever serves) and two antlets of their own name.
ANTLET_NAMES = {102: "my-balanced-page", 103: "my-balanced-page", 104: "my-balanced-page",
                110: "antlet110", 111: "antlet111"}
ANTLET_RE = re.compile(r"10\.1\.1\.([0-9]+|\$antlet):80\b")

DEBIAN_NGINX_CONF = """\
user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
\tworker_connections 768;
\t# multi_accept on;
}

http {

\t##
\t# Basic Settings
\t##

\tsendfile on;
\ttcp_nopush on;
\ttypes_hash_max_size 2048;
\t# server_tokens off;

\tinclude /etc/nginx/mime.types;
\tdefault_type application/octet-stream;

\t##
\t# SSL Settings
\t##

\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
\tssl_prefer_server_ciphers on;

\t##
\t# Logging Settings
\t##

\taccess_log /var/log/nginx/access.log;
\terror_log /var/log/nginx/error.log;

\t##
\t# Gzip Settings
\t##

\tgzip on;

\t##
\t# Virtual Host Configs
\t##

\tinclude /etc/nginx/conf.d/*.conf;
\tinclude /etc/nginx/sites-enabled/*;
}
"""

DEBIAN_DEFAULT_SITE = """\
# Default server configuration
#
server {
\tlisten 80 default_server;
\tlisten [::]:80 default_server;

\troot /var/www/html;

\t# Add index.php to the list if you are using PHP
\tindex index.html index.htm index.nginx-debian.html;

\tserver_name _;

\tlocation / {
\t\t# First attempt to serve request as file, then
\t\t# as directory, then fall back to displaying a 404.
\t\ttry_files $uri $uri/ =404;
\t}
}
"""

DEBIAN_BLOG_SITE = """\
server {
\tlisten 80;
\tlisten [::]:80;
\tserver_name blog.example.org;
\troot /var/www/blog;
\tindex index.html;
\tlocation / {
\t\ttry_files $uri $uri/ =404;
\t}
}
"""

MIME_TYPES = "types {\n    text/html html htm;\n    text/plain txt;\n    application/json json;\n}\n"

RHEL_NGINX_CONF = """\
# For more information on configuration, see:
#   * Official English Documentation: http://nginx.org/en/docs/
#   * Official Russian Documentation: http://nginx.org/ru/docs/

user nginx;
worker_processes auto;
error_log /var/log/nginx/error.log;
pid /run/nginx.pid;

# Load dynamic modules. See /usr/share/doc/nginx/README.dynamic.
include /usr/share/nginx/modules/*.conf;

events {
    worker_connections 1024;
}

http {
    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile            on;
    tcp_nopush          on;
    keepalive_timeout   65;
    types_hash_max_size 4096;

    include             /etc/nginx/mime.types;
    default_type        application/octet-stream;

    # Load modular configuration files from the /etc/nginx/conf.d directory.
    # See http://nginx.org/en/docs/ngx_core_module.html#include
    # for more information.
    include /etc/nginx/conf.d/*.conf;

    server {
        listen       80 default_server;
        listen       [::]:80 default_server;
        server_name  _;
        root         /usr/share/nginx/html;

        # Load configuration files for the default server block.
        include /etc/nginx/default.d/*.conf;

        error_page 404 /404.html;
        location = /404.html {
        }

        error_page 500 502 503 504 /50x.html;
        location = /50x.html {
        }
    }
}
"""

RHEL_APP = """\
# An application the host already serves behind its nginx.
server {
    listen 80;
    server_name app.example.com;
    location / {
        proxy_pass http://127.0.0.1:3000;
        proxy_set_header Host $host;
    }
}
"""

ANTMAN_NGINX_CONF = """\
user nginx nginx;
worker_processes auto;
error_log /var/log/nginx/error.log warn;
pid /var/run/nginx.pid;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;

    log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                    '"$http_referer" "$http_user_agent"';
    access_log /var/log/nginx/access.log main;

    sendfile on;
    keepalive_timeout 65;
    client_max_body_size 200m;

    gzip on;
    gzip_types text/plain text/css application/json application/javascript;

    proxy_cache_path /var/cache/nginx/ui levels=1:2 keys_zone=ui_cache:10m max_size=100m inactive=60m;

    include /etc/nginx/virtualhosts/*.conf;
}
"""

# antMan's UI, by name on port 80, with WebSockets.
ANTMAN_UI = """\
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}

server {
    listen 80;
    server_name myantsle.local myantsle;
    location / {
        proxy_pass http://127.0.0.1:3000;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_cache ui_cache;
    }
}
"""

# Port 8000: <host><N>.local reaches antlet N (10.1.1.N), whatever name it is asked by otherwise.
ANTMAN_ANTLETS = """\
map $host $antlet_address {
    default "";
    ~^myantsle(?<antlet>[0-9]+)\\.local$ 10.1.1.$antlet:80;
}

server {
    listen 8000 default_server;
    server_name _;
    location / {
        if ($antlet_address = "") {
            return 404 "no antlet for $host\\n";
        }
        proxy_pass http://$antlet_address;
        proxy_set_header Host $host;
    }
}
"""

# A balanced domain made with antMan's Load Balancing page (its template).
ANTMAN_BALANCED_DOMAIN = """\
upstream my-balanced-page {
    server 10.1.1.102:80 weight=3;
    server 10.1.1.103:80;
    server 10.1.1.104:80 backup;
}

server {
    listen 80;
    server_name my-balanced-page.local;

    location / {
        proxy_pass http://my-balanced-page;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_connect_timeout 300;
        proxy_read_timeout 300;
        proxy_send_timeout 300;
    }
}
"""

# Hand-written: relative includes, globs, a missing optional directory, Latin-1 comments, the
# host's own server_names_hash_bucket_size, an upstream and a log format of its own.
HAND_NGINX_CONF = (
    b"# nginx.conf \xe9crit \xe0 la main par l'\xe9quipe r\xe9seau (Latin-1, comme en 2009)\n"
    b"worker_processes 2;\n"
    b"pid /run/nginx-hand.pid;\n"
    b"error_log /var/log/nginx/hand-error.log;\n"
    b"events { worker_connections 512; }\n"
    b"http {\n"
    b"    include mime.types;   # relative: beside this file\n"
    b"    log_format main '$remote_addr \"$host\" \"$request\" $status';\n"
    b"    access_log /var/log/nginx/hand-access.log main;\n"
    b"    server_names_hash_bucket_size 128;\n"
    b"    include servers.conf;\n"
    b"    include sites/*.site;   # the shop and whatever comes next\n"
    b"    include optional.d/*.conf;   # for later; the directory does not exist (yet)\n"
    b"}\n"
)
HAND_SERVERS = (
    b"# Sites principaux -- ne pas toucher sans pr\xe9venir Ren\xe9\n"
    b"server {\n"
    b"    listen 80;\n"
    b"    server_name www.example.org example.org;\n"
    b"    location / { default_type text/plain; return 200 \"www\\n\"; }\n"
    b"}\n"
)
HAND_SHOP = (
    b"# Boutique (caf\xe9)\n"
    b"upstream backend {\n"
    b"    server 127.0.0.1:3000;\n"
    b"}\n"
    b"server {\n"
    b"    listen 8080 default_server;\n"
    b"    server_name shop.example.org;\n"
    b"    location / { proxy_pass http://backend; }\n"
    b"}\n"
)


class Layout:
    """A host's nginx tree: ``files`` {absolute path: text or bytes}, ``links`` {path: target},
    ``dirs`` (empty directories), the logical ``ports`` its servers listen on, ``conf`` its
    nginx.conf, and ``probes``: (logical port, Host header, what it shows)."""

    def __init__(self, name, conf, files, ports, probes, links=None, dirs=(), ui=False):
        self.name = name
        self.conf = conf
        self.files = files
        self.links = links or {}
        self.dirs = dirs
        self.ports = ports
        self.probes = probes
        self.ui = ui


LAYOUTS = {
    "debian": Layout(
        "debian", "/etc/nginx/nginx.conf",
        {"/etc/nginx/nginx.conf": DEBIAN_NGINX_CONF, "/etc/nginx/mime.types": MIME_TYPES,
         "/etc/nginx/sites-available/default": DEBIAN_DEFAULT_SITE,
         "/etc/nginx/sites-available/blog": DEBIAN_BLOG_SITE,
         "/var/www/html/index.nginx-debian.html": "<h1>Welcome to nginx!</h1>\n",
         "/var/www/blog/index.html": "the blog\n"},
        ports=(80,),
        links={"/etc/nginx/sites-enabled/default": "/etc/nginx/sites-available/default",
               "/etc/nginx/sites-enabled/blog": "/etc/nginx/sites-available/blog"},
        dirs=("/etc/nginx/conf.d", "/etc/nginx/modules-enabled", "/var/log/nginx"),
        probes=[(80, "blog.example.org", "the blog"), (80, "unknown.example", "the default site"),
                (80, "127.0.0.1", "the default site, by address")]),
    "rhel": Layout(
        "rhel", "/etc/nginx/nginx.conf",
        {"/etc/nginx/nginx.conf": RHEL_NGINX_CONF, "/etc/nginx/mime.types": MIME_TYPES,
         "/etc/nginx/conf.d/app.conf": RHEL_APP,
         "/usr/share/nginx/html/index.html": "<h1>Welcome to nginx on Red Hat Enterprise Linux!</h1>\n",
         "/usr/share/nginx/html/404.html": "not found\n", "/usr/share/nginx/html/50x.html": "error\n"},
        ports=(80,), dirs=("/etc/nginx/default.d", "/usr/share/nginx/modules", "/var/log/nginx"), ui=True,
        probes=[(80, "app.example.com", "the host's application"), (80, "unknown.example", "the default server"),
                (80, "127.0.0.1", "the default server, by address")]),
    "antman": Layout(
        "antman", "/etc/nginx/nginx.conf",
        {"/etc/nginx/nginx.conf": ANTMAN_NGINX_CONF, "/etc/nginx/mime.types": MIME_TYPES,
         "/etc/nginx/virtualhosts/ui.conf": ANTMAN_UI, "/etc/nginx/virtualhosts/antlets.conf": ANTMAN_ANTLETS,
         "/etc/nginx/virtualhosts/my-balanced-page.local.conf": ANTMAN_BALANCED_DOMAIN},
        ports=(80, 8000), dirs=("/var/log/nginx", "/var/cache/nginx", "/var/run"), ui=True,
        probes=[(80, "myantsle.local", "the antMan UI"), (80, "myantsle", "the antMan UI, short name"),
                (80, "my-balanced-page.local", "antMan's balanced domain"),
                (80, "unknown.example", "port 80's first server (no default_server)"),
                (8000, "myantsle110.local", "antlet 110 by its name"), (8000, "myantsle111.local", "antlet 111"),
                (8000, "unknown.example", "the port-8000 default_server")]),
    "hand": Layout(
        "hand", "/etc/nginx/nginx.conf",
        {"/etc/nginx/nginx.conf": HAND_NGINX_CONF, "/etc/nginx/mime.types": MIME_TYPES,
         "/etc/nginx/servers.conf": HAND_SERVERS, "/etc/nginx/sites/shop.site": HAND_SHOP},
        ports=(80, 8080), dirs=("/var/log/nginx",), ui=True,
        probes=[(80, "www.example.org", "www"), (80, "example.org", "www, bare name"),
                (80, "unknown.example", "port 80's first server"), (8080, "shop.example.org", "the shop"),
                (8080, "unknown.example", "the port-8080 default_server")]),
}


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class LayoutWorld:
    """A layout copied under a private prefix, its backends and its nginx. ``extra_ports`` are more
    logical ports to reserve (for rules)."""

    def __init__(self, layout_name, extra_ports=(80, 8000, 8080, 9090)):
        self.layout = LAYOUTS[layout_name]
        # Its own directory, readable by nginx's workers (pytest's tmp_path is private to root).
        self.prefix = tempfile.mkdtemp(prefix="antman-layout-%s-" % layout_name)
        os.chmod(self.prefix, 0o755)
        self.ports = dict((port, free_port()) for port in sorted(set(self.layout.ports) | set(extra_ports)))
        self.status_port = free_port()  # for the role's status endpoint
        self.backends = []
        self.ui = None
        self.antlet_port = free_port("127.0.2.110")
        self.antlets = dict((number, Backend(name, "127.0.2.%d" % number, self.antlet_port))
                            for number, name in sorted(ANTLET_NAMES.items()))
        self.binary = nginx_binary()

    # -- paths -----------------------------------------------------------------------------

    def path(self, host_path):
        """Where a path of the host is in this world."""
        return self.prefix + host_path

    @property
    def conf(self):
        return self.path(self.layout.conf)

    @property
    def rules_dir(self):
        return self.path("/etc/nginx/antman.d")

    def port(self, logical):
        return self.ports[logical]

    # -- building ----------------------------------------------------------------------------

    def rewrite(self, data):
        text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
        text = PATH_RE.sub(lambda match: self.prefix + match.group(1), text)
        text = LISTEN_RE.sub(lambda match: match.group(1) + str(self.ports[int(match.group(2))]), text)
        if self.ui is not None:
            text = text.replace("127.0.0.1:3000", self.ui.address)
        text = ANTLET_RE.sub(lambda match: "127.0.2.%s:%d" % (match.group(1), self.antlet_port), text)
        return text.encode("utf-8", "surrogateescape")

    def adapt_main_conf(self, data):
        """What a private instance needs (see the module docstring), added to the rewritten nginx.conf."""
        text = data.decode("utf-8", "surrogateescape")
        user = USER_RE.search(text)
        if user and not user_exists(user.group(1)):
            text = text.replace(user.group(0), "user nobody nogroup;  # test world: on the host, %s" % user.group(0))
        if not re.search(r"^error_log\s", text, re.M):
            text = "error_log %s/main-error.log;  # test world: the compiled-in log is outside the prefix\n%s" % (
                self.prefix, text)
        temp = "".join("    %s %s/tmp/%s;\n" % (name, self.prefix, name) for name in TEMP_PATHS)
        text = re.sub(r"^http\s*\{\n", lambda match: match.group(0) + "    # test world: temp files in the prefix\n"
                      + temp, text, count=1, flags=re.M)
        return text.encode("utf-8", "surrogateescape")

    def build(self):
        for runtime in ("tmp", "run", "var/run", "var/log/nginx"):
            os.makedirs(os.path.join(self.prefix, runtime), exist_ok=True)
        for host_path in self.layout.dirs:
            os.makedirs(self.path(host_path), exist_ok=True)
        for host_path, data in sorted(self.layout.files.items()):
            target = self.path(host_path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            data = self.rewrite(data)
            if host_path == self.layout.conf:
                data = self.adapt_main_conf(data)
            with open(target, "wb") as handle:
                handle.write(data)
        for link, target in sorted(self.layout.links.items()):
            os.makedirs(os.path.dirname(self.path(link)), exist_ok=True)
            os.symlink(self.path(target), self.path(link))
        for root, dirs, files in os.walk(self.prefix):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)

    def start(self):
        """Backends, the tree, nginx. Returns self; ``stop`` undoes everything, also after a failure."""
        try:
            for antlet in self.antlets.values():
                antlet.start()
                self.backends.append(antlet)
            if self.layout.ui:
                self.ui = Backend("host-app", "127.0.0.1", free_port()).start()
                self.backends.append(self.ui)
            for attempt in range(3):
                self.build()
                rc, out, err = run_command([self.binary, "-c", self.conf])
                if rc == 0:
                    break
                if "Address already in use" not in err or attempt == 2:
                    raise RuntimeError("nginx did not start on layout %s: %s" % (self.layout.name, err))
                # A port free_port() handed out was taken meanwhile (by a parallel test): new ports.
                self.ports = dict((port, free_port()) for port in self.ports)
                self.clear_tree()
        except Exception:
            self.stop()
            raise
        return self

    def clear_tree(self):
        """Remove the built tree (the prefix stays, empty), to build it again."""
        for entry in os.listdir(self.prefix):
            path = os.path.join(self.prefix, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    def master_pid(self):
        try:
            with open(ConfScan(self.conf).main_path("pid")) as handle:
                pid = int(handle.read().strip() or 0)
        except (IOError, OSError, ValueError, TypeError):
            return None
        return pid if nginx_master_of(pid, self.conf) else None

    def workers(self, pid=None):
        pid = pid or self.master_pid()
        return sorted(child_pids(pid)) if pid else []

    def masters(self):
        """nginx masters started with this world's nginx.conf, found by their command line (also
        one that started but could not write its pid file)."""
        return [int(entry) for entry in os.listdir("/proc")
                if entry.isdigit() and process_alive(int(entry)) and nginx_master_of(int(entry), self.conf)]

    def stop(self):
        """nginx stopped (SIGQUIT, SIGKILL after 10 s), backends killed, the prefix removed."""
        for pid in sorted(set(([self.master_pid()] if os.path.exists(self.conf) else []) + self.masters()) - {None}):
            stop_master(pid, self.workers(pid), grace=10)
        for backend in self.backends:
            backend.kill()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def include_rules_dir(self, relative=False):
        """Add ``include <rules_dir>/*.conf;`` (or ``antman.d/*.conf``, relative to nginx.conf) at the
        end of http, as an operator wiring the rules in by hand does. nginx reads it at its next reload."""
        with open(self.conf, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
        closing = block_span(text, "http")[1]
        line = "    include %s;\n" % ("antman.d/*.conf" if relative else self.rules_dir + "/*.conf")
        text = text[:closing] + line + text[closing:]
        with open(self.conf, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogateescape"))

    # -- looking at it -----------------------------------------------------------------------

    def ask(self, logical_port, host, address="127.0.0.1"):
        try:
            return get(self.port(logical_port), host, address=address, timeout=5.0)
        except OSError as error:
            return (None, "no answer: %s" % error)

    def answers(self):
        """{(logical port, Host): (status, body)} of every probe of the layout."""
        return dict(((port, host), self.ask(port, host)) for port, host, _what in self.layout.probes)

    def files(self):
        """{path relative to the prefix: bytes or link target} of the host's nginx tree, except
        nginx's own runtime files (logs, pid, temp and cache) and the rules directory's lock file
        (empty, made once by the first run that takes the lock, never read by nginx)."""
        tree = {}
        for root, dirs, files in os.walk(self.prefix):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, self.prefix)
                if relative.startswith(("tmp/", "var/log/", "var/cache/", "var/run/", "run/")) or name.endswith(".lock"):
                    continue
                if os.path.islink(path):
                    tree[relative] = "-> " + os.readlink(path)
                else:
                    with open(path, "rb") as handle:
                        tree[relative] = handle.read()
        return tree


def site(world, directory, rules, *args, results=(), **host_vars):
    """Run the site playbook (antsle.antman.site) on the world as users run it, given only the
    variables that point it at the world's nginx (its binary, the host's paths moved under the prefix)
    and the rules; ``args`` go to ansible-playbook, ``host_vars`` override. Returns playrun's summary
    (rc, changed, changed_tasks, diffs, errors; ``results``: the results of the tasks of these names).
    The inventory is written in ``directory``."""
    variables = {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "antman_lb_install": False, "antman_lb_nginx_binary": world.binary, "antman_lb_nginx_conf": world.conf,
        "antman_lb_rules_dir": world.rules_dir, "antman_lb_access_log": world.path("/var/log/nginx/antman_access.log"),
        "antman_lb_default_site_path": world.path("/etc/nginx/sites-enabled/default"),
        "antman_lb_stream_conf_path": world.path("/etc/nginx/antman-stream.conf"),
        "antman_lb_status_listen": "127.0.0.1:%d" % world.status_port, "antman_lb_rules": rules,
        # the health agent: with antman_lb_health true, pass world.health_files() as extra vars
        "antman_lb_health": False,
    }
    variables.update(host_vars)
    inventory = os.path.join(str(directory), "inventory.yml")
    with open(inventory, "w") as handle:
        json.dump({"antsle": {"hosts": {"layout-host": variables}}}, handle)
    asked = [arg for task in results for arg in ("--results", task)]
    proc = subprocess.run(tool("tests.support.playrun", *(asked + ["--", "-i", inventory, "antsle.antman.site"] + list(args))),
                          stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return json.loads(proc.stdout)


def health_files(world):
    """The health agent's files moved into the world, and the extra vars that give them to the role
    (above the role's include_vars)."""
    files = {"lib_dir": world.path("/usr/local/lib/antsle-antman"), "unit": world.path("/etc/systemd/system/antman-health.service"),
             "pid_file": world.path("/run/antman-health.pid"), "log_file": world.path("/var/log/antman-health.log"),
             "nginx_error_log": world.path("/var/log/nginx/error.log")}
    return files, ["-e", json.dumps({"_antman_lb_health_files": files})]
