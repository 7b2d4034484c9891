# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the role has to ask an ACME CA for a rule's certificate (``tls: {acme: true}``), and why.

A certificate is due when none was issued yet, when fewer than ``antman_lb_acme_renew_days`` remain,
when the one issued is not the one served (a run stopped between the two), when its names are not
exactly the rule's (a name added to the rule would get no certificate for up to 60 days), or when it
came from another ACME directory than the one configured now (switching from Let's Encrypt's staging
CA to production must not keep the untrusted staging certificate until renewal). The directory that
issued a certificate is recorded beside it when it is issued (``acme_files``: ``record``); a
certificate without that record (issued before it existed) is due once, so that it gets one.

What is read from the host comes from the role's tasks: community.crypto's ``x509_certificate_info``
of the issued certificate, ``stat`` checksums of the issued and served files, and the record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DNS_PREFIX = "DNS:"


def certificate_names(info):
    """The DNS names of an ``x509_certificate_info`` result, lowercase, sorted."""
    return sorted(set(name[len(DNS_PREFIX):].lower() for name in info.get("subject_alt_name") or []
                      if name.startswith(DNS_PREFIX)))


def due_reason(rule, info, issued_checksum, served_checksum, recorded_directory, directory, renew_days):
    """Why the certificate of ``rule`` (an item of ``rule_set_facts``' ``acme``: name, server_name,
    files) must be obtained now, or None. ``info``: x509_certificate_info of the issued file (failed
    when there is none); ``recorded_directory``: the record's text, None when there is no record."""
    if info.get("failed") or "valid_at" not in info:  # the task reads it with failed_when: false
        return "no certificate was issued yet"
    if not (info.get("valid_at") or {}).get("renew", False):
        return "fewer than %s days of validity remain" % renew_days
    if issued_checksum != served_checksum:
        return "the issued certificate is not the one served"
    have, want = certificate_names(info), sorted(set(name.lower() for name in rule["server_name"]))
    if have != want:
        return "its names (%s) are not the rule's (%s)" % (", ".join(have) or "none", ", ".join(want))
    if recorded_directory is None:
        return "the ACME directory that issued it is not recorded"
    if recorded_directory.strip() != directory:
        return "it was issued by %s, not by %s" % (recorded_directory.strip(), directory)
    return None


def due_certificates(rules, infos, checksums, records, directory, renew_days):
    """The items of ``rules`` whose certificate is due, each with its ``reason``.

    ``infos``: {rule name: x509_certificate_info result}; ``checksums``: {path: sha256 or ''};
    ``records``: {rule name: recorded directory, or None}."""
    due = []
    for rule in rules:
        reason = due_reason(rule, infos.get(rule["name"], {"failed": True}), checksums.get(rule["issued"], ""),
                            checksums.get(rule["certificate"], ""), records.get(rule["name"]), directory, renew_days)
        if reason is not None:
            due.append(dict(rule, reason=reason))
    return due
