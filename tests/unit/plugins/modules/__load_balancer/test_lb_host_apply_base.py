"""The load_balancer role's lb_host_apply, its base part on a fake host: files, include lines and links as one
validated change."""
import grp
import os
import pwd


DROPIN = "# the drop-in\nlog_format x '$host';\n"


def tree(root):
    result = {}
    for directory, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            result[os.path.relpath(path, root)] = os.readlink(path) if os.path.islink(path) else open(path, "rb").read()
    return result


def args(host, **extra):
    dropin_dir = os.path.join(host.root, "conf.d")
    if not os.path.isdir(dropin_dir):
        os.mkdir(dropin_dir)
    params = host.params(files=[{"path": os.path.join(dropin_dir, "antman.conf"), "content": DROPIN}],
                         includes=[{"path": os.path.join(dropin_dir, "*.conf"), "context": "http"},
                                   {"path": os.path.join(host.root, "stream.conf"), "context": "main"}])
    params.update(extra)
    return params


def test_creates_adds_includes_is_idempotent_and_check_mode_predicts(host, run_part):
    with open(host.conf, "ab") as handle:
        handle.write(b"# \xe9crit \xe0 la main\n")  # a Latin-1 comment: nginx accepts it, so must we
    with open(os.path.join(host.root, "stream.conf"), "w") as handle:
        handle.write("stream { }\n")
    before = tree(host.root)
    failed, predicted = run_part("base", args(host), check_mode=True, diff=True)
    assert not failed and predicted["changed"] and tree(host.root) == before
    failed, result = run_part("base", args(host), diff=True)
    assert not failed and result["changed"] and result["reloaded"] and len(host.reloads) == 1
    assert result["changes"] == predicted["changes"] == [
        {"path": os.path.join(host.root, "conf.d", "antman.conf"), "action": "created"},
        {"path": host.conf, "action": "updated"}]
    assert result["diff"] == predicted["diff"]
    conf = open(host.conf, "rb").read()
    assert conf.count(b"# added by antsle.antman") == 2 and b"\xe9crit" in conf
    added = [line for line in result["diff"][1]["after"].splitlines() if line not in result["diff"][1]["before"].splitlines()]
    assert added == ["    include %s/conf.d/*.conf;  # added by antsle.antman" % host.root,
                     "include %s/stream.conf;  # added by antsle.antman" % host.root]
    failed, again = run_part("base", args(host), check_mode=True)
    assert not again["changed"]
    failed, again = run_part("base", args(host))
    assert not again["changed"] and again["changes"] == [] and len(host.reloads) == 1


def test_a_refused_change_puts_every_file_back(host, run_part):
    os.symlink("/usr/share/nginx/default", os.path.join(host.root, "default-site"))
    before = tree(host.root)
    host.make_nginx_t_fail("nginx: [emerg] unknown directive in %s/conf.d/antman.conf:2" % host.root,
                           when_exists=os.path.join(host.root, "conf.d", "antman.conf"))
    failed, result = run_part("base", args(host, remove_links=[os.path.join(host.root, "default-site")]))
    assert failed and "every file was restored" in result["msg"] and "unknown directive" in result["msg"]
    after = tree(host.root)
    for made in ("nginx-t-fails", "nginx-t-fails-when", ".antman.d.lock"):  # the test's markers; the lock stays, empty
        after.pop(made)
    assert after == before and host.reloads == []


def test_a_configuration_nginx_already_rejects_is_refused_before_anything_is_touched(host, run_part):
    """The host's own nginx.conf is broken: nothing is written, nginx's words are in the message (check mode too)."""
    host.make_nginx_t_fail("nginx: [emerg] unknown directive \"gzip_of\" in %s:3" % host.conf)
    before = tree(host.root)
    for check_mode in (True, False):
        failed, result = run_part("base", args(host), check_mode=check_mode)
        assert failed and "invalid before any change" in result["msg"] and "nothing was touched" in result["msg"]
        assert 'unknown directive "gzip_of"' in result["msg"] and "gzip_of" in result["nginx_output"]
        after = tree(host.root)
        after.pop(".antman.d.lock", None)  # the lock file stays, empty
        assert after == before and host.reloads == []


def test_links_made_and_removed_regular_files_never_removed(host, run_part):
    site = os.path.join(host.root, "default")
    with open(site, "w") as handle:
        handle.write("server { listen 80 default_server; }\n")
    failed, result = run_part("base", host.params(remove_links=[site]))
    assert failed and "is a regular file, not a link: it is not removed" in result["msg"] and os.path.isfile(site)
    link = os.path.join(host.root, "50-mod-stream.conf")
    failed, result = run_part("base", host.params(links=[{"path": link, "target": "/usr/share/x.conf"}]))
    assert not failed and result["changed"] and os.readlink(link) == "/usr/share/x.conf"
    failed, result = run_part("base", host.params(links=[{"path": link, "target": "/usr/share/x.conf"}]))
    assert not result["changed"]


def test_bad_input_is_refused_before_anything_naming_the_field(host, run_part):
    before = tree(host.root)
    failed, result = run_part("base", host.params(
        files=[{"path": "/etc/nginx/conf.d/../x.conf", "content": "", "mode": "0644"},
               {"path": host.conf, "content": "", "mode": "rw"}],
        includes=[{"path": "/x.conf; evil", "context": "http"}]))
    assert failed
    for expected in ("files[0].path", "files[1].mode: \"rw\"", "includes[0].path", "nginx's main configuration file"):
        assert expected in result["msg"], expected
    assert tree(host.root) == before


def test_a_log_is_created_with_its_owner_and_mode_where_missing_and_then_left_alone(host, run_part):
    """nginx would create it 0644 owned by root; the role asks for the host's log permissions."""
    log = os.path.join(host.root, "antman_access.log")
    me = {"owner": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name}
    logs = [dict(me, path=log, mode="0640")]
    failed, predicted = run_part("base", host.params(logs=logs), check_mode=True)
    assert not failed and predicted["changed"] and predicted["changes"] == [{"path": log, "action": "created"}]
    assert not os.path.exists(log)
    failed, result = run_part("base", host.params(logs=logs))
    assert not failed and result["changes"] == predicted["changes"] and host.reloads == []
    stat = os.stat(log)
    assert stat.st_mode & 0o777 == 0o640 and (stat.st_uid, stat.st_gid) == (os.getuid(), os.getgid())
    with open(log, "a") as handle:
        handle.write("a line nginx wrote\n")
    os.chmod(log, 0o644)  # an existing log is the host's: not emptied, not changed
    failed, again = run_part("base", host.params(logs=logs))
    assert not failed and not again["changed"] and os.stat(log).st_mode & 0o777 == 0o644
    assert open(log).read() == "a line nginx wrote\n"


def test_a_log_of_an_unknown_owner_is_refused_before_anything(host, run_part):
    before = tree(host.root)
    failed, result = run_part("base", args(host, logs=[
        {"path": os.path.join(host.root, "a.log"), "owner": "no-such-user-here", "group": "root"},
        {"path": os.path.join(host.root, "b.log"), "owner": "root", "group": "root", "mode": "rw"}]))
    assert failed and 'logs[0].owner: no user "no-such-user-here"' in result["msg"] and 'logs[1].mode: "rw"' in result["msg"]
    assert tree(host.root) == before
