import pytest

from ansible_collections.antsle.antman.tests.support.harness import Backend, NginxInstance, free_port


@pytest.fixture
def nginx(tmp_path):
    instance = NginxInstance(tmp_path / "nginx").start()
    yield instance
    instance.kill()  # a teardown needs no graceful stop


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
