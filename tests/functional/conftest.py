import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
# The collection root is .../ansible_collections/antsle/antman: make ansible_collections importable.
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "..")))

from harness import Backend, NginxInstance, free_port  # noqa: E402


@pytest.fixture
def nginx(tmp_path):
    instance = NginxInstance(tmp_path / "nginx").start()
    yield instance
    instance.stop()


@pytest.fixture
def backends():
    """Factory: backends(3) -> three started backends on 127.0.1.1..3, one free port each."""
    started = []

    def make(count, first_host=1, delay=0.0):
        made = []
        for index in range(count):
            host = "127.0.1.%d" % (first_host + index)
            backend = Backend("antlet%d" % (first_host + index), host, free_port(host), delay=delay).start()
            made.append(backend)
        started.extend(made)
        return made

    yield make
    for backend in started:
        backend.kill()
