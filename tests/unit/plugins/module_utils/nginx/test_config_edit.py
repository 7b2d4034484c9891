"""The one edit of the host's own nginx.conf: an include line, nothing else changed."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_edit import EditError, with_include

CONF = "user nginx;\nevents {}\n# http { not this one }\nhttp {\n    gzip on;\n}\n"


def test_http_include_goes_just_before_the_closing_brace_and_nothing_else_changes():
    """At the end of http, so that nginx reads the host's own servers first (its implicit defaults stay)."""
    conf = CONF.replace("    gzip on;\n", "    gzip on;\n    server { listen 80; }\n    map $a $b { x 1; }\n")
    text = with_include(conf, "http", "/etc/nginx/antman/antman.conf")
    added = "    include /etc/nginx/antman/antman.conf;  # added by antsle.antman\n"
    assert text == conf.replace("    map $a $b { x 1; }\n}\n", "    map $a $b { x 1; }\n" + added + "}\n")


def test_http_block_closed_on_a_line_with_more_on_it():
    text = with_include("events {}\nhttp { include mime.types; }\n# }\n", "http", "/x/a.conf")
    assert text == "events {}\nhttp { include mime.types; \n    include /x/a.conf;  # added by antsle.antman\n}\n# }\n"


def test_a_latin1_comment_stays_byte_for_byte():
    raw = b"# r\xe9gl\xe9 par l'\xe9quipe\nevents {}\nhttp {\n    # caf\xe9 }\n}\n"
    text = with_include(raw.decode("utf-8", "surrogateescape"), "http", "/x/a.conf")
    assert text.encode("utf-8", "surrogateescape") == raw.replace(
        b"\xe9 }\n}\n", b"\xe9 }\n    include /x/a.conf;  # added by antsle.antman\n}\n")


def test_main_include_goes_at_the_end():
    assert with_include("events {}", "main", "/etc/nginx/s.conf") == (
        "events {}\ninclude /etc/nginx/s.conf;  # added by antsle.antman\n")


@pytest.mark.parametrize("path", ["relative.conf", "/a b.conf", "/x;y.conf", "/etc/../x.conf", "/x/{}.conf", "/a\n.conf"])
def test_paths_are_checked_before_anything_is_written(path):
    with pytest.raises(EditError):
        with_include(CONF, "http", path)


def test_no_http_block_is_an_error_naming_the_file():
    with pytest.raises(EditError, match="/etc/nginx/nginx.conf has no top-level http"):
        with_include("events {}\n", "http", "/x.conf", "/etc/nginx/nginx.conf")
