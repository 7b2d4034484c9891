"""nginx's stub_status page read for the agent's metrics (health/stub_status.py)."""
from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import exposition
from ansible_collections.antsle.antman.plugins.module_utils.health.stub_status import StubStatus, parse_stub_status, split_url

PAGE = "Active connections: 291 \nserver accepts handled requests\n 16630948 16630947 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n"


def test_the_page_is_parsed_and_anything_else_is_not():
    assert parse_stub_status(PAGE) == {"active": 291, "accepted": 16630948, "handled": 16630947, "requests": 31070465,
                                       "reading": 6, "writing": 179, "waiting": 106}
    assert parse_stub_status("<html>404</html>") is None
    assert parse_stub_status(PAGE.replace("291", "-1")) is None


def test_the_families_say_whether_nginx_answered():
    stub = StubStatus("http://127.0.0.1:8081/nginx_status")
    assert exposition(stub.families()).decode("ascii").splitlines()[2:] == ["antman_lb_nginx_up 0"]
    stub.counters = parse_stub_status(PAGE)
    text = exposition(stub.families()).decode("ascii")
    assert 'antman_lb_nginx_connections{state="waiting"} 106' in text.splitlines()
    assert "antman_lb_nginx_http_requests_total 31070465" in text.splitlines()
    assert split_url("http://[::1]:8081/nginx_status") == ("::1", 8081, "/nginx_status")
