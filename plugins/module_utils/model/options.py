# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw input read through the schema (``schema.py``), and edits merged over what exists.

``read_options`` reads a mapping of fields (a rule, its ``tls``, its ``rate_limit``, one upstream),
``read_value`` one field's value: through the field's grammar, or for a field with options as a
mapping, or a list of mappings (``upstreams``). What the schema says is applied here and only here:
fields of other protocols are refused, fields left out take the defaults of the rule's protocol
(in a mapping with a ``kind_option``, such as ``health_check``, of its kind: ``type``),
``required``/``needed`` fields must be given, a mapping is given in exactly one of its forms, and
the items of a list differ in their ``unique`` option. Every problem is collected, named by its
path (``upstreams[1].weight``, ``tls.key``), with the value shown by ``show``.

``merge_value`` is the ``merged`` state's view of a field: options not given keep their value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, show
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import PROTOCOLS


def path_of(path, key):
    return "%s.%s" % (path, key) if path else key


def prefix(path):
    return path + ": " if path else ""


def read_options(fields, raw, path, protocol, expected="a mapping", forms=(), basis="protocol"):
    """(canonical OrderedDict in the fields' order, or None if ``raw`` is no mapping; problems).
    ``protocol`` decides which fields apply; ``basis`` names what it is in messages (a check's ``type``)."""
    if not isinstance(raw, dict):
        return None, ["%s%s is a %s, expected %s" % (prefix(path), show(raw), type(raw).__name__, expected)]
    known = dict((field.name, field) for field in fields)
    problems = ["%sunsupported field %s" % (prefix(path), show(key)) for key in raw if key not in known]
    skipped = ()
    if forms:
        form, form_problems = choose_form(forms, known, raw, path)
        problems.extend(form_problems)
        skipped = set(key for other in forms for key in other.keys) - set(form.keys if form else ())
    value = OrderedDict()
    for field in fields:
        given = raw.get(field.name)
        where = path_of(path, field.name)
        if field.name in skipped:
            continue
        if not field.applies_to(protocol):
            if given is not None:
                problems.append("%s: does not apply to %s %s" % (where, basis, protocol))
            continue
        if given is None:
            if field.required or field.needed:
                problems.append("%s: missing%s" % (where, ", " + field.needed if isinstance(field.needed, str) else ""))
            elif field.has_default_for(protocol):
                value[field.name] = copy.deepcopy(field.default_for(protocol))
            continue
        parsed, field_problems = read_value(field, given, where, protocol)
        problems.extend(field_problems)
        if not field_problems:
            value[field.name] = parsed
    return value, problems


def read_value(field, raw, where, protocol):
    """(canonical value, problems) of one field given ``raw`` (not None)."""
    if field.options and field.type == "list":
        return read_items(field, raw, where, protocol)
    if field.options and field.kind_option:
        return read_options(field.options, raw, where, kind_of(field, raw, protocol), field.expected, field.forms,
                            basis=field.kind_option)
    if field.options:
        return read_options(field.options, raw, where, protocol, field.expected, field.forms)
    try:
        return field.parse(raw), []
    except FieldError as error:
        text = str(error)
        # an item of a list is named as server_name[1]: ...
        joined = text if field.type == "list" and text.startswith("[") and "]: " in text else ": " + text
        return None, [where + joined]


def kind_of(field, raw, protocol):
    """The kind a mapping of ``field`` is read as: its ``kind_option`` when given and valid (a bad one
    is named when the option is read), else the rule's ``protocol``."""
    option = dict((option.name, option) for option in field.options)[field.kind_option]
    if isinstance(raw, dict) and raw.get(field.kind_option) is not None:
        try:
            return option.parse(raw[field.kind_option])
        except FieldError:
            pass
    return protocol


def read_items(field, raw, where, protocol):
    """A list of mappings (``upstreams``): each item read, and none ``unique`` like an earlier one."""
    if not isinstance(raw, (list, tuple)):
        return [], ["%s: %s is a %s, expected %s" % (where, show(raw), type(raw).__name__, field.expected)]
    if not raw:
        return [], ["%s: the list is empty%s" % (where, ", " + field.needed if isinstance(field.needed, str) else "")]
    if field.max_items and len(raw) > field.max_items:
        return [], ["%s: %d %s, at most %d are supported" % (where, len(raw), field.name, field.max_items)]
    items, problems, seen = [], [], {}
    for index, item in enumerate(raw):
        item_where = "%s[%d]" % (where, index)
        value, item_problems = read_options(field.options, item, item_where, protocol, field.item_expected)
        problems.extend(item_problems)
        if item_problems:
            continue
        if field.unique:
            identity = value[field.unique]
            if identity in seen:
                problems.append("%s.%s: %s duplicates %s[%d] (%s)" % (
                    item_where, field.unique, show(item.get(field.unique)), where, seen[identity], identity))
            seen[identity] = index
        items.append(value)
    return items, problems


def choose_form(forms, known, raw, path):
    """(the form ``raw`` gives, or None; problems). A selector given as false counts as not given,
    and so do the optional fields of its form then (refused by name)."""
    given = set(key for form in forms for key in form.keys if raw.get(key) is not None)
    problems = []
    for form in forms:
        if form.selector in given:
            try:
                selected = known[form.selector].parse(raw[form.selector])
            except FieldError as error:
                return None, ["%s: %s" % (path_of(path, form.selector), error)]
            if not selected:
                given.discard(form.selector)
        if form.selector and form.selector not in given:
            for key in form.optional:
                if key in given:
                    problems.append("%s: %s is given without %s" % (path_of(path, key), show(raw[key]), form.text))
                    given.discard(key)
    for form in forms:
        if set(form.fields) <= given <= set(form.keys):
            return form, problems
    in_forms = set(key for form in forms for key in form.keys)
    named = sorted(given | set(key for key in known if key not in in_forms and raw.get(key) is not None))
    alternatives = ", or ".join(form.text for form in forms if form.text)
    problems.append("%sgive %s (given: %s)" % (prefix(path), alternatives, ", ".join(named) if named else "nothing"))
    return None, problems


def merge_value(field, current, raw, by_key=True):
    """``raw`` (not None) merged over the ``current`` value of ``field``: a mapping keeps the
    options ``raw`` does not give (a new form replaces the current one), a list of mappings with a
    ``unique`` option keeps the items ``raw`` does not mention and updates those it does
    (``by_key``; else ``raw`` is the list). Anything else is replaced. The result is raw input.
    A new kind (``kind_option``) drops the options of the old one (an http check's path)."""
    if field.options and field.type == "dict" and isinstance(current, dict) and isinstance(raw, dict):
        given = OrderedDict((key, value) for key, value in raw.items() if value is not None)
        in_forms = set(key for form in field.forms for key in form.keys)
        of_one_kind = set(option.name for option in field.options if option.protocols != PROTOCOLS)
        new_kind = field.kind_option and kind_of(field, given, None) not in (None, current.get(field.kind_option))
        merged = OrderedDict((key, value) for key, value in current.items()
                             if not (in_forms & set(given) and key in in_forms) and not (new_kind and key in of_one_kind))
        merged.update(given)
        return merged
    if field.options and field.unique and by_key and isinstance(raw, (list, tuple)):
        return merge_items(field, current or [], raw)
    return raw


def merge_items(field, current, raw):
    """Items of ``raw`` matched to ``current`` ones by their canonical ``unique`` option (each
    current item once); the others are added after them."""
    parse = dict((option.name, option) for option in field.options)[field.unique].parse
    by_identity = OrderedDict((item[field.unique], OrderedDict(item)) for item in current)
    extra, matched = [], set()
    for item in raw:
        identity = None
        if isinstance(item, dict):
            try:
                identity = parse(item.get(field.unique))
            except FieldError:
                identity = None
        if identity in by_identity and identity not in matched:
            matched.add(identity)
            by_identity[identity].update((key, value) for key, value in item.items() if value is not None)
        else:
            extra.append(item)
    return list(by_identity.values()) + extra
