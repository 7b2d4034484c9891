"""The one edit of the host's own nginx.conf: an include line, nothing else changed."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_edit import EditError, with_include

CONF = "user nginx;\nevents {}\n# http { not this one }\nhttp {\n    gzip on;\n}\n"


def test_http_include_goes_right_after_the_opening_brace_and_nothing_else_changes():
    text = with_include(CONF, "http", "/etc/nginx/antman/antman.conf")
    added = "    include /etc/nginx/antman/antman.conf;  # added by antsle.antman\n"
    assert text == CONF.replace("http {\n", "http {\n" + added)


def test_http_block_opened_on_a_line_with_more_on_it():
    text = with_include("events {}\nhttp { include mime.types;\n}\n", "http", "/x/a.conf")
    assert text == "events {}\nhttp {\n    include /x/a.conf;  # added by antsle.antman\n include mime.types;\n}\n"


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
