from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import (
    ConfScan, block_opening, path_matches, tokenize)


def test_tokenizer_handles_quotes_comments_and_variables():
    tokens = list(tokenize('a "b;c" \'d\\\'e\' # comment ;\n f ${x}y { g; }'))
    assert tokens == [("word", "a"), ("word", "b;c"), ("word", "d'e"), ("word", "f"), ("word", "${x}y"),
                      ("{", "{"), ("word", "g"), (";", ";"), ("}", "}")]


def test_includes_are_found_per_context_and_followed(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "antman.conf").write_text("include /etc/nginx/antman.d/*.conf;\n")
    (tmp_path / "nginx.conf").write_text(
        "pid /run/x.pid;\nerror_log /var/log/x.log warn;\nevents {}\n"
        "http {\n  # include /nope/*.conf;\n  include conf.d/*.conf;\n  server { listen 80; }\n}\n"
        "stream { include /etc/nginx/stream.d/*.conf; }\n")
    scan = ConfScan(str(tmp_path / "nginx.conf"))
    assert scan.includes_dir("/etc/nginx/antman.d")
    assert scan.includes_dir("/etc/nginx/antman.d/")
    assert not scan.includes_dir("/nope")
    assert not scan.includes_dir("/etc/nginx/stream.d")
    assert scan.includes_dir("/etc/nginx/stream.d", context=("stream",))
    assert scan.main_path("pid") == "/run/x.pid" and scan.main_path("error_log") == "/var/log/x.log"


def test_glob_semantics_do_not_cross_directories():
    assert path_matches("/etc/nginx/antman.d/x.conf", "/etc/nginx/antman.d/*.conf")
    assert path_matches("/etc/nginx/antman.d/x.conf", "/etc/nginx/antman.d/*")
    assert not path_matches("/etc/nginx/antman.d/x.conf", "/etc/nginx/*.conf")


def test_bytes_that_are_not_utf8_are_read_as_nginx_reads_them(tmp_path):
    """A Latin-1 comment (nginx accepts any byte there) and an include path with such a byte."""
    odd = tmp_path / b"conf.d-\xe9".decode("utf-8", "surrogateescape")
    odd.mkdir()
    (odd / "antman.conf").write_bytes(b"# r\xe9gl\xe9 \xff\ninclude /etc/nginx/antman.d/*.conf;\n")
    (tmp_path / "nginx.conf").write_bytes(
        b"# configur\xe9 par l'\xe9quipe\nevents {}\nhttp {\n  include " + str(tmp_path).encode() + b"/conf.d-\xe9/*.conf;\n}\n")
    scan = ConfScan(str(tmp_path / "nginx.conf"))
    assert scan.includes_dir("/etc/nginx/antman.d")


def test_block_opening_finds_the_top_level_block_only():
    text = "events {}\n# http {\nmap $a $b { http 1; }\nhttp {\n  server {}\n}\n"
    at = block_opening(text, "http")
    assert text[:at].endswith("\nhttp {") and block_opening("events {}\n", "http") is None
