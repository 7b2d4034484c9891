"""Faults against a real nginx: refused changes, processes killed mid-apply, concurrent runs, a
missing or stopped nginx, and rules directories that cannot be written. After each: every file
is the old or the new rule set, complete, nginx serves what it served or the new rules, the error
is clear, and the next run repairs whatever a killed run left."""
import os
import socket
import ssl
import subprocess
import sys

import pytest

from ansible_collections.antsle.antman.tests.support.fault_tools import fill_inodes, finish, immutable, remount, run_apply, run_module, tmpfs, tree
from ansible_collections.antsle.antman.tests.support.harness import (
    NginxInstance, free_port, get, local_features, make_certificate, parse_rules)
from ansible_collections.antsle.antman.tests.support.https_probe import context, get as https_get

from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import DEFAULT_RULES_DIR
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule, rule_file_name
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule


def raw_rule(name, port, backend, **fields):
    return dict(dict(name=name, server_name="%s.local" % name, server_port=port,
                     upstreams=[{"address": backend.address}]), **fields)


def files_of(*raw_rules, **options):
    """The files a set of raw rules must produce, byte for byte: each rule's nginx file, and the
    certificate and key of rules that give them as content. ``rules_dir``: where nginx reads them."""
    rules_dir = options.get("rules_dir", DEFAULT_RULES_DIR)
    files = {}
    for raw in raw_rules:
        rule = normalize_rule(raw)
        files[rule_file_name(rule)] = render_rule(rule, rules_dir, local_features()).encode()
        tls = raw.get("tls") or {}
        if tls.get("key_content"):
            files[rule["name"] + ".crt"] = tls["certificate_content"].encode()
            files[rule["name"] + ".key"] = tls["key_content"].encode()
    return files


def override(nginx, *raw_rules, **kwargs):
    """Make the managed rule set exactly ``raw_rules`` (the lb_rules 'overridden' way)."""
    rules, contents = parse_rules(raw_rules)

    def compute(snapshot):
        desired = dict((name, None) for name in snapshot.managed if name not in rules)
        desired.update(rules)
        return desired
    return nginx.applier(**kwargs).run(compute, contents=contents)


def spec(nginx, *raw_rules, **extra):
    return dict(dict(prefix=nginx.prefix, rules_dir=nginx.rules_dir, rules=list(raw_rules), override=True), **extra)


def answer(port, host):
    """The backend that answers ``host`` on ``port``, or the error a client would get."""
    try:
        status, body = get(port, host, timeout=5)
    except OSError as error:
        return type(error).__name__
    return body if status == 200 else "status-%d" % status


def error_log_tail(nginx, lines=15):
    """The end of an instance's error log, for an assertion's message."""
    try:
        with open(nginx.error_log) as handle:
            return handle.read().splitlines()[-lines:]
    except OSError as error:
        return [str(error)]


def assert_settled(rules_dir):
    """One generation (the current one), no journal, no temporary link or journal left behind."""
    parent, base = os.path.split(rules_dir)
    hidden = sorted(n for n in os.listdir(parent) if n.startswith(".%s." % base))
    assert os.path.islink(rules_dir)
    assert hidden == sorted([".%s.lock" % base, os.readlink(rules_dir)]), hidden


def module_args(nginx, **fields):
    return dict(fields, rules_dir=nginx.rules_dir, nginx_conf=nginx.conf, nginx_binary=nginx.binary)


@pytest.fixture
def three_rules(nginx, backends):
    """nginx serving web, api and old, each on its own port, all through backend a."""
    a, b = backends(2)
    ports = dict(web=free_port(), api=free_port(), old=free_port(), new=free_port())
    rules = [raw_rule(name, ports[name], a) for name in ("web", "api", "old")]
    override(nginx, *rules)
    for name in ("web", "api", "old"):
        assert answer(ports[name], "%s.local" % name) == a.name
    return nginx, ports, a, b, rules


# -- validation failures -------------------------------------------------------------------


def test_one_bad_rule_in_a_multi_rule_change_changes_nothing(three_rules):
    nginx, ports, a, b, (web, api, old) = three_rules
    before = nginx.snapshot_files()
    bad = dict(raw_rule("bad", ports["new"], b), upstreams=[{"address": "no-such-antlet.invalid:80"}])
    with pytest.raises(ApplyError) as error:
        override(nginx, dict(web, upstreams=[{"address": b.address}]), bad)  # update web, add bad, delete api/old
    assert error.value.rules == ["bad"]
    assert str(error.value).startswith("rule 'bad': nginx rejected the configuration: ")
    assert 'host not found in upstream "no-such-antlet.invalid:80"' in str(error.value)
    assert "every rule file was restored" in str(error.value)
    assert nginx.snapshot_files() == before
    assert_settled(nginx.rules_dir)
    for name in ("web", "api", "old"):
        assert answer(ports[name], "%s.local" % name) == a.name


def test_moving_a_rule_to_a_port_nginx_cannot_bind_keeps_it_serving_on_the_old_port(three_rules):
    nginx, ports, a, b, (web, api, old) = three_rules
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    master, before = nginx.master_pid(), nginx.snapshot_files()
    try:
        with pytest.raises(ApplyError) as error:
            override(nginx, dict(web, server_port=taken), api, old)
    finally:
        blocker.close()
    assert error.value.rules == ["web"] and "bind() to 0.0.0.0:%d failed" % taken in str(error.value)
    assert nginx.snapshot_files() == before and nginx.master_pid() == master
    assert answer(ports["web"], "web.local") == a.name
    assert_settled(nginx.rules_dir)


def test_a_server_name_longer_than_nginx_hash_buckets_is_refused_and_rolled_back(three_rules):
    """nginx's default server_names_hash_bucket_size (64 here) fits exact names of at most 46
    characters; the model allows 253. nginx -t refuses the longer ones: a validation failure the
    transaction absorbs (the load_balancer role raises the bucket size, see docs/security.md)."""
    nginx, ports, a, b, (web, api, old) = three_rules
    # the hash is only built for a port that several server blocks share, as rules usually do (80)
    shares = raw_rule("shares", ports["new"], a)
    override(nginx, web, api, old, shares, dict(raw_rule("fits", ports["new"], b), server_name="fits.local"))
    before = nginx.snapshot_files()
    long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "local"])  # 197 characters, valid for the model
    with pytest.raises(ApplyError) as error:
        override(nginx, web, api, old, shares,
                 dict(raw_rule("fits", ports["new"], b), server_name=["fits.local", long_name]))
    assert "could not build server_names_hash" in str(error.value) and error.value.rules == ["fits"]
    assert nginx.snapshot_files() == before
    assert answer(ports["new"], "fits.local") == b.name and answer(ports["new"], "shares.local") == a.name


# -- killed mid-apply ----------------------------------------------------------------------

# Where the killed run stops, and what must then be on disk and served: nginx only serves the new
# rules once a reload happened, and the files switch as a whole at "switched".
KILL_POINTS = [
    ("mid-write", "old", "old"),  # half of a new rule file written in the staged generation
    ("staged", "old", "old"),
    ("journaled", "old", "old"),
    ("mid-switch", "old", "old"),  # the temporary link made, not yet renamed over rules_dir
    ("switched", "new", "old"),
    ("validated", "new", "old"),
    ("reloaded", "new", "new"),
    ("finished", "new", "new"),
]


@pytest.mark.parametrize("kill_at, on_disk, served", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_killed_mid_change_leaves_all_old_or_all_new_and_the_next_run_repairs(three_rules, kill_at, on_disk, served):
    nginx, ports, a, b, (web, api, old) = three_rules
    before = nginx.snapshot_files()
    request = [dict(web, upstreams=[{"address": b.address}], read_timeout="9s"), api,
               raw_rule("new", ports["new"], b)]
    code, _unused = run_apply(spec(nginx, *request, kill_at=kill_at))
    assert code == -9
    assert nginx.snapshot_files() == (before if on_disk == "old" else files_of(*request, rules_dir=nginx.rules_dir))
    assert answer(ports["web"], "web.local") == (a.name if served == "old" else b.name)

    repair = [dict(web, upstreams=[{"address": b.address}], read_timeout="7s"), api, raw_rule("new", ports["new"], b)]
    code, result = run_apply(spec(nginx, *repair))
    assert code == 0 and result["changed"], result
    assert nginx.snapshot_files() == files_of(*repair, rules_dir=nginx.rules_dir)
    assert_settled(nginx.rules_dir)
    assert answer(ports["web"], "web.local") == b.name and answer(ports["new"], "new.local") == b.name
    assert answer(ports["api"], "api.local") == a.name
    assert answer(ports["old"], "old.local") == "ConnectionRefusedError"


def test_killed_while_adopting_a_plain_rules_directory_loses_nothing(nginx, backends):
    (a,) = backends(1)
    os.makedirs(nginx.rules_dir)
    hand = b"# written by hand before antman managed this directory\n"
    with open(os.path.join(nginx.rules_dir, "hand.conf"), "wb") as handle:
        handle.write(hand)
    web = raw_rule("web", free_port(), a)
    code, _unused = run_apply(spec(nginx, web, kill_at="adopting"))
    assert code == -9
    code, result = run_apply(spec(nginx, web))
    assert code == 0 and result["recovered"], result
    assert nginx.snapshot_files() == dict(files_of(web, rules_dir=nginx.rules_dir), **{"hand.conf": hand})
    assert_settled(nginx.rules_dir)
    assert answer(web["server_port"], "web.local") == a.name


# -- certificate and key files written beside a rule -------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Two certificates for shop.local, each from a test CA of its own: {"old": ..., "new": ...},
    each {ca, certificate, key, tls (as content)}."""
    made = {}
    for label in ("old", "new"):
        paths = make_certificate(tmp_path_factory.mktemp("tls-%s" % label), "shop.local")
        with open(paths["certificate"]) as certificate, open(paths["key"]) as key:
            paths["tls"] = {"certificate_content": certificate.read(), "key_content": key.read()}
        made[label] = paths
    return made


def https_answer(port, certificates):
    """Which certificate nginx presents for shop.local on ``port`` and the backend that answers."""
    for label, paths in sorted(certificates.items()):
        try:
            seen = https_get("127.0.0.1", port, "shop.local", context(paths["ca"]), timeout=5)
        except ssl.SSLCertVerificationError:
            continue
        except OSError as error:
            return type(error).__name__
        return label, (seen["body"] if seen["status"] == 200 else "status-%d" % seen["status"])
    return "no certificate of the test"


@pytest.fixture
def tls_rules(nginx, backends, certificates):
    """nginx serving web (http) and shop (https, the old certificate, written from content) through a."""
    a, b = backends(2)
    ports = dict(web=free_port(), shop=free_port())
    web = raw_rule("web", ports["web"], a)
    shop = raw_rule("shop", ports["shop"], a, tls=certificates["old"]["tls"])
    override(nginx, web, shop)
    assert https_answer(ports["shop"], certificates) == ("old", a.name)
    return nginx, ports, a, b, web, shop


# Killed while writing the key, or at one step of each kind (see KILL_POINTS): files old and
# served old, files new and served old, both new.
TLS_KILL_POINTS = [("mid-write-key", "old", "old")] + [point for point in KILL_POINTS
                                                       if point[0] in ("journaled", "mid-switch", "switched", "reloaded")]


@pytest.mark.parametrize("kill_at, on_disk, served", TLS_KILL_POINTS, ids=[k[0] for k in TLS_KILL_POINTS])
def test_killed_while_changing_a_certificate_leaves_all_old_or_all_new_files(
        tls_rules, certificates, kill_at, on_disk, served):
    nginx, ports, a, b, web, shop = tls_rules
    before = nginx.snapshot_files()
    request = [dict(web, upstreams=[{"address": b.address}]),
               dict(shop, upstreams=[{"address": b.address}], tls=certificates["new"]["tls"])]
    code, _unused = run_apply(spec(nginx, *request, kill_at=kill_at))
    assert code == -9
    assert nginx.snapshot_files() == (before if on_disk == "old" else files_of(*request, rules_dir=nginx.rules_dir))
    assert https_answer(ports["shop"], certificates) == (("old", a.name) if served == "old" else ("new", b.name))

    repair = [request[0], dict(request[1], read_timeout="7s")]
    code, result = run_apply(spec(nginx, *repair))
    assert code == 0 and result["changed"], result
    assert nginx.snapshot_files() == files_of(*repair, rules_dir=nginx.rules_dir)
    assert os.stat(os.path.join(nginx.rules_dir, "shop.key")).st_mode & 0o777 == 0o600
    assert_settled(nginx.rules_dir)
    assert https_answer(ports["shop"], certificates) == ("new", b.name)


@pytest.mark.parametrize("broken", ["not-a-certificate", "key-of-another-certificate"])
def test_a_certificate_nginx_cannot_load_changes_nothing(tls_rules, certificates, broken):
    """The model checks the form of PEM content; nginx -t checks the certificate and key."""
    nginx, ports, a, b, web, shop = tls_rules
    before, master = nginx.snapshot_files(), nginx.master_pid()
    tls = dict(certificates["new"]["tls"])
    if broken == "not-a-certificate":
        tls["certificate_content"] = "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
        nginx_says = 'cannot load certificate "%s/shop.crt"' % nginx.rules_dir
    else:
        tls["key_content"] = certificates["old"]["tls"]["key_content"]
        nginx_says = "key values mismatch"
    with pytest.raises(ApplyError) as error:
        override(nginx, dict(web, upstreams=[{"address": b.address}]), dict(shop, tls=tls))
    assert error.value.rules == ["shop"] and nginx_says in str(error.value), str(error.value)
    assert "every rule file was restored" in str(error.value)
    assert nginx.snapshot_files() == before and nginx.master_pid() == master
    assert_settled(nginx.rules_dir)
    assert https_answer(ports["shop"], certificates) == ("old", a.name)
    assert answer(ports["web"], "web.local") == a.name


# -- base configuration and certificate files (lb_host_apply's base part), killed mid-change ------------------

# Base files are replaced one rename(2) each, so a run killed between two of them ("mid-apply") leaves
# some new and some old: nginx reads none of them before a reload (which only follows nginx -t), and
# the next run of any writer puts them all back from the journal.
BASE_KILL_POINTS = [
    ("mid-write", "old", "old"),  # half of a new file written, in its temporary beside it
    ("staged", "old", "old"),
    ("journaled", "old", "old"),
    ("mid-apply", "mixed", "old"),  # the first file renamed into place, not the others
    ("switched", "new", "old"),
    ("validated", "new", "old"),
    ("reloaded", "new", "new"),
    ("finished", "new", "new"),
]
REPAIRERS = ["base-configuration-run", "rule-run"]


def base_request(nginx, files, includes=()):
    from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_base_config import BaseRequest
    return BaseRequest({"files": files, "links": [], "remove_links": [], "logs": [], "includes": list(includes),
                        "nginx_conf": nginx.conf})


def base_config(nginx, files, includes=()):
    """Apply base files as lb_host_apply's base part does (Transaction.run_files), in this process."""
    from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_base_config import plan
    request, applier = base_request(nginx, files, includes), nginx.applier()
    return applier.run_files(lambda view: plan(request, view, applier.host.scan, nginx.conf))


def planned(nginx, paths, files, includes=()):
    """{path: bytes or None} that a complete base configuration run of ``files`` would leave."""
    from ansible_collections.antsle.antman.plugins.module_utils.host.files import read_state
    from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_base_config import plan
    state = file_bytes(paths)
    for change in plan(base_request(nginx, files, includes), read_state, nginx.applier().read_host().host.scan, nginx.conf):
        state[change.path] = change.after.data
    return state


def file_bytes(paths):
    """{path: bytes, or None where there is no file}."""
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found[path] = handle.read()
        except FileNotFoundError:
            found[path] = None
    return found


def base_spec(nginx, files, includes=(), **extra):
    return dict(dict(prefix=nginx.prefix, rules_dir=nginx.rules_dir, files=files, includes=list(includes)), **extra)


def assert_no_temporaries(root):
    left = [os.path.join(d, n) for d, _dirs, names in os.walk(root) for n in names if n.endswith(".antman-new")]
    assert not left, left


def assert_killed_files(on_disk, state, before, after):
    if on_disk == "mixed":
        assert state != before and state != after
        assert all(state[path] in (before[path], after[path]) for path in state), state
    else:
        assert state == (before if on_disk == "old" else after)


def assert_private_journal(nginx, journaled):
    """The journal and the previous files it names: readable by their owner only."""
    parent, base = os.path.split(nginx.rules_dir)
    journal, backups = os.path.join(parent, ".%s.journal" % base), os.path.join(parent, ".%s.backup" % base)
    assert os.path.exists(journal) == journaled == os.path.isdir(backups)
    if journaled:
        assert os.stat(journal).st_mode & 0o777 == 0o600 and os.stat(backups).st_mode & 0o777 == 0o700
        saved = os.listdir(backups)
        assert len(saved) == 2 and all(os.stat(os.path.join(backups, n)).st_mode & 0o777 == 0o600 for n in saved)


def site(version, port):
    return {"path": "", "content": 'server {\n    listen %d;\n    return 200 "%s";\n}\n' % (port, version), "mode": "0644"}


@pytest.fixture
def dropin(three_rules):
    """three_rules, and a drop-in in <prefix>/conf.d (included from nginx.conf by a first base run)
    whose server answers "v1" on its own port."""
    nginx, ports, a, b, rules = three_rules
    for directory in ("conf.d", "extra"):
        os.makedirs(os.path.join(nginx.prefix, directory))
    paths = dict(dropin=os.path.join(nginx.prefix, "conf.d", "zz-antman.conf"),
                 extra=os.path.join(nginx.prefix, "extra", "limits.conf"), conf=nginx.conf)
    port = free_port()
    base_config(nginx, [dict(site("v1", port), path=paths["dropin"])],
                includes=[{"path": os.path.join(nginx.prefix, "conf.d", "*.conf"), "context": "http"}])
    assert answer(port, "any.local") == "v1"
    return nginx, ports, a, b, rules, paths, port


@pytest.mark.parametrize("repairer", REPAIRERS)
@pytest.mark.parametrize("kill_at, on_disk, served", BASE_KILL_POINTS, ids=[k[0] for k in BASE_KILL_POINTS])
def test_killed_while_changing_base_files_the_next_run_of_any_writer_repairs(dropin, kill_at, on_disk, served, repairer):
    """The drop-in updated, a new file created and nginx.conf given its include line, in one change."""
    nginx, ports, a, b, (web, api, old), paths, port = dropin

    def request(version):
        return ([dict(site(version, port), path=paths["dropin"]),
                 {"path": paths["extra"], "content": "client_max_body_size 3m;\n", "mode": "0644"}],
                [{"path": os.path.join(nginx.prefix, "extra", "*.conf"), "context": "http"}])
    before = file_bytes(paths.values())
    after, after_v3 = planned(nginx, paths.values(), *request("v2")), planned(nginx, paths.values(), *request("v3"))
    assert all(after[path] != before[path] for path in before) and after_v3[paths["conf"]] == after[paths["conf"]]
    code, _unused = run_apply(base_spec(nginx, *request("v2"), kill_at=kill_at))
    assert code == -9
    assert_killed_files(on_disk, file_bytes(paths.values()), before, after)
    assert_private_journal(nginx, journaled=kill_at not in ("staged", "finished"))
    assert answer(port, "any.local") == ("v1" if served == "old" else "v2")
    assert answer(ports["web"], "web.local") == a.name

    if repairer == "base-configuration-run":
        code, result = run_apply(base_spec(nginx, *request("v3")))
        expected, version = after_v3, "v3"
    else:
        code, result = run_apply(spec(nginx, dict(web, upstreams=[{"address": b.address}]), api, old))
        expected, version = (after, "v2") if kill_at == "finished" else (before, "v1")
        assert nginx.snapshot_files() == files_of(dict(web, upstreams=[{"address": b.address}]), api, old, rules_dir=nginx.rules_dir)
    assert code == 0 and result["changed"] and result["recovered"] == (kill_at not in ("staged", "finished")), result
    assert file_bytes(paths.values()) == expected
    assert answer(port, "any.local") == version
    assert answer(ports["web"], "web.local") == (b.name if repairer == "rule-run" else a.name)
    assert_settled(nginx.rules_dir)
    assert_no_temporaries(nginx.prefix)


@pytest.mark.parametrize("kill_at, on_disk, served", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_a_killed_rule_change_is_repaired_by_a_base_configuration_run(three_rules, kill_at, on_disk, served):
    nginx, ports, a, b, (web, api, old) = three_rules
    before = nginx.snapshot_files()
    request = [dict(web, upstreams=[{"address": b.address}]), api, raw_rule("new", ports["new"], b)]
    code, _unused = run_apply(spec(nginx, *request, kill_at=kill_at))
    assert code == -9
    os.makedirs(os.path.join(nginx.prefix, "conf.d"))
    dropin = os.path.join(nginx.prefix, "conf.d", "zz-antman.conf")
    port = free_port()
    code, result = run_apply(base_spec(nginx, [dict(site("base", port), path=dropin)],
                                       [{"path": os.path.join(nginx.prefix, "conf.d", "*.conf"), "context": "http"}]))
    assert code == 0 and result["changed"] and result["recovered"] == (kill_at not in KILL_POINTS_BEFORE_JOURNAL)
    assert nginx.snapshot_files() == (files_of(*request, rules_dir=nginx.rules_dir) if kill_at == "finished" else before)
    assert answer(ports["web"], "web.local") == (b.name if kill_at == "finished" else a.name)
    assert answer(port, "any.local") == "base"
    assert_settled(nginx.rules_dir)
    assert_no_temporaries(nginx.prefix)


KILL_POINTS_BEFORE_JOURNAL = ("mid-write", "staged", "finished")  # no journal to put back (finished: none left)


@pytest.fixture
def tls_files(nginx, backends, certificates):
    """nginx serving shop (https) with the old certificate and key from files lb_host_apply's base part wrote in
    <prefix>/certs, and web (http), through a."""
    a, b = backends(2)
    os.makedirs(os.path.join(nginx.prefix, "certs"))
    paths = dict(certificate=os.path.join(nginx.prefix, "certs", "shop.crt"),
                 key=os.path.join(nginx.prefix, "certs", "shop.key"))
    base_config(nginx, certificate_files(paths, certificates["old"]))
    ports = dict(web=free_port(), shop=free_port())
    web = raw_rule("web", ports["web"], a)
    shop = raw_rule("shop", ports["shop"], a, tls={"certificate": paths["certificate"], "key": paths["key"]})
    override(nginx, web, shop)
    assert https_answer(ports["shop"], certificates) == ("old", a.name)
    return nginx, ports, a, b, web, shop, paths


def certificate_files(paths, made):
    return [{"path": paths["certificate"], "content": made["tls"]["certificate_content"], "mode": "0644"},
            {"path": paths["key"], "content": made["tls"]["key_content"], "mode": "0600"}]


TLS_FILE_KILL_POINTS = [("mid-write-key", "old", "old")] + [k for k in BASE_KILL_POINTS if k[0] != "mid-write"]


@pytest.mark.parametrize("repairer", REPAIRERS)
@pytest.mark.parametrize("kill_at, on_disk, served", TLS_FILE_KILL_POINTS, ids=[k[0] for k in TLS_FILE_KILL_POINTS])
def test_killed_while_replacing_a_certificate_and_its_key_the_next_run_of_any_writer_repairs(
        tls_files, certificates, kill_at, on_disk, served, repairer):
    """What the role does with an ACME certificate, here with its key too: both files, one change."""
    nginx, ports, a, b, web, shop, paths = tls_files
    before = file_bytes(paths.values())
    new = certificate_files(paths, certificates["new"])
    after = dict((item["path"], item["content"].encode()) for item in new)
    code, _unused = run_apply(base_spec(nginx, new, kill_at=kill_at))
    assert code == -9
    assert_killed_files(on_disk, file_bytes(paths.values()), before, after)
    assert https_answer(ports["shop"], certificates) == ("old" if served == "old" else "new", a.name)

    if repairer == "base-configuration-run":
        code, result = run_apply(base_spec(nginx, new))
        expected, label, backend = after, "new", a
    else:
        code, result = run_apply(spec(nginx, web, dict(shop, upstreams=[{"address": b.address}])))
        expected, label, backend = (after, "new", b) if kill_at == "finished" else (before, "old", b)
    assert code == 0 and result["recovered"] == (kill_at not in ("staged", "finished")), result
    assert file_bytes(paths.values()) == expected
    assert os.stat(paths["key"]).st_mode & 0o777 == 0o600
    assert https_answer(ports["shop"], certificates) == (label, backend.name)
    assert_settled(nginx.rules_dir)
    assert_no_temporaries(nginx.prefix)


# -- runs at the same time -------------------------------------------------------------------


def test_a_second_run_waits_for_the_first_and_applies_its_whole_request_after_it(three_rules, tmp_path):
    nginx, ports, a, b, (web, api, old) = three_rules
    ready, go = str(tmp_path / "ready"), str(tmp_path / "go")
    first = [dict(web, upstreams=[{"address": b.address}]), api]
    second = [web, raw_rule("new", ports["new"], b)]
    holder = run_apply(spec(nginx, *first, pause_at="staged", ready_file=ready, go_file=go), wait=False)
    deadline = 60
    while not os.path.exists(ready):
        assert holder.poll() is None and deadline > 0, holder.communicate()
        subprocess.run(["sleep", "0.02"], check=False)
        deadline -= 0.02
    before = tree(os.path.dirname(nginx.rules_dir))
    code, impatient = run_apply(spec(nginx, *second, lock_timeout=1))
    assert "another run is still applying rules" in impatient["error"]
    assert tree(os.path.dirname(nginx.rules_dir)) == before
    waiting = run_apply(spec(nginx, *second, lock_timeout=60), wait=False)
    open(go, "w").close()
    assert finish(holder)[1]["changed"] and finish(waiting)[1]["changed"]
    assert nginx.snapshot_files() == files_of(*second, rules_dir=nginx.rules_dir)
    assert_settled(nginx.rules_dir)
    assert answer(ports["web"], "web.local") == a.name and answer(ports["new"], "new.local") == b.name
    assert answer(ports["api"], "api.local") == "ConnectionRefusedError"


def test_two_whole_rule_sets_applied_at_once_end_as_exactly_one_of_them(three_rules, tmp_path):
    nginx, ports, a, b, rules = three_rules
    set_a = [raw_rule("web", ports["web"], a, read_timeout="%ds" % i) for i in (11,)] + [
        raw_rule("a%d" % i, free_port(), a) for i in range(4)]
    set_b = [raw_rule("web", ports["web"], b, read_timeout="%ds" % i) for i in (22,)] + [
        raw_rule("b%d" % i, free_port(), b) for i in range(4)]
    for round_number in range(3):
        go = str(tmp_path / ("go-%d" % round_number))
        runs = [run_apply(spec(nginx, *chosen, pause_at="start", ready_file=go + name, go_file=go), wait=False)
                for name, chosen in (("a", set_a), ("b", set_b))]
        open(go, "w").close()  # both start at once
        results = [finish(run) for run in runs]
        assert all(code == 0 and "error" not in result for code, result in results), results
        on_disk = nginx.snapshot_files()
        assert on_disk in (files_of(*set_a, rules_dir=nginx.rules_dir), files_of(*set_b, rules_dir=nginx.rules_dir)), sorted(on_disk)
        winner = a if on_disk == files_of(*set_a, rules_dir=nginx.rules_dir) else b
        assert answer(ports["web"], "web.local") == winner.name
        assert_settled(nginx.rules_dir)


ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
  tasks:
    - name: Set rule web, again and again
      antsle.antman.lb_rule:
        name: web
        server_name: web.local
        server_port: {port}
        read_timeout: "{{{{ item }}}}s"
        upstreams:
          - address: {address}
        rules_dir: {rules_dir}
        nginx_conf: {conf}
        nginx_binary: {binary}
      loop: {timeouts}
"""


def test_two_playbook_runs_at_once_serialise_and_end_as_one_of_the_two(three_rules, tmp_path):
    nginx, ports, a, b, rules = three_rules
    runs = []
    for label, backend, timeouts in (("a", a, [11, 12, 13, 14]), ("b", b, [21, 22, 23, 24])):
        book = tmp_path / ("play-%s.yml" % label)
        book.write_text(PLAYBOOK.format(python=sys.executable, port=ports["web"], address=backend.address,
                                        rules_dir=nginx.rules_dir, conf=nginx.conf, binary=nginx.binary,
                                        timeouts=timeouts))
        runs.append(subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", "localhost,", str(book)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, universal_newlines=True))
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    on_disk = nginx.snapshot_files()["web.conf"]
    last_a = files_of(raw_rule("web", ports["web"], a, read_timeout="14s"), rules_dir=nginx.rules_dir)["web.conf"]
    last_b = files_of(raw_rule("web", ports["web"], b, read_timeout="24s"), rules_dir=nginx.rules_dir)["web.conf"]
    assert on_disk in (last_a, last_b)
    assert answer(ports["web"], "web.local") == (a.name if on_disk == last_a else b.name)
    assert_settled(nginx.rules_dir)


# -- nginx missing or stopped --------------------------------------------------------------


def test_module_refuses_when_nginx_is_not_running_and_touches_nothing(three_rules):
    """nginx crashed (SIGKILL: its pid file stays, naming a dead or zombie process)."""
    nginx, ports, a, b, (web, api, old) = three_rules
    nginx.kill()
    before = tree(nginx.prefix, skip_logs=True)
    result = run_module("lb_rule", module_args(nginx, **raw_rule("new", ports["new"], b)))
    assert result["failed"] and result["msg"].startswith("nginx is not running (no live process in pid file ")
    assert "reload: false" in result["msg"]
    assert tree(nginx.prefix, skip_logs=True) == before


@pytest.mark.parametrize("binary", ["/nonexistent/sbin/nginx", "antman-no-such-nginx"])
def test_module_refuses_when_the_nginx_binary_is_missing_and_touches_nothing(three_rules, binary):
    nginx, ports, a, b, rules = three_rules
    before = tree(nginx.prefix, skip_logs=True)
    result = run_module("lb_rule", dict(module_args(nginx, **raw_rule("new", ports["new"], b)), nginx_binary=binary))
    assert result["failed"] and result["msg"].startswith("nginx binary '%s' not found" % binary)
    assert tree(nginx.prefix, skip_logs=True) == before
    assert answer(ports["web"], "web.local") == a.name


# -- rules directory not writable --------------------------------------------------------------


def relocated(tmp_path, rules_dir):
    """A started nginx whose http context includes ``rules_dir`` instead of the default one."""
    instance = NginxInstance(tmp_path / "nginx-relocated")
    with open(instance.conf) as handle:
        text = handle.read().replace(instance.rules_dir, rules_dir)
    with open(instance.conf, "w") as handle:
        handle.write(text)
    instance.rules_dir = rules_dir
    return instance.start()


def test_rules_dir_under_a_file_is_a_clear_error(tmp_path, backends):
    (a,) = backends(1)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the rules directory's parent should be\n")
    nginx = relocated(tmp_path, str(blocker / "antman.d"))
    try:
        before = tree(str(tmp_path), skip_logs=True)
        result = run_module("lb_rule", module_args(nginx, **raw_rule("web", free_port(), a)))
        assert result["failed"]
        assert result["msg"] == "cannot use rules_dir %s: its parent %s exists and is not a directory" % (
            nginx.rules_dir, blocker)
        assert tree(str(tmp_path), skip_logs=True) == before
    finally:
        nginx.kill()


def test_immutable_rules_dir_parent_is_a_clear_error_and_changes_nothing(three_rules):
    nginx, ports, a, b, (web, api, old) = three_rules
    parent = os.path.dirname(nginx.rules_dir)
    before = tree(parent, skip_logs=True)
    with immutable(parent):
        result = run_module("lb_rule", module_args(nginx, **raw_rule("new", ports["new"], b)))
        assert result["failed"] and result["msg"].startswith("cannot write in %s: Operation not permitted" % parent)
        assert tree(parent, skip_logs=True) == before
        assert answer(ports["web"], "web.local") == a.name
    result = run_module("lb_rule", module_args(nginx, **raw_rule("new", ports["new"], b)))
    assert result["changed"] and answer(ports["new"], "new.local") == b.name
    assert_settled(nginx.rules_dir)


def test_read_only_file_system_is_a_clear_error_and_changes_nothing(tmp_path, backends):
    a, b = backends(2)
    with tmpfs(str(tmp_path / "lb")) as mount:
        nginx = relocated(tmp_path, os.path.join(mount, "antman.d"))
        try:
            web = raw_rule("web", free_port(), a)
            override(nginx, web)
            before = tree(mount)
            remount(mount, "ro")
            result = run_module("lb_rule", module_args(nginx, **{**web, "upstreams": [{"address": b.address}]}))
            assert result["failed"] and result["msg"] == (
                "cannot use rules_dir %s: Read-only file system (its parent directory must be writable)"
                % nginx.rules_dir)
            assert tree(mount) == before and answer(web["server_port"], "web.local") == a.name
            remount(mount, "rw")
            result = run_module("lb_rule", module_args(nginx, **{**web, "upstreams": [{"address": b.address}]}))
            assert result["changed"] and answer(web["server_port"], "web.local") == b.name
        finally:
            nginx.kill()


def test_a_full_file_system_at_any_point_changes_nothing_until_there_is_room(tmp_path, backends):
    """Leave 0, 1, 2... free inodes: every run that cannot finish staging, journaling or switching
    reports it and leaves the old rules in place, until one has room and applies everything."""
    a, b = backends(2)
    with tmpfs(str(tmp_path / "lb"), "size=8m,nr_inodes=64") as mount:
        nginx = relocated(tmp_path, os.path.join(mount, "antman.d"))
        try:
            first = [raw_rule("web", free_port(), a), raw_rule("api", free_port(), a)]
            override(nginx, *first)
            before = nginx.snapshot_files()
            second = [dict(first[0], upstreams=[{"address": b.address}]), raw_rule("new", free_port(), b),
                      raw_rule("more", free_port(), b)]
            failures = []
            for free in range(12):
                fillers = fill_inodes(mount, free)
                code, answer_ = run_apply(spec(nginx, *second))
                for path in fillers:
                    os.unlink(path)
                if answer_.get("error"):
                    assert "No space left on device" in answer_["error"], answer_
                    failures.append(answer_["error"])
                    assert nginx.snapshot_files() == before
                    assert answer(first[0]["server_port"], "web.local") == a.name, (
                        free, answer_, failures, nginx.master_pid(), error_log_tail(nginx))
                    assert_settled(nginx.rules_dir)
                    continue
                assert nginx.snapshot_files() == files_of(*second, rules_dir=nginx.rules_dir)
                assert answer(first[0]["server_port"], "web.local") == b.name
                break
            else:
                pytest.fail("no run succeeded: %s" % failures)
            kinds = set(message.split(":")[0] for message in failures)
            assert len(failures) >= 3 and len(kinds) >= 2, failures
        finally:
            nginx.kill()


# -- modes and commands ------------------------------------------------------------------------


def test_files_and_directories_are_never_world_writable_whatever_the_umask(three_rules, certificates):
    nginx, ports, a, b, (web, api, old) = three_rules
    shop = raw_rule("shop", free_port(), b, tls=certificates["new"]["tls"])
    code, _unused = run_apply(spec(nginx, web, api, raw_rule("new", ports["new"], b), shop, kill_at="validated", umask=0))
    assert code == -9  # leaves the journal and both generations, to be checked too
    parent = os.path.dirname(nginx.rules_dir)
    modes = dict((name, os.lstat(os.path.join(parent, name))) for name in os.listdir(parent))
    journal = modes.pop(".antman.d.journal")
    lock = modes.pop(".antman.d.lock")
    assert oct(journal.st_mode & 0o777) == oct(lock.st_mode & 0o777) == "0o600"
    generations = [n for n in modes if n.startswith(".antman.d.gen-")]
    assert len(generations) == 2
    for name in generations:
        assert oct(modes[name].st_mode & 0o777) == "0o755" and modes[name].st_uid == os.getuid()
        for entry in os.listdir(os.path.join(parent, name)):
            info = os.lstat(os.path.join(parent, name, entry))
            expected = "0o600" if entry.endswith(".key") else "0o644"  # a private key: its owner only
            assert oct(info.st_mode & 0o777) == expected and info.st_uid == os.getuid(), entry
    assert "shop.key" in os.listdir(nginx.rules_dir)
    code, result = run_apply(spec(nginx, web, api, shop, umask=0))
    assert code == 0 and result["changed"]
    checked = 0
    for top in [n for n in os.listdir(parent) if "antman.d" in n]:
        for directory, dirs, names in os.walk(os.path.join(parent, top)):
            for path in [directory] + [os.path.join(directory, n) for n in dirs + names]:
                if not os.path.islink(path):
                    assert not os.lstat(path).st_mode & 0o022, path  # neither group nor world may write
                    assert not (path.endswith(".key") and os.lstat(path).st_mode & 0o077), path  # nor read a key
                    checked += 1
    assert checked >= 6


def test_every_command_is_an_argument_list_without_user_text(three_rules):
    nginx, ports, a, b, (web, api, old) = three_rules
    commands = []

    def recording_run(args):
        commands.append(args)
        from ansible_collections.antsle.antman.tests.support.harness import run_command
        return run_command(args)
    applier = nginx.applier(run=recording_run)
    new = normalize_rule(raw_rule("new", ports["new"], b))
    applier.run(lambda snapshot: {"new": new})
    assert commands, "nothing was run"
    allowed = [[nginx.binary, "-V"], [nginx.binary, "-t", "-q", "-c", nginx.conf],
               [nginx.binary, "-c", nginx.conf, "-s", "reload"]]
    for command in commands:
        assert isinstance(command, list) and all(isinstance(part, str) for part in command), command
        assert command in allowed, command
