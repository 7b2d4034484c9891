"""The role on nginx layouts the collection did not write: Debian's package layout, RHEL's, antMan's
own and a hand-written one (tests/support/host_layouts.py), each run by a private nginx.

For each layout, the site playbook (``antsle.antman.site``, as users run it) is given only the
variables that point it at the private nginx (its binary and the paths of the host moved under the
world's prefix), no layout variables. It must: predict its first run exactly in check mode and
change nothing then; leave every pre-existing server answering as before; serve the rules; change
nothing on a second run; and refuse, before touching anything, a rule that would take a name from
a server of the host on that server's own port (default server ports included), while a rule on
such a port is served by name.
"""
import datetime
import grp
import http.client
import json
import os
import pwd
import subprocess
import sys
import time
import uuid

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health import install
from ansible_collections.antsle.antman.plugins.module_utils.health.status import read_status, status_path
from ansible_collections.antsle.antman.tests.support.harness import distribution, free_port, get, stop_master
from ansible_collections.antsle.antman.tests.support.host_layouts import LayoutWorld, health_files, site
from ansible_collections.antsle.antman.tests.support.paths import tool

APPLY_TASK = "antsle.antman.load_balancer : Apply the base configuration, the rules and the health agent, each " \
             "validated as one change"

# Per layout: the port of the host's own default server (a rule there is served by name), a name
# one of the host's servers answers on a port (a rule for it is refused, naming that file), and
# where the drop-in goes.
EXPECTED = {
    "debian": {"default_port": None, "taken": (80, "blog.example.org", "sites-enabled/blog"),
               "dropin": "/etc/nginx/conf.d/zz-antman.conf", "catch_all": [80, 9090]},
    "rhel": {"default_port": 80, "taken": (80, "app.example.com", "conf.d/app.conf"),
             "dropin": "/etc/nginx/conf.d/zz-antman.conf", "catch_all": [9090]},
    "antman": {"default_port": 8000, "taken": (80, "myantsle.local", "virtualhosts/ui.conf"),
               "dropin": "/etc/nginx/virtualhosts/zz-antman.conf", "catch_all": [9090]},
    "hand": {"default_port": 8080, "taken": (8080, "shop.example.org", "sites/shop.site"),
             "dropin": "/etc/nginx/antman.conf", "catch_all": [9090]},
}


def rules_for(world, layout):
    rules = [
        {"name": "web", "server_name": "web.test", "server_port": world.port(80),
         "upstreams": [{"address": world.antlets[110].address, "weight": 2}, {"address": world.antlets[111].address}]},
        {"name": "api", "server_name": "api.test", "server_port": world.port(9090),
         "upstreams": [{"address": world.antlets[111].address}]},
    ]
    if EXPECTED[layout]["default_port"] is not None:
        rules.append({"name": "beside", "server_name": "beside.test", "server_port": world.port(EXPECTED[layout]["default_port"]),
                      "upstreams": [{"address": world.antlets[110].address}]})
    return rules


def host_file_changes(world, diffs, dropin):
    """{file: its added and removed lines} of the diffs of files the host had (not the collection's)."""
    changes = {}
    for diff in diffs:
        lines = diff.splitlines()
        path = lines[1][len("+++ "):]
        if path.startswith(world.rules_dir) or path == world.path(dropin):
            continue
        changes[path] = [line for line in lines[2:] if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return changes


def catch_all_ports(world, dropin):
    """The logical ports the drop-in has a catch-all default_server on."""
    with open(world.path(dropin)) as handle:
        text = handle.read()
    return sorted(port for port, real in world.ports.items() if "listen %d default_server;" % real in text)


@pytest.fixture(params=sorted(EXPECTED))
def world(request):
    instance = LayoutWorld(request.param)
    instance.start()
    yield instance
    instance.stop()


def expected_answers(world, before):
    """What the pre-existing servers answer after the role: the same, except on Debian, whose
    default site the role disables by design (antman_lb_disable_default_site): its names get the
    catch-all's 421 there."""
    expected = dict(before)
    if world.layout.name == "debian":
        for key in [(80, "unknown.example"), (80, "127.0.0.1")]:
            expected[key] = (421, None)
    return expected


def same_answers(world, expected, got):
    for key, (status, body) in expected.items():
        if body is None:
            assert got[key][0] == status, (key, got[key])
        else:
            assert got[key] == (status, body), (world.layout.name, key, got[key], (status, body))


def test_the_site_playbook_fits_the_host_and_keeps_what_it_served(world, tmp_path):
    layout = world.layout.name
    expected = EXPECTED[layout]
    rules = rules_for(world, layout)
    before_answers, before_files = world.answers(), world.files()
    assert all(status for status, _body in before_answers.values()), before_answers

    check = site(world, tmp_path, rules, "--check", "--diff")
    assert check["rc"] == 0, check
    assert world.files() == before_files and world.answers() == before_answers

    first = site(world, tmp_path, rules, "--diff")
    assert first["rc"] == 0, first
    assert first["changed_tasks"] == check["changed_tasks"] == [APPLY_TASK]
    assert first["changed"] == check["changed"] == 1 and first["diffs"] == check["diffs"]
    assert first["reloads"] == 2 and check["reloads"] == 0
    # --check --diff showed exactly what is added to the host's own files: nothing, or (no include
    # glob to put the drop-in in) one include line at the end of nginx.conf's http block.
    assert host_file_changes(world, check["diffs"], expected["dropin"]) == (
        {world.conf: ["+    include %s;  # added by antsle.antman" % world.path(expected["dropin"])]}
        if layout == "hand" else {})
    assert os.path.isfile(world.path(expected["dropin"])), sorted(world.files())

    after = world.answers()
    same_answers(world, expected_answers(world, before_answers), after)
    assert distribution(world.port(80), "web.test", 30) == {"antlet110": 20, "antlet111": 10}
    assert get(world.port(9090), "api.test") == (200, "antlet111")
    assert get(world.port(9090), "unknown.example")[0] == 421
    if expected["default_port"] is not None:
        assert get(world.port(expected["default_port"]), "beside.test") == (200, "antlet110")
    # The catch-all is on the ports where no host server stays the default, and only there; the
    # role said so once.
    assert catch_all_ports(world, expected["dropin"]) == expected["catch_all"]
    notes = [note for message in first["messages"] if isinstance(message, list) for note in message]
    if expected["default_port"] is not None:
        port_note = "port %d: the host's own default_server in" % world.port(expected["default_port"])
        assert len([note for note in notes if note.startswith(port_note)]) == 1, notes

    second = site(world, tmp_path, rules)
    assert second["rc"] == 0 and second["changed"] == 0 and second["reloads"] == 0, second
    # A run that changes nothing costs as few tasks as the role has (each, run or skipped, costs a
    # worker per host: docs/benchmarks.md, fleet): run the argument check, the plan, lb_host_facts, the
    # notes and lb_host_apply; skip the HA facts, the install, what comes before and after the change
    # (one include each) and keepalived.
    recap = second["recap"]["layout-host"]
    assert (recap["ok"], recap["skipped"]) == (5, 5), recap

    # A rule for a name a host server answers on its port: refused before anything is touched.
    port, name, file_name = expected["taken"]
    files, answers = world.files(), world.answers()
    taken = rules + [{"name": "takeover", "server_name": name, "server_port": world.port(port),
                      "upstreams": [{"address": world.antlets[111].address}]}]
    refused = site(world, tmp_path, taken)
    assert refused["rc"] != 0 and refused["changed"] == 0, refused
    message = " ".join(refused["errors"])
    assert "rule 'takeover': server_name '%s'" % name in message and file_name in message, message
    assert world.files() == files and world.answers() == answers


def test_the_role_keeps_debian_s_default_site_when_told_and_serves_rules_by_name_beside_it(tmp_path):
    """antman_lb_disable_default_site: false: the default site stays port 80's default_server, the
    role adds no catch-all there and says so once; a rule on port 80 answers by name."""
    world = LayoutWorld("debian")
    world.start()
    try:
        before = world.answers()
        rules = rules_for(world, "debian")[:1]
        first = site(world, tmp_path, rules, antman_lb_disable_default_site=False)
        assert first["rc"] == 0 and first["changed_tasks"] == [APPLY_TASK], first
        assert world.answers() == before
        assert distribution(world.port(80), "web.test", 3) == {"antlet110": 2, "antlet111": 1}
        assert catch_all_ports(world, "/etc/nginx/conf.d/zz-antman.conf") == []
        notes = [note for message in first["messages"] if isinstance(message, list) for note in message]
        assert len([n for n in notes if n.startswith("port %d: the host's own default_server" % world.port(80))]) == 1
        assert os.path.islink(world.path("/etc/nginx/sites-enabled/default"))
        second = site(world, tmp_path, rules, antman_lb_disable_default_site=False)
        assert second["rc"] == 0 and second["changed"] == 0
    finally:
        world.stop()


def test_without_exclusive_the_rules_left_out_of_inventory_keep_their_port_s_catch_all(tmp_path):
    """antman_lb_exclusive: false with an inventory that lists only some rules: the others stay
    (lb_rules state=replaced), and so does the catch-all on a port only they use; unknown names
    there still get 421, not the first rule of the port."""
    world = LayoutWorld("rhel")
    world.start()
    try:
        rules = rules_for(world, "rhel")
        first = site(world, tmp_path, rules)
        assert first["rc"] == 0, first
        assert catch_all_ports(world, "/etc/nginx/conf.d/zz-antman.conf") == [9090]
        web_only = [rule for rule in rules if rule["name"] != "api"]
        partial = site(world, tmp_path, web_only, "--diff", antman_lb_exclusive=False)
        assert partial["rc"] == 0 and partial["changed"] == 0, partial
        assert catch_all_ports(world, "/etc/nginx/conf.d/zz-antman.conf") == [9090]
        assert get(world.port(9090), "api.test") == (200, "antlet111")
        assert get(world.port(9090), "unknown.example")[0] == 421
        # With antman_lb_exclusive (the default) the same inventory removes api, and its catch-all.
        exclusive = site(world, tmp_path, web_only)
        assert exclusive["rc"] == 0 and exclusive["changed"] == 1, exclusive
        assert catch_all_ports(world, "/etc/nginx/conf.d/zz-antman.conf") == []
    finally:
        world.stop()


def test_a_host_whose_nginx_conf_is_already_invalid_is_refused_before_anything_is_touched(tmp_path):
    world = LayoutWorld("antman")
    world.start()
    try:
        with open(world.path("/etc/nginx/virtualhosts/ui.conf"), "a") as handle:
            handle.write("proxy_buffering maybe;\n")  # a typo the host made, not yet reloaded
        files, answers = world.files(), world.answers()
        for args in (["--check"], []):
            refused = site(world, tmp_path, rules_for(world, "antman"), *args)
            message = " ".join(refused["errors"])
            assert refused["rc"] != 0 and refused["changed"] == 0, refused
            assert "invalid before any change" in message and "nothing was touched" in message, message
            assert 'invalid value "maybe"' in message and "ui.conf" in message, message
            assert world.files() == files and world.answers() == answers
    finally:
        world.stop()


def test_taking_over_antman_s_balanced_domain_parse_review_apply_with_overridden(tmp_path):
    """antsle.antman.take_over on a balanced domain antMan's template wrote (upstream block, server
    with proxy_connect_timeout 300 and extra headers): the review shows an applicable rule (the
    connect timeout clamped to the rules' 75s, noted) and changes nothing; applying moves nginx
    from the file to the rule in one reload, every name answering as before; the parsed rules in
    inventory then change nothing."""
    world = LayoutWorld("antman")
    world.start()
    try:
        rules = rules_for(world, "antman")[:1]
        assert site(world, tmp_path, rules)["rc"] == 0
        vhost = world.path("/etc/nginx/virtualhosts/my-balanced-page.local.conf")
        hidden = world.path("/etc/nginx/virtualhosts/.my-balanced-page.local.conf.antman-taken-over")
        files, answers = world.files(), world.answers()

        def take_over(*args):
            inventory = os.path.join(str(tmp_path), "inventory.yml")  # the one site() wrote
            proc = subprocess.run(tool("tests.support.playrun", "--", "-i", inventory, "antsle.antman.take_over",
                                       "-e", "take_over_file=%s" % vhost, *args),
                                  stdout=subprocess.PIPE, universal_newlines=True, check=True)
            return json.loads(proc.stdout)

        review = take_over()
        assert review["rc"] == 0 and review["changed"] == 0, review
        shown = [m for m in review["messages"] if isinstance(m, dict) and "rules" in m][0]
        (parsed,) = shown["rules"]
        assert parsed["name"] == "my-balanced-page" and parsed["connect_timeout"] == "75s"
        assert parsed["read_timeout"] == "300s" and [u["weight"] for u in parsed["upstreams"]] == [3, 1, 1]
        assert any("proxy_connect_timeout 300s is beyond what a rule allows (1ms-75s); imported as 75s" in note
                   for note in shown["unsupported"]), shown["unsupported"]
        assert world.files() == files

        applied = take_over("-e", "take_over_apply=true")
        assert applied["rc"] == 0 and applied["reloads"] == 1, applied
        assert not os.path.exists(vhost) and os.path.isfile(hidden)
        after = world.answers()
        # Port 80's first server is now the UI (the balanced domain's file is gone; its rule is read
        # with the collection's files): names no server has go there.
        after.pop((80, "unknown.example"))
        expected = dict(answers)
        expected.pop((80, "unknown.example"))
        assert after == expected
        assert get(world.port(80), "unknown.example") == (200, "host-app")
        with open(os.path.join(world.rules_dir, "my-balanced-page.conf")) as handle:
            assert "proxy_connect_timeout 75s;" in handle.read()

        kept = site(world, tmp_path, rules + [parsed])
        assert kept["rc"] == 0 and kept["changed"] == 0, kept
    finally:
        world.stop()


def test_a_host_that_includes_the_rules_directory_itself_keeps_that_include_and_reads_each_rule_once(tmp_path):
    """A user of the modules followed lb_rule's advice ("add 'include .../antman.d/*.conf;' inside
    http { }") and made rules; then the site playbook runs. The drop-in must not include the rules
    directory a second time (nginx: duplicate upstream), check mode predicts the run, and the
    rules keep serving."""
    world = LayoutWorld("debian")
    world.start()
    try:
        mine = rules_for(world, "debian")[:1]
        host = {"rules_dir": world.rules_dir, "nginx_conf": world.conf, "nginx_binary": world.binary}
        playbook = os.path.join(str(tmp_path), "modules.yml")
        with open(playbook, "w") as handle:
            json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
                {"antsle.antman.__load_balancer.lb_host_apply": dict(host, base={"includes": [{"path": world.rules_dir + "/*.conf"}]})},
                {"antsle.antman.lb_rule": dict(mine[0], **host)}]}], handle)
        outside = subprocess.run(tool("tests.support.playrun", "--", "-i", "localhost,", "-c", "local", "-e",
                                      "ansible_python_interpreter=%s" % sys.executable, playbook),
                                 stdout=subprocess.PIPE, universal_newlines=True, check=True)
        assert json.loads(outside.stdout)["rc"] == 0, outside.stdout
        assert distribution(world.port(80), "web.test", 3) == {"antlet110": 2, "antlet111": 1}

        check = site(world, tmp_path, mine, "--check", "--diff")
        first = site(world, tmp_path, mine, "--diff")
        assert check["rc"] == 0 and first["rc"] == 0, first
        assert first["changed_tasks"] == check["changed_tasks"] == [APPLY_TASK] and first["diffs"] == check["diffs"]
        with open(world.path("/etc/nginx/conf.d/zz-antman.conf")) as handle:
            dropin = handle.read()
        assert "include %s/*.conf;" % world.rules_dir not in dropin
        assert "are included by the host's own configuration" in dropin
        assert distribution(world.port(80), "web.test", 3) == {"antlet110": 2, "antlet111": 1}
        assert get(world.port(80), "unknown.example")[0] == 421
        notes = [note for message in first["messages"] if isinstance(message, list) for note in message]
        assert any(note.startswith("the host's configuration includes the rules directory itself") for note in notes)
        second = site(world, tmp_path, mine)
        assert second["rc"] == 0 and second["changed"] == 0, second
    finally:
        world.stop()


ACME_REPORT = ("antsle.antman.load_balancer : Report the ACME certificates that would be issued or renewed (check "
               "mode, the CA is not contacted)")
STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"


def issued_certificate(world, names, directory):
    """What an earlier run left for the ACME rule shop: its key, the certificate the CA issued for
    ``names`` (served as well) and the record of the ``directory`` that issued it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    acme = world.path("/var/lib/antman/acme")
    for sub in ("private", "issued", "certs", "challenge/.well-known/acme-challenge"):
        os.makedirs(os.path.join(acme, sub), exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(acme, "private", "shop.key"), "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=89))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
                   .sign(key, hashes.SHA256()))
    for sub in ("issued", "certs"):
        with open(os.path.join(acme, sub, "shop.pem"), "wb") as handle:
            handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(acme, "issued", "shop.directory"), "w") as handle:
        handle.write(directory + "\n")
    return acme


def test_check_mode_says_an_acme_certificate_is_due_when_its_names_or_its_ca_are_not_the_rule_s(tmp_path):
    """A name added to an acme rule, or antman_lb_acme_directory switched from Let's Encrypt's staging
    CA to production: the certificate served must be replaced in this run, not at its renewal 60
    days later. Check mode (the CA is never contacted) says it would obtain it, and why; with names
    and CA as they were, nothing is due."""
    world = LayoutWorld("debian", extra_ports=(80, 443))
    world.start()
    try:
        acme = issued_certificate(world, ["shop.test"], STAGING)
        shop = {"name": "shop", "server_name": ["shop.test"], "server_port": world.port(443),
                "tls": {"acme": True}, "upstreams": [{"address": world.antlets[110].address}]}

        def due(rule, directory):
            # The system's python, with the cryptography the role installs on a host for community.crypto
            # (scripts/setup.sh; the venv's is newer than that collection supports).
            check = site(world, tmp_path, [rule], "--check", results=[ACME_REPORT], antman_lb_acme_dir=acme,
                         antman_lb_acme_email="ops@example.com", antman_lb_acme_directory=directory,
                         ansible_python_interpreter="/usr/bin/python3")
            assert check["rc"] == 0, check
            return [item["msg"] for item in check["results"][ACME_REPORT] if item["status"] != "skipped"]

        files = world.files()
        assert due(shop, STAGING) == []
        added = dict(shop, server_name=["shop.test", "www.shop.test"])
        assert due(added, STAGING) == [
            "would obtain the certificate of rule shop (shop.test, www.shop.test) from %s: its names (shop.test) are "
            "not the rule's (shop.test, www.shop.test)" % STAGING]
        assert due(shop, PRODUCTION) == [
            "would obtain the certificate of rule shop (shop.test) from %s: it was issued by %s, not by %s"
            % (PRODUCTION, STAGING, PRODUCTION)]
        assert world.files() == files
    finally:
        world.stop()


def metrics_text(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/metrics")
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8")
    finally:
        connection.close()


def test_without_systemd_the_role_runs_the_health_agent_itself_and_removes_it(tmp_path):
    """antman_lb_health where systemd does not run nginx: the role installs the agent and starts it
    (check mode predicts it, a second run changes nothing, a killed agent is started again), it serves
    /metrics on antman_lb_metrics_listen with nginx's counters from the role's status page (without
    the endpoint it is started again), and antman_lb_health: false stops it and removes its files."""
    world = LayoutWorld("debian")
    files, moved = health_files(world)
    metrics_port = free_port()
    install_task = APPLY_TASK
    try:
        world.start()
        rules = rules_for(world, "debian")
        check = site(world, tmp_path, rules, "--check", *moved, antman_lb_health=True)
        assert check["rc"] == 0 and install_task in check["changed_tasks"], check
        assert not os.path.exists(files["lib_dir"])
        first = site(world, tmp_path, rules, *moved, antman_lb_health=True,
                     antman_lb_metrics_listen="127.0.0.1:%d" % metrics_port)
        assert first["rc"] == 0 and first["changed_tasks"] == check["changed_tasks"], first
        pid = install.running_pid(files["pid_file"])
        assert pid is not None
        deadline = time.monotonic() + 15
        while not (read_status(status_path(world.rules_dir)) or {}).get("ready"):
            assert time.monotonic() < deadline, "the agent did not probe every upstream within 15 s"
            time.sleep(0.1)
        status, text = metrics_text(metrics_port)
        assert status == 200 and "antman_lb_agent_ready 1" in text.splitlines(), text
        deadline = time.monotonic() + 10  # nginx's counters are read every 5 s
        while "antman_lb_nginx_up 1" not in metrics_text(metrics_port)[1].splitlines():
            assert time.monotonic() < deadline, metrics_text(metrics_port)
            time.sleep(0.2)
        # No endpoint now: the agent's command line changed, so it is started again.
        assert site(world, tmp_path, rules, *moved, antman_lb_health=True, antman_lb_metrics_listen="")["changed_tasks"] \
            == [install_task]
        second = site(world, tmp_path, rules, *moved, antman_lb_health=True, antman_lb_metrics_listen="")
        assert second["rc"] == 0 and second["changed"] == 0, second
        pid = install.running_pid(files["pid_file"])
        install.stop(files["pid_file"])  # killed or gone: the next run starts it again
        again = site(world, tmp_path, rules, *moved, antman_lb_health=True, antman_lb_metrics_listen="")
        assert again["changed_tasks"] == [install_task] and install.running_pid(files["pid_file"]) not in (None, pid)
        removed = site(world, tmp_path, rules, *moved, antman_lb_health=False)
        assert removed["rc"] == 0 and removed["changed"] == 1, removed
        assert install.running_pid(files["pid_file"]) is None and not os.path.exists(files["lib_dir"])
        assert not os.path.exists(status_path(world.rules_dir))
        assert site(world, tmp_path, rules, *moved, antman_lb_health=False)["changed"] == 0
    finally:
        install.stop(files["pid_file"], timeout=10)
        world.stop()


def logged(path, marker):
    with open(path) as handle:
        return [line for line in handle if marker in line]


def test_a_rules_request_is_logged_once_and_the_hosts_own_servers_only_by_the_host(tmp_path):
    """Debian's nginx.conf logs every request to access.log at http level. A rule's request goes to
    the role's log only, once; the host's own server (the blog) keeps the host's log and is not in the
    role's. The role's log is created 0640 www-data:adm like the host's own (logrotate's create line)."""
    world = LayoutWorld("debian")
    try:
        world.start()
        assert site(world, tmp_path, rules_for(world, "debian"))["rc"] == 0
        role_log, host_log = world.path("/var/log/nginx/antman_access.log"), world.path("/var/log/nginx/access.log")
        stat = os.stat(role_log)
        assert (oct(stat.st_mode & 0o777), pwd.getpwuid(stat.st_uid).pw_name, grp.getgrgid(stat.st_gid).gr_name) \
            == ("0o640", "www-data", "adm")
        marker = uuid.uuid4().hex
        assert get(world.port(80), "web.test", path="/rule-" + marker)[0] == 200
        assert get(world.port(80), "blog.example.org", path="/blog-" + marker)[0] == 404  # the blog's own answer
        # nginx logs a request after its answer went out (the log phase), the role's log buffered
        # too: written within flush=1s.
        deadline = time.monotonic() + 5
        while not logged(host_log, "/blog-" + marker):
            assert time.monotonic() < deadline, "the blog's request was not logged to the host's log"
            time.sleep(0.1)
        while not logged(role_log, "/rule-" + marker):
            assert time.monotonic() < deadline, "the rule's request was not logged to the role's log"
            time.sleep(0.1)
        assert not logged(host_log, "/rule-" + marker)
        stop_master(world.master_pid(), world.workers(), grace=10)  # a stopping nginx writes every buffered line
        assert len(logged(role_log, "/rule-" + marker)) == 1
        assert not logged(role_log, "/blog-" + marker) and not logged(host_log, "/rule-" + marker)
        rule_line = logged(role_log, "/rule-" + marker)[0]
        assert '"web.test" "GET /rule-%s HTTP/1.1" 200 ' % marker in rule_line and " upstream=127.0.2.11" in rule_line
    finally:
        world.stop()
