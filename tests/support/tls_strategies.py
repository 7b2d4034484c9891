"""Hypothesis strategies for the ``tls`` field of http rules, valid and hostile, and a reference
reading of accepted ``tls`` values.

Every private key drawn here carries a secret marker (``SECRET_PREFIX`` + random letters) in its
base64 body, so a test can assert that no message, rendered file, canonical rule or module result
ever holds any of it.
"""
import hashlib
import re
import string

from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
from hypothesis import strategies as st

PROTOCOL_NAMES = ("TLSv1.2", "TLSv1.3")
DEFAULT_PROTOCOLS = list(PROTOCOL_NAMES)
SECRET_PREFIX = "KeYsEcReT"
BASE64 = string.ascii_letters + string.digits + "+/"
PATH_CHARACTERS = string.ascii_letters + string.digits + "._+@-"
TLS_KEYS = ("certificate", "key", "certificate_content", "key_content", "certificate_sha256", "key_sha256",
            "acme", "acme_dir", "protocols", "hsts")
FORMS = {"paths": ("certificate", "key"), "content": ("certificate_content", "key_content"),
         "digests": ("certificate_sha256", "key_sha256"), "acme": ("acme", "acme_dir")}
# Fields that go with every form.
COMMON = ("protocols", "hsts")
DEFAULT_ACME_DIR = "/var/lib/antman/acme"
MAX_HSTS = 126144000  # four years
ACME_TRUE = st.sampled_from([True, "yes", "true", "on", "1", 1, "True", "YES"])


def sha256_hex(text):
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# -- valid values: (raw, canonical) -----------------------------------------------------------

PATH_COMPONENT = st.text(PATH_CHARACTERS, min_size=1, max_size=24).filter(lambda c: c not in (".", ".."))
TLS_PATH = st.one_of(
    st.lists(PATH_COMPONENT, min_size=1, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.integers(2, 4096).map(lambda length: "/" + "p" * (length - 1)),  # up to the 4096 limit
)

# Raw spellings of tls.protocols: absent, None, one name, a list in any order with repeats.
PROTOCOLS = st.one_of(
    st.just((None, DEFAULT_PROTOCOLS)),
    st.sampled_from(PROTOCOL_NAMES).map(lambda p: (p, [p])),
    st.lists(st.sampled_from(PROTOCOL_NAMES), min_size=1, max_size=4).map(
        lambda items: (items, [p for p in PROTOCOL_NAMES if p in items])),
    st.lists(st.sampled_from(PROTOCOL_NAMES), min_size=1, max_size=2).map(
        lambda items: (tuple(items), [p for p in PROTOCOL_NAMES if p in items])),
)

BASE64_LINE = st.text(BASE64, min_size=1, max_size=64)
# Text a PEM file may hold around its blocks (openssl's "Bag Attributes", comments), including
# nginx syntax: content only ever goes into a file of its own, never into nginx configuration.
PEM_SURROUNDINGS = st.sampled_from([
    "", "Bag Attributes\n    localKeyID: 01 02 03\nsubject=/CN=shop.local\n", "# comment\n",
    "ssl_certificate /etc/shadow;\n", "} server { listen 81; root /; }\n", "$(id) `id` ${IFS}\n", "\r\n", " \t",
])


def pem_block(label, lines, newline):
    return "-----BEGIN %s-----%s%s%s-----END %s-----" % (label, newline, newline.join(lines), newline, label)


@st.composite
def certificate_text(draw, chain=True):
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blocks = [pem_block("CERTIFICATE", draw(st.lists(BASE64_LINE, min_size=1, max_size=4)), newline)
              for _unused in range(draw(st.integers(1, 3 if chain else 1)))]
    before, after = draw(PEM_SURROUNDINGS), draw(PEM_SURROUNDINGS)
    return before + newline.join(blocks) + newline + after


@st.composite
def key_text(draw):
    """An unencrypted PEM private key whose body holds a secret marker."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    label = draw(st.sampled_from(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]))
    secret = SECRET_PREFIX + draw(st.text(string.ascii_letters, min_size=8, max_size=8))
    lines = draw(st.lists(BASE64_LINE, max_size=3))
    lines.insert(draw(st.integers(0, len(lines))), secret)
    return draw(PEM_SURROUNDINGS) + pem_block(label, lines, newline) + newline + draw(PEM_SURROUNDINGS)


def secret_of(text):
    """The secret marker of a key drawn by ``key_text``."""
    match = re.search(SECRET_PREFIX + "[A-Za-z]{8}", text)
    return match.group(0) if match else None


HEX_DIGEST = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def tls_pair(draw, paths=TLS_PATH, certificate=certificate_text(), key=key_text(), forms=tuple(FORMS)):
    """(raw tls, canonical tls). Raw dicts may carry the other forms' keys as None, as Ansible passes
    unset suboptions."""
    form = draw(st.sampled_from(forms))
    raw, canonical = {}, {}
    if form == "paths":
        raw["certificate"], raw["key"] = draw(paths), draw(paths)
        canonical["certificate"], canonical["key"] = raw["certificate"], raw["key"]
    elif form == "content":
        raw["certificate_content"], raw["key_content"] = draw(certificate), draw(key)
        canonical["certificate_sha256"] = sha256_hex(raw["certificate_content"])
        canonical["key_sha256"] = sha256_hex(raw["key_content"])
    elif form == "acme":
        raw["acme"], canonical["acme"] = draw(ACME_TRUE), True
        canonical["acme_dir"] = DEFAULT_ACME_DIR
        if draw(st.booleans()):
            raw["acme_dir"] = canonical["acme_dir"] = draw(paths)
    else:
        raw["certificate_sha256"], raw["key_sha256"] = draw(HEX_DIGEST), draw(HEX_DIGEST)
        canonical.update(raw)
    raw_protocols, canonical["protocols"] = draw(PROTOCOLS)
    if raw_protocols is not None or draw(st.booleans()):
        raw["protocols"] = raw_protocols
    if draw(st.booleans()):
        raw["hsts"] = canonical["hsts"] = draw(st.integers(0, MAX_HSTS))
    for unset in [k for k in TLS_KEYS if k not in raw]:
        if draw(st.integers(0, 3)) == 0:
            raw[unset] = None
    return raw, canonical


# -- hostile values -----------------------------------------------------------------------

HOSTILE_PATH_WORDS = st.sampled_from([
    "relative/x.pem", "x.pem", "", "/", "//", "/etc/../shadow", "/./x", "/a/..", "/a/.", "//a", "/a//b", "/a/",
    "data:-----BEGIN CERTIFICATE-----", "engine:pkcs11:id", "/a b", "/a;b", "/a\nb", "/a\tb", "$document_root/x",
    "/a$b", "/a{b}", "~/x.pem", "/a\x00", "/caf\u00e9.pem", "/a\u2028", "/a'b", '/a"b', "/a#b", "/a\\b", "/a*",
    "/a:b", "/a%20b", "/x.pem; include /etc/shadow", "/" + "a" * 4096, "C:\\certs\\a.pem", "file:///a.pem",
])
PEM_WORDS = st.sampled_from([
    "", "PEM", "/etc/ssl/shop.pem", "-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
    "-----BEGIN CERTIFICATE-----\nAB-CD\n-----END CERTIFICATE-----", "-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----",
    "-----BEGIN CERTIFICATE-----\nAB;CD\n-----END CERTIFICATE-----", "-----BEGIN X509 CRL-----\nAA\n-----END X509 CRL-----",
    "-----begin certificate-----\nAA\n-----end certificate-----",
])
SHA_WORDS = st.sampled_from(["", "0" * 63, "0" * 65, "A" * 64, "g" * 64, "0" * 63 + "\n", " " + "0" * 64,
                             "sha256:" + "0" * 64, "0" * 32])
PROTOCOL_WORDS = st.sampled_from([
    "SSLv3", "SSLv2", "TLSv1", "TLSv1.1", "tlsv1.2", "TLSV1.3", "TLSv1.2 TLSv1.3", "TLSv1.2;", "TLSv1.2,TLSv1.3",
    " TLSv1.2", "TLSv1.4", "", "ALL", "TLSv1.2\n", [], ["TLSv1.2", "SSLv3"], ["TLSv1.2;"], {"TLSv1.2": True},
    [["TLSv1.2"]], [None], ["TLSv1.2", 1.2],
])

ACME_WORDS = st.sampled_from(["maybe", "", "true; ssl_stapling on", "letsencrypt", 2, -1, 0.5, "0", False, "no", [True]])
HSTS_WORDS = st.sampled_from([-1, MAX_HSTS + 1, 10 ** 30, "31536000; includeSubDomains", "max-age=31536000", "1y",
                              "", " ", 1.5, True, False, "0x10", "1e6", [31536000], {"max_age": 1}])


@st.composite
def non_ascii_pem(draw, make):
    """A PEM text with one character from beyond ASCII somewhere in it."""
    text = draw(make)
    character = draw(st.sampled_from(["\u00e9", "\u2028", "\u0085", "\ufeff", "\uff0b", "\u0410", "\U0001f512"]))
    position = draw(st.integers(0, len(text)))
    return text[:position] + character + text[position:]


@st.composite
def encrypted_key(draw):
    text = draw(key_text())
    return re.sub(r"(RSA |EC )?PRIVATE KEY", "ENCRYPTED PRIVATE KEY", text)


@st.composite
def certificate_with_key(draw):
    """A certificate and a private key in one text (as openssl's combined files are)."""
    return draw(certificate_text(chain=False)) + draw(key_text())


def hostile_tls_values(hostile_text, spliced, random_text, long_text, wrong_types):
    """{tls subfield: strategy of hostile values}. Takes the generic hostile strategies of
    rule_strategies (passed in to keep one definition of them)."""
    pem_common = [PEM_WORDS, random_text, long_text, wrong_types, TLS_PATH]
    return {
        "certificate": st.one_of(HOSTILE_PATH_WORDS, hostile_text(TLS_PATH)),
        "key": st.one_of(HOSTILE_PATH_WORDS, hostile_text(TLS_PATH), key_text()),
        "certificate_content": st.one_of(non_ascii_pem(certificate_text()), key_text(), certificate_with_key(),
                                         spliced(certificate_text()), *pem_common),
        "key_content": st.one_of(non_ascii_pem(key_text()), encrypted_key(), certificate_text(),
                                 spliced(key_text()), *pem_common),
        "certificate_sha256": st.one_of(SHA_WORDS, hostile_text(HEX_DIGEST)),
        "key_sha256": st.one_of(SHA_WORDS, hostile_text(HEX_DIGEST), key_text()),
        "protocols": st.one_of(PROTOCOL_WORDS, hostile_text(st.sampled_from(PROTOCOL_NAMES)),
                               st.lists(st.one_of(PROTOCOL_WORDS, hostile_text(st.sampled_from(PROTOCOL_NAMES))),
                                        min_size=1, max_size=3)),
        "acme": st.one_of(ACME_WORDS, hostile_text(st.just("true")), wrong_types),
        "acme_dir": st.one_of(HOSTILE_PATH_WORDS, hostile_text(TLS_PATH)),
        "hsts": st.one_of(HSTS_WORDS, hostile_text(st.integers(0, MAX_HSTS).map(str)), wrong_types),
    }


@st.composite
def hostile_tls(draw, subfields, wrong_types, random_text):
    """A tls value with something wrong (or surprising) about it, as a whole or in one subfield."""
    raw, _unused = draw(tls_pair())
    raw = dict((k, v) for k, v in raw.items() if v is not None)
    change = draw(st.sampled_from(["subfield", "subfield", "subfield", "unknown key", "half a form", "two forms",
                                   "nothing", "whole"]))
    if change == "subfield":
        key = draw(st.sampled_from(sorted(subfields)))
        raw[key] = draw(subfields[key])
    elif change == "unknown key":
        key = draw(st.sampled_from(["ciphers", "ssl_certificate", "Certificate", "key_contents", "password", "",
                                    "protocols ", "include"]))
        raw[key] = draw(st.one_of(random_text, key_text(), st.just("/etc/shadow")))
    elif change == "half a form":
        form = [k for k in raw if k not in COMMON]
        del raw[draw(st.sampled_from(form))]
    elif change == "two forms":
        other, _unused = draw(tls_pair())
        raw.update((k, v) for k, v in other.items() if v is not None and k not in COMMON)
    elif change == "nothing":
        raw = dict((k, v) for k, v in raw.items() if k in COMMON)
    else:
        return draw(st.one_of(wrong_types, random_text, key_text(), certificate_text(), st.just([])))
    return raw


# -- a reference reading of tls values the model accepted ---------------------------------------

def reference_pem(raw, label):
    """What an accepted PEM text must be: ASCII text holding a BEGIN line and an END line of its
    kind with only base64 and whitespace between them (other text around is allowed); a
    certificate holds no private key. Its canonical value: the sha256 of the text."""
    assert isinstance(raw, str) and raw.isascii(), "accepted PEM that is not ASCII text %r" % (raw,)
    bodies = re.findall(r"-----BEGIN %s-----([^-]*)-----END %s-----" % (label, label), raw)
    assert any(set(body) <= set(BASE64 + "=\r\n\t\x0b\x0c ") for body in bodies), "accepted %r" % (raw,)
    if label == "CERTIFICATE":
        assert "PRIVATE KEY" not in raw, "accepted a certificate with a private key in it"
    return sha256_hex(raw)


def reference_path(raw):
    assert isinstance(raw, str) and raw.startswith("/") and 1 < len(raw) <= 4096, raw
    parts = raw[1:].split("/")
    assert all(p and p not in (".", "..") and set(p) <= set(PATH_CHARACTERS) for p in parts), raw
    return raw


def reference_bool(raw):
    """True or False for a spelling Ansible reads as a boolean, else None."""
    key = raw.lower() if isinstance(raw, str) else raw
    if isinstance(key, float) or isinstance(key, (list, dict)):
        return None
    if key in BOOLEANS_TRUE:
        return True
    if key in BOOLEANS_FALSE:
        return False
    return None


def reference_int(raw, minimum, maximum):
    """The integer of an accepted integer spelling (int, integral float, decimal string), in range."""
    assert not isinstance(raw, bool), raw
    if isinstance(raw, float):
        assert raw.is_integer(), raw
    value = int(raw.strip()) if isinstance(raw, str) else int(raw)
    if isinstance(raw, str):
        assert re.match(r"\A-?[0-9]+\Z", raw.strip()), raw
    assert minimum <= value <= maximum, raw
    return value


def reference_tls(raw):
    """The canonical tls an accepted raw tls must give."""
    assert isinstance(raw, dict), raw
    given = dict((k, v) for k, v in raw.items() if v is not None)
    assert set(given) <= set(TLS_KEYS), raw
    form = set(given) - set(COMMON)
    if "acme" in given:
        acme = reference_bool(given["acme"])
        assert acme is not None, "accepted acme %r" % (given["acme"],)
        if not acme:
            form.discard("acme")
            assert "acme_dir" not in form, "accepted acme_dir without acme"
    canonical = {}
    if form == set(FORMS["paths"]):
        canonical = {"certificate": reference_path(given["certificate"]), "key": reference_path(given["key"])}
    elif form == set(FORMS["content"]):
        canonical = {"certificate_sha256": reference_pem(given["certificate_content"], "CERTIFICATE"),
                     "key_sha256": reference_pem(given["key_content"], "(?:RSA |EC )?PRIVATE KEY")}
    elif "acme" in form:
        assert form <= set(FORMS["acme"]), "accepted tls with keys %s" % sorted(form)
        canonical = {"acme": True, "acme_dir": reference_path(given.get("acme_dir", DEFAULT_ACME_DIR))}
    else:
        assert form == set(FORMS["digests"]), "accepted tls with keys %s" % sorted(form)
        for key in FORMS["digests"]:
            assert re.match(r"\A[0-9a-f]{64}\Z", given[key]), given[key]
            canonical[key] = given[key]
    protocols = given.get("protocols", DEFAULT_PROTOCOLS)
    items = [protocols] if isinstance(protocols, str) else list(protocols)
    assert items and all(item in PROTOCOL_NAMES for item in items), protocols
    canonical["protocols"] = [p for p in PROTOCOL_NAMES if p in items]
    if "hsts" in given:
        canonical["hsts"] = reference_int(given["hsts"], 0, MAX_HSTS)
    return canonical
