# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``tls`` field of an http rule: HTTPS termination. Its options and forms are in the schema
(``schema.TLS_FIELDS``, ``TLS_FORMS``), read by ``options.read_options``; this module keeps the
key material out of the canonical rule and knows where a rule's certificate files are.

The forms:
- paths of a certificate and key already on the host (``certificate``, ``key``);
- their content (``certificate_content``, ``key_content``), which the collection writes beside
  the rule's file as ``<name>.crt`` and ``<name>.key`` (mode 0600), in the same atomic switch;
- the canonical form of content (``certificate_sha256``, ``key_sha256``), as rules are read back:
  the files already on the host are kept if they have these digests;
- ``acme: true`` (with ``acme_dir``): a certificate an ACME CA issues, which the role obtains and
  renews; its files live at fixed places under ``acme_dir`` (``acme_files``).
Besides the form: ``protocols`` (default TLSv1.2, TLSv1.3) and ``hsts`` (only when given).
The canonical rule never holds key material, only digests, so keys never reach rule files,
diffs or module results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, show

# Where the HTTP-01 challenge files are served from: nginx maps /.well-known/acme-challenge/TOKEN
# to <acme_dir>/challenge/.well-known/acme-challenge/TOKEN.
CHALLENGE_PATH = "/.well-known/acme-challenge/"


class TlsContent:
    """Certificate and key bytes to be written beside a rule's file."""

    def __init__(self, certificate, key):
        self.certificate = certificate
        self.key = key


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def split_content(tls):
    """(canonical tls, TlsContent or None) of a tls value as the schema reads it: content given
    (bytes) is replaced by its digests, in their place, and returned beside."""
    if "certificate_content" not in tls or "key_content" not in tls:
        return tls, None
    content = TlsContent(tls["certificate_content"], tls["key_content"])
    canonical = OrderedDict([("certificate_sha256", sha256(content.certificate)), ("key_sha256", sha256(content.key))])
    canonical.update((key, value) for key, value in tls.items() if key not in ("certificate_content", "key_content"))
    return canonical, content


def companion_names(name):
    """File names of a rule's certificate and key, written from content."""
    return "%s.crt" % name, "%s.key" % name


def holds_content(rule):
    tls = rule.get("tls")
    return bool(tls) and "certificate_sha256" in tls


def is_acme(rule):
    tls = rule.get("tls")
    return bool(tls) and bool(tls.get("acme"))


def acme_files(rule):
    """The files of an acme rule under its ``acme_dir``: what nginx serves (``certificate``, ``key``),
    where the CA's certificate is stored before it is served (``issued``: a failed renewal never
    touches the served one), the ACME directory that issued it (``record``, see ``model/acme.py``)
    and where challenge files go (``challenge_root``, nginx's ``root``)."""
    base = rule["tls"]["acme_dir"]
    name = rule["name"]
    return OrderedDict([
        ("certificate", "%s/certs/%s.pem" % (base, name)),
        ("key", "%s/private/%s.key" % (base, name)),
        ("issued", "%s/issued/%s.pem" % (base, name)),
        ("record", "%s/issued/%s.directory" % (base, name)),
        ("challenge_root", "%s/challenge" % base),
    ])


# The directories of an acme_dir and their modes: 0711 lets nginx's workers pass through to
# challenge/ while nobody but root lists or reads the rest; keys (private/) and the CA's certificates
# before they are served (issued/) are root's alone.
ACME_DIRECTORIES = (("", "0711"), ("/private", "0700"), ("/issued", "0700"), ("/certs", "0755"),
                    ("/challenge", "0755"), ("/challenge/.well-known", "0755"),
                    ("/challenge" + CHALLENGE_PATH.rstrip("/"), "0755"))
ACCOUNT_DIRECTORIES = ACME_DIRECTORIES[:2]
# An HTTP-01 token is base64url (RFC 8555, section 8.3): nothing else may become a file name.
TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{1,256}\Z")


def acme_account_key(account_dir):
    """The ACME account's key: one account per host, under the role's ``antman_lb_acme_dir``."""
    return "%s/private/account.key" % account_dir


def acme_directories(rule_dirs, account_dir):
    """[(path, mode)] of every directory the ACME files need, parents first: the whole layout of
    each ``acme_dir`` a rule uses (the role's default, or the rule's own ``tls.acme_dir``), and
    the account key's directory."""
    wanted = OrderedDict()
    for base, layout in [(base, ACME_DIRECTORIES) for base in rule_dirs] + [(account_dir, ACCOUNT_DIRECTORIES)]:
        for suffix, mode in layout:
            wanted.setdefault(base + suffix, mode)
    return list(wanted.items())


def acme_challenge_file(challenge_root, resource):
    """Where the HTTP-01 challenge file of ``resource`` (community.crypto's ``challenge_data``:
    ``.well-known/acme-challenge/TOKEN``, from the CA's answer) goes under a rule's
    ``challenge_root`` (``acme_files``), the root nginx serves ``CHALLENGE_PATH`` from. FieldError
    for anything but a token in that path: the CA's answer never names another file."""
    prefix = CHALLENGE_PATH.lstrip("/")
    token = resource[len(prefix):] if isinstance(resource, str) and resource.startswith(prefix) else None
    if token is None or not TOKEN_RE.match(token):
        raise FieldError("%s is not an HTTP-01 challenge resource (%sTOKEN)" % (show(resource), prefix))
    return "%s/%s%s" % (challenge_root, prefix, token)
