# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base part of the load_balancer role's apply module (``antsle.antman.__load_balancer.lb_host_apply``,
its option ``base``; the module ``lb_base_config`` before it): the files nginx needs for
the rules, outside the rules directory (the role's drop-in and stream context, a served ACME
certificate, include lines in nginx.conf, the distribution's default site link removed), applied as
one transaction like a rule change. Every path is checked with the collection's path grammar.

Log files (``logs``) are created empty, with the owner and mode asked, where missing, before nginx
first opens them (nginx would create them 0644 root); they are not configuration, so a refused change
leaves an empty one behind, and an existing one is left as it is (logrotate recreates it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re

from ansible_collections.antsle.antman.plugins.module_utils.host.files import ABSENT, FILE, LINK, FileChange, FileState
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_path, show
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options, transaction
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_edit import (
    CONTEXTS, EditError, check_include_path, with_include)
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import path_matches

MODULE_KWARGS = {}
MODE_RE = re.compile(r"\A0?[0-7]{3}\Z")
CREATED, UPDATED, REMOVED = "created", "updated", "removed"


def argument_spec():
    spec = host_options()
    spec.update(apply_options())
    spec.update(
        files=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True),
            mode=dict(type="str", default="0644"),
        )),
        links=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="path", required=True),
            target=dict(type="path", required=True),
        )),
        logs=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="path", required=True),
            owner=dict(type="str", required=True),
            group=dict(type="str", required=True),
            mode=dict(type="str", default="0640"),
        )),
        remove_links=dict(type="list", elements="path", default=[]),
        includes=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="str", required=True),
            context=dict(type="str", default="http", choices=list(CONTEXTS)),
        )),
    )
    return spec


class BaseRequest:
    """The module's options, validated before anything is read or written."""

    def __init__(self, params):
        problems = []

        def path(where, value):
            try:
                return parse_path(value)
            except FieldError as error:
                problems.append("%s: %s" % (where, error))
                return value

        self.files = []
        for index, item in enumerate(params["files"]):
            file_path, mode = path("files[%d].path" % index, item["path"]), item["mode"]
            if not MODE_RE.match(mode or ""):
                problems.append("files[%d].mode: %s is not an octal file mode such as 0644" % (index, show(mode)))
                continue
            self.files.append((file_path, item["content"].encode("utf-8"), int(mode, 8)))
        self.logs = []
        for index, item in enumerate(params["logs"]):
            where = "logs[%d]" % index
            log_path = path(where + ".path", item["path"])
            if not MODE_RE.match(item["mode"] or ""):
                problems.append("%s.mode: %s is not an octal file mode such as 0640" % (where, show(item["mode"])))
                continue
            try:
                uid = pwd.getpwnam(item["owner"]).pw_uid
            except KeyError:
                problems.append("%s.owner: no user %s on this host" % (where, show(item["owner"])))
                continue
            try:
                gid = grp.getgrnam(item["group"]).gr_gid
            except KeyError:
                problems.append("%s.group: no group %s on this host" % (where, show(item["group"])))
                continue
            self.logs.append((log_path, uid, gid, int(item["mode"], 8)))
        self.links = [(path("links[%d].path" % index, item["path"]), path("links[%d].target" % index, item["target"]))
                      for index, item in enumerate(params["links"])]
        self.remove_links = [path("remove_links[%d]" % index, value) for index, value in enumerate(params["remove_links"])]
        self.includes = []
        for index, item in enumerate(params["includes"]):
            try:
                self.includes.append((item["context"], check_include_path(item["path"])))
            except EditError as error:
                problems.append("includes[%d].path: %s" % (index, error))
        paths = ([item["path"] for item in params["files"]] + [item["path"] for item in params["links"]]
                 + list(params["remove_links"]))
        for path in sorted(set(p for p in paths if paths.count(p) > 1)):
            problems.append("%s is listed more than once" % show(path))
        if params["nginx_conf"] in paths:
            problems.append("%s is nginx's main configuration file: it is only ever given include lines (includes)"
                            % show(params["nginx_conf"]))
        if problems:
            raise RuleError(problems)


def included(scan, context, path):
    """Whether the host's configuration already includes ``path`` in ``context`` (a glob counts)."""
    where = () if context == "main" else (context,)
    return any(pattern == path or path_matches(path, pattern) for place, pattern in scan.includes if place == where)


def plan(request, view, scan, conf):
    """The FileChanges that give the host the requested base configuration."""
    changes, problems = [], []
    for path, data, mode in request.files:
        before = view(path)
        if before.kind == LINK:
            problems.append("%s is a symbolic link; the collection writes a file there only where there is none "
                            "or a regular file (remove the link, or choose another path)" % path)
            continue
        after = FileState(path, FILE, data, mode)
        if not before.same_as(after):
            changes.append(FileChange(before, after, UPDATED if before.kind == FILE else CREATED))
    for path, target in request.links:
        before = view(path)
        if before.kind == FILE:
            problems.append("%s is a regular file, not a link: it is not replaced by a link to %s" % (path, target))
            continue
        after = FileState(path, LINK, target=target)
        if not before.same_as(after):
            changes.append(FileChange(before, after, UPDATED if before.kind == LINK else CREATED))
    for path in request.remove_links:
        before = view(path)
        if before.kind == FILE:
            problems.append("%s is a regular file, not a link: it is not removed (move it away yourself)" % path)
        elif before.kind == LINK:
            changes.append(FileChange(before, FileState(path, ABSENT), REMOVED))
    missing = [(context, path) for context, path in request.includes if not included(scan, context, path)]
    if missing:
        before = view(conf)
        text = before.data.decode("utf-8", "surrogateescape")
        try:
            for context, path in missing:
                text = with_include(text, context, path, conf)
        except EditError as error:
            problems.append(str(error))
        else:
            after = FileState(conf, FILE, text.encode("utf-8", "surrogateescape"), before.mode)
            changes.append(FileChange(before, after, UPDATED))
    if problems:
        raise RuleError(problems)
    return changes


def create_logs(logs, check_mode):
    """The missing ones of ``logs`` created empty with their owner and mode (in check mode only
    named). Returns the paths created."""
    created = []
    for log_path, uid, gid, mode in logs:
        if os.path.lexists(log_path):
            continue
        created.append(log_path)
        if check_mode:
            continue
        try:
            descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            try:
                os.fchown(descriptor, uid, gid)
                os.fchmod(descriptor, mode)  # not through the umask
            finally:
                os.close(descriptor)
        except OSError as error:
            raise RuleError(["logs: cannot create %s: %s" % (log_path, error.strerror or error)])
    return created


def run(module):
    request = BaseRequest(module.params)
    applier = transaction(module, rules_included=False)
    conf = os.path.abspath(module.params["nginx_conf"])
    logs = create_logs(request.logs, module.check_mode)
    outcome = applier.run_files(lambda view: plan(request, view, applier.host.scan, conf))
    result = dict(changed=outcome.changed or bool(logs),
                  changes=[dict(path=log, action=CREATED) for log in logs] + [change.as_dict() for change in outcome.changes],
                  reloaded=outcome.reloaded)
    if module._diff and outcome.changes:
        result["diff"] = [change.diff() for change in outcome.changes]
    return result
