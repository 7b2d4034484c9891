"""tests/support/traffic.py, the demo's client: the spread of its requests and the command it runs
part way through (``--at N -- COMMAND``), which must exist: a command that cannot be started is an
error, not a traceback after the requests."""
import sys

import pytest

from ansible_collections.antsle.antman.tests.support import traffic
from ansible_collections.antsle.antman.tests.support.harness import Backend, free_port


@pytest.fixture
def backend():
    server = Backend("web1", "127.0.0.1", free_port()).start()
    yield server
    server.kill()


def run(backend, capsys, *extra):
    traffic.main(["--address", "127.0.0.1", "--port", str(backend.port), "--host", "demo.test", "--count", "20",
                  "--at", "5"] + list(extra))
    return capsys.readouterr().out


def test_the_command_runs_part_way_through_the_requests(backend, capsys):
    out = run(backend, capsys, "--", sys.executable, "-c", "pass")
    assert "20 requests to demo.test: web1 20; failed: 0" in out
    assert "started after request 5" in out and "exit status 0" in out


def test_a_command_that_cannot_be_started_is_an_error_that_names_it(backend, capsys):
    with pytest.raises(SystemExit, match="the command could not be started .*no-such-command-here"):
        run(backend, capsys, "--", "no-such-command-here", "arg")
