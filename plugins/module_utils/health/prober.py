# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probes of the health agent, all on one thread: non-blocking sockets on one poller and a
heap of timers (Linux epoll), so hundreds of probes a second cost little (no thread per probe, no busy loop).

A probe is a TCP connect (``tcp``), or one small request and the status line of the answer
(``http``). An http probe that passed leaves its connection open for the next one when the answer
allows it (HTTP/1.1 keep-alive with a ``Content-Length``, read through: ``answer.py``): a probe then
costs one send and one read instead of a connect, a send, a read and a close (half of the agent's
CPU). A kept connection carries at most ``MAX_USES`` probes, and none after a failure: at least
every ``MAX_USES`` intervals, and always after a failure, a probe connects anew, so an antlet that
stops accepting connections is found too. A kept connection the antlet closed (its idle timeout, a
restart) is dropped; a probe that finds it closed before any answer tries again at once on a new
connection, without a result. Every other connection is closed with a reset once judged (no
TIME_WAIT piling up on the host, as HAProxy's checks do). Only the status code is judged:
nothing the application sends reaches a log, a file or a label.

Timing of one ProbeSpec: a probe every ``interval``; while the target is in doubt one more
(HAProxy's ``fastinter``): half an interval after a failure, and as soon as the probe under way has
had no answer for four times the target's usual answer time (a smoothed average of its answers,
as TCP estimates its retransmission timeout), at least ``MIN_DOUBT`` and at most half an
interval. A hung application is so judged about ``timeout`` + (``fails`` - 1) x that doubt after
its first unanswered probe began, rather than ``fails`` x (``interval`` + ``timeout``); a slow one
that keeps answering costs at most one probe more each half interval. At most ``MAX_IN_FLIGHT``
probes of one spec are under way at once.

Other sockets can share the loop (``register``): the hook for a metrics listener.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import heapq
import itertools
import math
import os
import select
import socket
import struct
import threading
import time

from ansible_collections.antsle.antman.plugins.module_utils.health.answer import MAX_HEAD, MORE, answer_length, status_of

MAX_IN_FLIGHT = 3
MAX_USES = 10  # probes carried by one kept connection, at most
MIN_DOUBT = 0.1  # seconds without an answer before a probe is in doubt, at the least
DOUBT_FACTOR = 4.0  # in doubt after this many times the usual answer time
GRAIN = 0.02  # seconds: timers are rounded up to it (as the kernel's timer slack does)
RESOLVE_EVERY = 60.0  # seconds between lookups of an upstream's host name
LINGER_RESET = struct.pack("ii", 1, 0)


class Result:
    """One probe's outcome: ``ok``, how long it took (``ms``), a short ``detail`` of our own words,
    the HTTP ``status`` (or None) and when it ended (``at``, epoch seconds)."""

    __slots__ = ("ok", "ms", "detail", "status", "at")

    def __init__(self, ok, ms, detail, status=None, at=None):
        self.ok = ok
        self.ms = ms
        self.detail = detail
        self.status = status
        self.at = at

    def as_dict(self):
        return {"ok": self.ok, "ms": self.ms, "detail": self.detail, "at": self.at}


def split_address(address):
    """("host", port) of a canonical address (``host:port`` or ``[v6]:port``)."""
    host, _sep, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def literal_family(host):
    """The address family of an IP literal, or None for a host name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return family
        except (OSError, ValueError):
            continue
    return None


class Resolver:
    """Where each upstream address connects to. IP literals at once; host names looked up by a
    thread of their own (a slow DNS server never stalls the probes), again every RESOLVE_EVERY
    seconds. ``lookup`` returns ((family, sockaddr), None) or (None, why not)."""

    def __init__(self, getaddrinfo=socket.getaddrinfo):
        self.getaddrinfo = getaddrinfo
        self.answers = {}
        self.literals = {}  # IP literal address wanted -> its answer, worked out once in ``want``
        self.wanted = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = None
        self.stopping = False

    def want(self, addresses):
        """The addresses probes will ask for; host names among them are looked up (first lookups
        before ``want`` returns when they take less than ``first_wait`` seconds)."""
        answers = [(a, self._literal(a)) for a in addresses]
        self.literals = dict((a, answer) for a, answer in answers if answer is not None)
        names = set(a for a, answer in answers if answer is None)
        with self.lock:
            self.wanted = names
            missing = [a for a in names if a not in self.answers]
        for address in missing:
            self._resolve(address)  # the first lookup of a name before its first probe: no false failure
        if names and self.thread is None:
            self.thread = threading.Thread(target=self._refresh, name="antman-health-resolver", daemon=True)
            self.thread.start()

    def lookup(self, address):
        known = self.literals.get(address) or self._literal(address)
        if known is not None:
            return known
        with self.lock:
            return self.answers.get(address, (None, "host name %s not looked up yet" % split_address(address)[0]))

    @staticmethod
    def _literal(address):
        """The answer for an IP literal address, None for a host name."""
        host, port = split_address(address)
        family = literal_family(host)
        return None if family is None else ((family, (host, port)), None)

    def _resolve(self, address):
        host, port = split_address(address)
        try:
            infos = self.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            family, _type, _proto, _name, sockaddr = infos[0]
            answer = ((family, sockaddr), None)
        except (OSError, IndexError, UnicodeError) as error:
            answer = (None, "host name %s does not resolve (%s)" % (host, getattr(error, "strerror", None) or error))
        with self.lock:
            self.answers[address] = answer

    def _refresh(self):
        while not self.stopping:
            self.wake.wait(RESOLVE_EVERY)
            with self.lock:
                names = sorted(self.wanted)
                for gone in set(self.answers) - self.wanted:
                    del self.answers[gone]
            for address in names:
                if self.stopping:
                    return
                self._resolve(address)

    def stop(self):
        self.stopping = True
        self.wake.set()


class Schedule:
    """The timing state of one ProbeSpec."""

    def __init__(self, spec, generation):
        self.spec = spec
        self.generation = generation
        self.in_flight = set()
        self.extra_pending = False  # a probe half an interval after a failure is due
        self.usual = None  # seconds: the smoothed answer time of the target (None: no answer yet)
        self.kept = None  # a Kept connection for the next probe
        self.reading = None  # a judged Run reading the rest of its answer, to be kept

    def answered(self, seconds):
        """An answer came after ``seconds``: the usual answer time moves an eighth of the way to it."""
        self.usual = seconds if self.usual is None else self.usual + (seconds - self.usual) / 8.0

    def doubt_after(self):
        """Seconds without an answer after which a probe under way is in doubt."""
        half = self.spec.interval / 2.0
        if self.usual is None:
            return half
        return min(half, max(MIN_DOUBT, DOUBT_FACTOR * self.usual))


# Timer kinds: the regular cadence of a spec, the probe half an interval after a failure, the
# check of a probe under way (in doubt after ``Schedule.doubt_after``, failed at its timeout).
REGULAR, EXTRA, CHECK = 0, 1, 2


class Run:
    """One probe under way, on a new connection or on a kept one (``uses`` > 1). Once judged, a
    passing http probe may read the rest of its answer (``judged``) to keep the connection."""

    __slots__ = ("prober", "schedule", "sock", "fd", "started", "deadline", "pending", "connected", "head",
                 "done", "uses", "judged", "length", "read")

    def __init__(self, prober, schedule, sock, started, request, uses=1):
        self.prober = prober
        self.schedule = schedule
        self.sock = sock
        self.fd = sock.fileno()
        self.started = started
        self.deadline = started + schedule.spec.timeout
        self.pending = request
        self.connected = uses > 1
        self.head = b""
        self.done = False
        self.uses = uses
        self.judged = False
        self.length = MORE  # bytes of the whole answer once its header says (answer_length)
        self.read = 0

    def on_event(self, mask):
        # Edge-triggered (registered once for reading and writing): an event comes when the connect
        # completes or fails, when the socket can take more of the request, when answer bytes come.
        if self.judged:
            return self.read_rest()
        if not self.connected:
            if mask & (select.EPOLLERR | select.EPOLLHUP):
                code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    return self.finish(False, "connection failed: %s" % os.strerror(code))
            if not mask & select.EPOLLOUT:
                return None
            self.connected = True
            if not self.pending:
                return self.finish(True, "connected")  # tcp: connecting is the check
        if self.pending:
            try:
                sent = self.sock.send(self.pending)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError as error:
                return self.lost("sending the request failed: %s" % (error.strerror or error))
            self.pending = self.pending[sent:]
            if self.pending:
                return None
        if not mask & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP):
            return None  # writable again (the request acknowledged), nothing to read yet
        try:
            data = self.sock.recv(MAX_HEAD)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as error:
            return self.lost("reading the answer failed: %s" % (error.strerror or error))
        if not data:
            return self.lost("connection closed without an answer")
        self.head += data
        status, problem = status_of(self.head)
        if status is not None:
            ok = self.schedule.spec.passes(status)
            self.judged = ok and self.uses < MAX_USES
            self.finish(ok, "status %d" % status, status)
            return self.read_rest(b"") if self.judged else None
        if problem:
            return self.finish(False, problem)
        return None

    def read_rest(self, data=None):
        """After a passing verdict: read the answer through, then keep the connection (the
        header and body as they say, nothing more) or close it."""
        if data is None:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                data = b""
            if not data:
                return self.prober._closed(self)
        if self.length == MORE:
            self.head += data
            self.length = answer_length(self.head)
            self.read = len(self.head)
        else:
            self.read += len(data)
        if self.length is None or (self.length != MORE and self.read > self.length):
            return self.prober._closed(self)
        if self.read == self.length:
            return self.prober._keep(self)
        return None  # more to come

    def lost(self, detail):
        """The connection failed before an answer: on a kept connection the antlet may have closed
        it just now (its idle timeout): try again on a new one, no verdict; else a failure."""
        if self.uses > 1 and not self.head:
            self.done = True
            self.prober._closed(self)
            self.prober.again.append(self.schedule)  # probed anew once the events are handled
            return None
        return self.finish(False, detail)

    def time_out(self):
        timeout_ms = int(round(self.schedule.spec.timeout * 1000))
        if not self.connected:
            return self.finish(False, "no connection within %d ms" % timeout_ms)
        return self.finish(False, "no answer within %d ms" % timeout_ms)

    def finish(self, ok, detail, status=None):
        if self.done:
            return None
        self.done = True
        if self.judged:
            self.prober._judged(self)  # the connection stays while the rest of the answer is read
        else:
            self.prober._closed(self)
        elapsed = (self.prober.clock() - self.started) * 1000.0
        self.prober._result(self.schedule, Result(ok, round(elapsed, 2), detail, status, self.prober.wall()))
        return None


class Kept:
    """A connection kept for the next probe of its schedule. Events while it waits (data, the
    antlet's close, an error) mean it cannot carry one: it is dropped."""

    __slots__ = ("prober", "schedule", "sock", "fd", "uses")

    def __init__(self, prober, schedule, sock, uses):
        self.prober = prober
        self.schedule = schedule
        self.sock = sock
        self.fd = sock.fileno()
        self.uses = uses

    def on_event(self, mask):
        if mask & (select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP):
            self.prober._drop_kept(self.schedule)


class Prober:
    """Runs ProbeSpecs (``update``) and calls ``on_result(spec, Result)`` for each probe, from
    ``step``, which the caller runs in a loop (its own thread). Linux: one epoll object."""

    def __init__(self, on_result, clock=time.monotonic, wall=time.time, resolver=None):
        self.on_result = on_result
        self.clock = clock
        self.wall = wall
        self.resolver = resolver or Resolver()
        self.poller = select.epoll()
        self.handlers = {}  # fd -> what handles its events (a Run, or a registered hook)
        self.schedules = {}
        self.timers = []
        self.sequence = itertools.count()
        self.generations = itertools.count(1)
        self.probes_started = 0
        self.running = 0  # probes under way (and answers read through to keep their connection)
        self.again = []  # schedules whose kept connection was found closed: probed anew after the events

    # -- what to probe --------------------------------------------------------------------------

    def update(self, specs):
        """Probe exactly ``specs`` ({key: ProbeSpec}) from now on. Specs kept keep their timing;
        new ones start within their interval (at most a second), spread out."""
        now = self.clock()
        self.resolver.want([spec.address for spec in specs.values()])
        for key in list(self.schedules):
            if key not in specs:
                self._forget(self.schedules.pop(key))
        for key, spec in specs.items():
            if key in self.schedules:
                continue
            schedule = self.schedules[key] = Schedule(spec, next(self.generations))
            spread = min(spec.interval, 1.0) * ((hash(key) & 0xFFFF) / 65536.0)
            self._at(now + spread, REGULAR, schedule, schedule.generation)

    def specs(self):
        """The ProbeSpecs probed now."""
        return [schedule.spec for schedule in self.schedules.values()]

    # -- the loop ---------------------------------------------------------------------------------

    def register(self, fileobj, events, callback):
        """Another socket on this loop (a listener): ``callback(mask)`` when it is ready for
        ``events`` (``select.EPOLLIN``...)."""
        fd = fileobj.fileno()
        self.poller.register(fd, events)
        self.handlers[fd] = _Hook(callback)

    def unregister(self, fileobj):
        fd = fileobj.fileno()
        self.poller.unregister(fd)
        self.handlers.pop(fd, None)

    def step(self, max_wait):
        """Start the probes that are due, wait up to ``max_wait`` seconds for sockets and timers,
        handle what is ready. While probes are under way their answers are taken a GRAIN at a time
        (one wake-up for all that came meanwhile, not one each: hundreds of probes a second cost
        a few dozen wake-ups); otherwise the wait ends at the first event (a registered socket)."""
        self._fire(self.clock())
        wait = max_wait
        if self.timers:
            wait = max(0.0, min(max_wait, self.timers[0][0] - self.clock()))
        if self.running and wait > 0.0:
            time.sleep(min(wait, GRAIN))
            wait = 0.0
        for fd, mask in self.poller.poll(wait):
            handler = self.handlers.get(fd)
            if handler is not None:
                handler.on_event(mask)
        self._fire(self.clock())

    def close(self):
        for schedule in list(self.schedules.values()):
            self._forget(schedule)
        self.schedules.clear()
        self.resolver.stop()
        self.poller.close()

    # -- inside ---------------------------------------------------------------------------------

    def _at(self, when, kind, target, tag):
        # on a grid of GRAIN: probes due about together start in one wake-up of the loop
        heapq.heappush(self.timers, (math.ceil(when / GRAIN) * GRAIN, next(self.sequence), kind, target, tag))

    def _fire(self, now):
        while self.timers and self.timers[0][0] <= now:
            _when, _seq, kind, target, tag = heapq.heappop(self.timers)
            if kind == CHECK:
                if target.done:
                    if target.schedule.reading is target:
                        self._closed(target)  # an answer not read through within the timeout: not kept
                    continue
                if now >= target.deadline:
                    target.time_out()
                    continue
                # no answer for longer than usual: in doubt, probe again now; the timeout comes later
                self._at(target.deadline, CHECK, target, None)
                if target.schedule.generation is not None:
                    self._start(target.schedule, now)
            elif target.generation == tag:
                if kind == REGULAR:
                    self._at(now + target.spec.interval, REGULAR, target, tag)
                else:
                    target.extra_pending = False
                self._start(target, now)
        while self.again:
            schedule = self.again.pop()
            if schedule.generation is not None:
                self._start(schedule, now)

    def _start(self, schedule, now):
        if len(schedule.in_flight) >= MAX_IN_FLIGHT:
            return
        kept, schedule.kept = schedule.kept, None
        if kept is not None:
            run = Run(self, schedule, kept.sock, now, schedule.spec.request_bytes, kept.uses + 1)
        else:
            run = self._connect(schedule, now)
            if run is None:
                return
        self.probes_started += 1
        schedule.in_flight.add(run)
        self.handlers[run.fd] = run
        self.running += 1
        self._at(now + min(schedule.doubt_after(), schedule.spec.timeout), CHECK, run, None)
        if kept is not None:
            run.on_event(select.EPOLLOUT)  # connected: the request goes now

    def _connect(self, schedule, now):
        """A Run on a new connection under way (on the poller), or None when it failed at once
        (the failure reported)."""
        spec = schedule.spec
        target, problem = self.resolver.lookup(spec.address)
        if target is None:
            self._result(schedule, Result(False, 0.0, problem, None, self.wall()))
            return None
        family, sockaddr = target
        try:
            sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        except OSError as error:
            self._result(schedule, Result(False, 0.0, "no socket: %s" % (error.strerror or error), None, self.wall()))
            return None
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        run = Run(self, schedule, sock, now, spec.request_bytes)
        code = sock.connect_ex(sockaddr)
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            self.probes_started += 1
            run.finish(False, "connection failed: %s" % os.strerror(code))
            return None
        self.poller.register(run.fd, select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)
        return run

    def _closed(self, run):
        schedule = run.schedule
        schedule.in_flight.discard(run)
        if schedule.reading is run:
            schedule.reading = None
        if self.handlers.get(run.fd) is run:
            del self.handlers[run.fd]  # closing the socket takes it off the poller (nothing else holds it)
            self.running -= 1
        run.sock.close()

    def _judged(self, run):
        """A passing probe's verdict is out; its connection stays while the rest of the answer is
        read (one per schedule: another is closed)."""
        schedule = run.schedule
        schedule.in_flight.discard(run)
        if schedule.reading is not None or schedule.kept is not None or schedule.generation is None:
            run.judged = False
            self._closed(run)
        else:
            schedule.reading = run
            self._at(run.deadline, CHECK, run, None)

    def _keep(self, run):
        """The answer was read through: the connection waits for the next probe."""
        schedule = run.schedule
        schedule.reading = None
        self.running -= 1
        schedule.kept = self.handlers[run.fd] = Kept(self, schedule, run.sock, run.uses)

    def _drop_kept(self, schedule):
        kept, schedule.kept = schedule.kept, None
        if kept is not None:
            self.handlers.pop(kept.fd, None)
            kept.sock.close()

    def _forget(self, schedule):
        """A schedule no longer probed: every connection of its is closed."""
        schedule.generation = None
        for run in list(schedule.in_flight):
            run.done = True
            self._closed(run)
        if schedule.reading is not None:
            self._closed(schedule.reading)
        self._drop_kept(schedule)

    def _result(self, schedule, result):
        if schedule.generation is None:
            return  # no longer probed: its last results mean nothing
        if result.ok or result.status is not None:
            schedule.answered(result.ms / 1000.0)
        if not result.ok:
            self._drop_kept(schedule)  # after a failure the next probe connects anew
        if not result.ok and not schedule.extra_pending:
            # in doubt after a failure: the next probe comes half an interval from now, not a whole one
            schedule.extra_pending = True
            self._at(self.clock() + schedule.spec.interval / 2.0, EXTRA, schedule, schedule.generation)
        self.on_result(schedule.spec, result)


class _Hook:
    def __init__(self, callback):
        self.on_event = callback
