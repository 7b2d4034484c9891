import re

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, OutOfRange, format_time, parse_address, parse_bool, parse_cidr, parse_cidr_list, parse_int,
    parse_loopback_listen, parse_name, parse_path, parse_server_names, parse_time)


@pytest.mark.parametrize("raw, canonical", [
    ("myserver.com", "myserver.com:80"),
    ("MyServer.COM:8080", "myserver.com:8080"),
    ("10.1.1.102:80", "10.1.1.102:80"),
    ("10.1.1.102", "10.1.1.102:80"),
    ("[2001:db8::5]:8080", "[2001:db8::5]:8080"),
    ("[2001:DB8:0::5]", "[2001:db8::5]:80"),
    ("2001:db8::5", "[2001:db8::5]:80"),
    ("antlet1:080", "antlet1:80"),
])
def test_addresses_are_canonical_with_port(raw, canonical):
    assert parse_address(raw) == canonical


@pytest.mark.parametrize("raw", [
    "http://x.com", "x.com/path", "x.com:0", "x.com:65536", "x.com:-1", "x.com:", "unix:/run/app.sock",
    "x.com;", "a b", "x.com:80 backup", "", "[2001:db8::5", "[::1]x", "999.1.1.1", "1.2.3", "-bad.com",
    "bad-.com", "a..b", "x.com\n", "$host", "ex{a}mple.com", "ünïcode.com", "[fe80::1%eth0]:80",
])
def test_bad_addresses_are_refused_with_the_value(raw):
    with pytest.raises(FieldError) as error:
        parse_address(raw)
    assert '"' in str(error.value)  # the value is quoted in the message


@pytest.mark.parametrize("raw", [None, 80, ["a"], {"a": 1}, True])
def test_addresses_must_be_strings(raw):
    with pytest.raises(FieldError):
        parse_address(raw)


def test_server_names_lowercase_ordered_and_unique():
    assert parse_server_names("Example.COM") == ["example.com"]
    assert parse_server_names(["b.com", "*.A.com", "www.example.*", "10.0.0.1"]) == [
        "b.com", "*.a.com", "www.example.*", "10.0.0.1"]
    with pytest.raises(FieldError, match="listed twice"):
        parse_server_names(["a.com", "A.com"])
    with pytest.raises(FieldError, match="empty"):
        parse_server_names([])


@pytest.mark.parametrize("raw", ["a.com;", "a.com b.com", "~^regex$", "*", "_", "a.*.com", "a.com\r", "'a.com'",
                                 "*.", "**.a.com", "a" * 64 + ".com", ".a.com"])
def test_bad_server_names(raw):
    with pytest.raises(FieldError):
        parse_server_names(raw)


def test_names():
    assert parse_name("my-rule_1") == "my-rule_1"
    assert parse_name("A" * 64) == "A" * 64
    for bad in ["", "-x", "_x", "a/b", "../x", "a.conf", "A" * 65, "a b", 5, None]:
        with pytest.raises(FieldError):
            parse_name(bad)


def test_integers_like_ansible_but_never_booleans():
    assert parse_int("80", 1, 65535) == 80
    assert parse_int(80.0, 1, 65535) == 80
    for bad in [True, False, 1.5, "8o", "", None, [80], 0, 65536, -1, 10 ** 30, "1e3"]:
        with pytest.raises(FieldError):
            parse_int(bad, 1, 65535)


def test_booleans_accept_ansible_spellings():
    assert parse_bool("yes") is True and parse_bool("Off") is False and parse_bool(1) is True
    for bad in ["maybe", 2, None, [], 1.0]:
        with pytest.raises(FieldError):
            parse_bool(bad)


@pytest.mark.parametrize("raw, canonical", [
    ("5s", "5s"), (5, "5s"), ("5", "5s"), ("500ms", "500ms"), ("1000ms", "1s"), ("1m", "60s"), (1.5, "1500ms"),
    ("0.25", "250ms"), ("1h", "3600s"),
])
def test_times_are_canonical(raw, canonical):
    assert parse_time(raw, 1, 3600000) == canonical


def test_bad_times():
    for bad in ["5 s", "5sec", "-1s", "1m30s", True, "", "0s", "2h", "1.2345"]:
        with pytest.raises(FieldError):
            parse_time(bad, 1, 3600000)
    with pytest.raises(FieldError, match="whole number of seconds"):
        parse_time("1500ms", 1000, 3600000, whole_seconds=True)
    assert format_time(1500) == "1500ms"


def test_a_value_of_the_right_kind_beyond_the_bounds_names_the_nearest_bound():
    """What importing existing configuration clamps to (a value nginx accepts, a rule does not)."""
    for raw, nearest in [("300", "75s"), ("5m", "75s"), (0, "1ms"), (10 ** 12, "75s")]:
        with pytest.raises(OutOfRange) as error:
            parse_time(raw, 1, 75000)
        assert error.value.nearest == nearest and "out of range (1ms-75s)" in str(error.value)
    for raw, nearest in [(0, 1), ("5000", 1000)]:
        with pytest.raises(OutOfRange) as error:
            parse_int(raw, 1, 1000)
        assert error.value.nearest == nearest
    for bad in ["1m30s", "5sec", True]:  # not a time at all: no bound to clamp to
        with pytest.raises(FieldError) as error:
            parse_time(bad, 1, 75000)
        assert not isinstance(error.value, OutOfRange)


@pytest.mark.parametrize("raw, canonical", [
    ("10.1.1.0/24", "10.1.1.0/24"), ("127.0.0.2", "127.0.0.2"), ("127.0.0.2/32", "127.0.0.2"), ("0.0.0.0/0", "0.0.0.0/0"),
    ("2001:DB8:0:0:0:0:0:0/32", "2001:db8::/32"), ("::1/128", "::1"), ("fd00:0::/8", "fd00::/8"), ("::/0", "::/0"),
    ("10.0.0.0/08", "10.0.0.0/8"),
])
def test_cidrs_are_canonical(raw, canonical):
    assert parse_cidr(raw) == canonical


@pytest.mark.parametrize("raw, message", [
    ("10.1.1.7/24", '"10.1.1.7/24" has host bits set; the network is 10.1.1.0/24 (or give the single address 10.1.1.7)'),
    ("2001:db8::1/32", '"2001:db8::1/32" has host bits set; the network is 2001:db8::/32'),
    ("10.0.0.0/33", "is not an IP address or CIDR"), ("010.0.0.1", "is not an IP address or CIDR"),
    ("fe80::1%eth0", "is not an IP address or CIDR"), ("all", "is not an IP address or CIDR"),
    (None, "is a NoneType, expected an IP address"), ("10.0.0.0/8\n", "is not an IP address or CIDR"),
])
def test_bad_cidrs_are_refused_naming_the_value(raw, message):
    with pytest.raises(FieldError, match=re.escape(message)):
        parse_cidr(raw)


def test_cidr_lists_keep_order_and_refuse_duplicates_by_canonical_form():
    assert parse_cidr_list(["10.0.0.0/8", "127.0.0.2"]) == ["10.0.0.0/8", "127.0.0.2"]
    assert parse_cidr_list("127.0.0.2") == ["127.0.0.2"]
    with pytest.raises(FieldError, match=re.escape('[1]: "::1/128" is listed twice (as ::1)')):
        parse_cidr_list(["::1", "::1/128"])


@pytest.mark.parametrize("path", ["/etc/nginx/antman.d", "/var/lib/antman/acme", "/srv/a+b@c_d-e.conf"])
def test_the_one_path_grammar_accepts_plain_absolute_paths(path):
    assert parse_path(path) == path == parse_path(path, glob=True)


@pytest.mark.parametrize("path", ["etc/nginx", "/etc/nginx/", "/etc/../x", "/etc/./x", "/a b", "/a;b", "/a{b}",
                                  "/a$b", "/a'b", "/a\nb", "//a", "/a/*.conf", 5])
def test_the_one_path_grammar_refuses_what_nginx_would_need_quoted_or_a_traversal(path):
    with pytest.raises(FieldError):
        parse_path(path)


def test_a_glob_is_a_path_only_where_nginx_expands_one():
    assert parse_path("/etc/nginx/antman.d/*.conf", glob=True) == "/etc/nginx/antman.d/*.conf"
    with pytest.raises(FieldError, match=r"\. _ - \+ @ \*"):
        parse_path("/etc/nginx/../*.conf", glob=True)


@pytest.mark.parametrize("raw, parsed", [("127.0.0.1:8081", ("127.0.0.1", 8081)), ("127.0.0.2:1", ("127.0.0.2", 1)),
                                         ("[::1]:8081", ("::1", 8081))])
def test_a_loopback_listen_address(raw, parsed):
    assert parse_loopback_listen(raw) == parsed


@pytest.mark.parametrize("raw, message", [
    ("10.0.0.1:8081", "is not a loopback address"), ("::1:8081", "is not a loopback ADDRESS:PORT"),
    ("[127.0.0.1]:8081", "is not a loopback ADDRESS:PORT"), ("127.0.0.1:0", "is not a loopback ADDRESS:PORT"),
    ("localhost:8081", "is not a loopback ADDRESS:PORT"), ("127.0.0.1", "is not a loopback ADDRESS:PORT"),
    (8081, "expected a loopback ADDRESS:PORT")])
def test_a_bad_loopback_listen_address_is_named(raw, message):
    with pytest.raises(FieldError, match=message):
        parse_loopback_listen(raw)
