"""tests/support/fake_host.py, the unit tests' stand-in nginx: it reads its arguments one by one,
so a temp dir whose name holds "-V" or "-t" (mktemp names them at random) changes nothing."""
import pytest

from ansible_collections.antsle.antman.tests.support.fake_host import FakeHost


@pytest.mark.parametrize("name", ["plain", "antman-pytest-Vd1cWH", "x-t-y", "-v"])
def test_the_fake_nginx_answers_by_argument_not_by_path(tmp_path, name):
    root = tmp_path / name
    root.mkdir()
    host = FakeHost(root)
    assert host.run([host.binary, "-t", "-q", "-c", host.conf])[0] == 0
    host.make_nginx_t_fail("nginx: [emerg] refused")
    assert host.run([host.binary, "-t", "-q", "-c", host.conf])[0:3:2] == (1, "nginx: [emerg] refused")
    assert host.run([host.binary, "-v"]) == (0, "", "nginx version: nginx/1.22.1\n")
    assert "--pid-path=%s/nginx.pid" % root in host.run([host.binary, "-V"])[2]
    assert host.run([host.binary, "-c", host.conf, "-s", "reload"])[0] == 0
