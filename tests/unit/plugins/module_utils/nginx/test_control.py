"""nginx control without a real nginx: its messages, the files it blames, its runtime paths."""
import os
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import ConfScan
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import (
    Nginx, NginxError, concise, files_named_in, find_binary, parse_version_output, process_alive, proc_cpu_seconds, proc_stat)
from ansible_collections.antsle.antman.tests.support.fake_host import FakeHost

OUTPUT = ('2026/12/01 10:00:00 [emerg] 123#123: host not found in upstream "x.invalid:80" in /etc/nginx/antman.d/web.conf:6\n'
          '2026/12/01 10:00:00 [emerg] 123#123: cannot load certificate "/etc/nginx/antman.d/shop.crt"\n'
          "nginx: configuration file /etc/nginx/nginx.conf test failed\n")


def test_messages_are_made_concise_and_name_the_files():
    assert files_named_in(OUTPUT) == ["/etc/nginx/antman.d/shop.crt", "/etc/nginx/antman.d/web.conf"]
    text = concise(OUTPUT)
    assert text.startswith("[emerg] host not found") and "test failed" not in text and "123#123" not in text


def test_a_missing_binary_is_named():
    with pytest.raises(NginxError, match="nginx binary 'no-such-nginx' not found"):
        find_binary("no-such-nginx")


def test_runtime_paths_come_from_the_configuration_then_from_the_binary(tmp_path):
    host = FakeHost(tmp_path)
    nginx = Nginx(host.binary, host.conf, host.run, ConfScan(host.conf))
    assert nginx.pid_file() == os.path.join(host.root, "nginx.pid")  # nginx -V --pid-path
    assert nginx.master_pid() is None
    with pytest.raises(NginxError, match="nginx is not running"):
        nginx.require_running()
    with open(host.conf, "a") as handle:
        handle.write("pid %s/other.pid;\n" % host.root)
    with open(os.path.join(host.root, "other.pid"), "w") as handle:
        handle.write("%d\n" % os.getpid())
    nginx = Nginx(host.binary, host.conf, host.run, ConfScan(host.conf))
    assert nginx.pid_file() == os.path.join(host.root, "other.pid") and nginx.master_pid() == os.getpid()


def test_test_reports_nginx_words(tmp_path):
    host = FakeHost(tmp_path)
    nginx = Nginx(host.binary, host.conf, host.run, ConfScan(host.conf))
    nginx.test()
    host.make_nginx_t_fail(OUTPUT)
    with pytest.raises(NginxError) as error:
        nginx.test()
    assert "host not found" in str(error.value) and error.value.files == files_named_in(OUTPUT)


def test_process_alive():
    assert process_alive(os.getpid()) and not process_alive(2 ** 22 + 1)


@pytest.mark.parametrize("output, version", [
    ("nginx version: nginx/1.22.1\n", (1, 22, 1)), ("nginx version: nginx/1.25.3 (Ubuntu)\n", (1, 25, 3)),
    ("nginx version: openresty/1.21.4.3\n", (1, 21, 4)), ("nginx version: freenginx/1.27.0\n", (1, 27, 0)),
    ("", None), ("command not found", None)])
def test_the_version_is_read_from_nginx_v(output, version):
    assert parse_version_output(output) == version


def test_the_fake_host_answers_its_version(tmp_path):
    host = FakeHost(tmp_path)
    nginx = Nginx(host.binary, host.conf, host.run, None)
    assert nginx.version() == (1, 22, 1)
    host.set_version("1.25.1")
    assert nginx.version() == (1, 25, 1)


def test_proc_cpu_seconds_counts_this_process_cpu_time_and_none_for_no_process():
    before = proc_cpu_seconds(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.3:
        pass
    assert proc_cpu_seconds(os.getpid()) - before >= 0.2
    assert proc_stat(os.getpid())[1] in "RS"
    assert proc_cpu_seconds(2 ** 22 + 1) is None  # above pid_max: no such process
