"""The health checks keepalived runs on a host of a highly available pair (the role's
files/antman-ha-check), against a private nginx: the local status page (answered, refused, wrong
path, a server that accepts and never answers) and the configuration test (passes, fails, waits for
a run holding the rules' lock)."""
import fcntl
import os
import socket
import subprocess
import time

from ansible_collections.antsle.antman.tests.support.harness import free_port
from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

CHECK = os.path.join(ROOT, "roles", "load_balancer", "files", "antman-ha-check")


def check(*args, timeout=20):
    started = time.monotonic()
    proc = subprocess.run(["bash", CHECK] + [str(arg) for arg in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, check=False)
    return proc.returncode, time.monotonic() - started


def status_server(nginx, port):
    nginx.write_conf("status.conf", "server { listen 127.0.0.1:%d; location = /nginx_status { stub_status; } }\n" % port)
    subprocess.run([nginx.binary, "-c", nginx.conf, "-s", "reload"], check=True)
    deadline = time.monotonic() + 5
    while check("status", "127.0.0.1", port, "/nginx_status")[0] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_status_page_answered_refused_and_wrong_path(nginx):
    port = free_port()
    assert check("status", "127.0.0.1", port, "/nginx_status")[0] == 1  # nothing listens yet
    status_server(nginx, port)
    assert check("status", "127.0.0.1", port, "/nginx_status")[0] == 0
    assert check("status", "127.0.0.1", port, "/elsewhere")[0] == 1  # 404
    nginx.stop()
    assert check("status", "127.0.0.1", port, "/nginx_status")[0] == 1


def test_status_page_that_never_answers_fails_within_its_read_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts (the kernel completes the handshake) and never answers: a hung nginx
    try:
        rc, seconds = check("status", "127.0.0.1", listener.getsockname()[1], "/nginx_status")
    finally:
        listener.close()
    assert rc == 1 and seconds < 1.9  # keepalived's timeout for the check is 2 s


def test_config_test_passes_and_fails_with_nginx_t(nginx, tmp_path):
    lock = tmp_path / "rules.lock"
    assert check("config", nginx.binary, nginx.conf, lock)[0] == 0
    nginx.write_conf("broken.conf", "server { listen 127.0.0.1:1; no_such_directive on; }\n")
    assert check("config", nginx.binary, nginx.conf, lock)[0] == 1


def test_config_test_waits_for_a_run_holding_the_rules_lock(nginx, tmp_path):
    nginx.write_conf("broken.conf", "server { listen 127.0.0.1:1; no_such_directive on; }\n")
    lock = tmp_path / "rules.lock"
    with open(str(lock), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a run between its switch and its own nginx -t
        rc, seconds = check("config", nginx.binary, nginx.conf, lock)
    assert rc == 0 and 2.9 < seconds < 10  # it waited 3 s, then left the judgement to that run
    assert check("config", nginx.binary, nginx.conf, lock)[0] == 1  # lock released: the test runs
