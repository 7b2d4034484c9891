import os

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import (
    ConfScan, block_opening, block_span, path_matches, tokenize)


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


HOST_CONF = """user nginx nginx;
events {}
http {
    log_format main '$remote_addr';
    server_names_hash_bucket_size 128;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream backend { zone backend_zone 64k; server 127.0.0.1:3000; }
    limit_req_zone $binary_remote_addr zone=perip:10m rate=1r/s;
    proxy_cache_path /var/cache/nginx levels=1:2 keys_zone=pages:10m;
    include vhosts/*.conf;
    server {
        listen 80 default_server;
        listen [::]:80 default_server;
        server_name _;
        location / { listen_not_a_listen 1; }
    }
    server { listen 127.0.0.1:8000 ssl; server_name A.example b.example; }
    server { server_name no-listen.example; }
}
"""


def test_servers_their_listens_names_and_reading_order(tmp_path):
    (tmp_path / "vhosts").mkdir()
    (tmp_path / "vhosts" / "a.conf").write_text("server { listen 8080; server_name a; }\n")
    (tmp_path / "vhosts" / "b.conf").write_text("server {\n  listen unix:/run/x.sock;\n  listen localhost:81;\n}\n")
    (tmp_path / "nginx.conf").write_text(HOST_CONF)
    scan = ConfScan(str(tmp_path / "nginx.conf"))
    servers = [(os.path.basename(s.path), s.line, s.order, [(l.address, l.port, l.default, l.ssl) for l in s.listens], s.names)
               for s in scan.servers]
    assert servers == [
        ("a.conf", 1, 0, [("*", 8080, False, False)], ["a"]),
        ("b.conf", 1, 1, [("localhost", 81, False, False)], []),  # a UNIX socket is no port
        ("nginx.conf", 11, 2, [("*", 80, True, False), ("[::]", 80, True, False)], ["_"]),
        ("nginx.conf", 17, 3, [("127.0.0.1", 8000, False, True)], ["a.example", "b.example"]),
        ("nginx.conf", 18, 4, [("*", 80, False, False)], ["no-listen.example"]),  # no listen: *:80, as nginx
    ]
    (site,) = [s for s in scan.include_sites if s.context == ("http",)]
    assert (site.pattern, site.line, site.before, site.after) == (str(tmp_path / "vhosts" / "*.conf"), 10, 0, 2)
    assert [(os.path.basename(m), n) for m, n in site.matches] == [("a.conf", 0), ("b.conf", 1)]
    assert scan.http_end == 5 and scan.main["user"] == ["nginx", "nginx"]


def test_names_and_settings_defined_at_http_level(tmp_path):
    (tmp_path / "nginx.conf").write_text(HOST_CONF)
    scan = ConfScan(str(tmp_path / "nginx.conf"))
    assert [(d.kind, d.name, d.line) for d in scan.definitions] == [
        ("log_format", "main", 4), ("variable", "connection_upgrade", 6), ("upstream", "backend", 7),
        ("zone", "backend_zone", 7), ("zone", "perip", 8), ("zone", "pages", 9)]
    assert scan.http_settings["server_names_hash_bucket_size"][0] == ["128"]
    assert "listen_not_a_listen" not in scan.http_settings and "include" not in scan.http_settings


def test_block_span_is_the_top_level_block_with_its_closing_brace():
    text = "events {}\n# http {\nhttp {\n  server { location / { } }\n  map $a $b { x 1; }\n}\n# }\n"
    opening, closing = block_span(text, "http")
    assert text[:opening].endswith("\nhttp {") and text[closing:] == "}\n# }\n"
    assert block_span("events {}\nhttp {\n", "http") is None
