"""The benchmarks' HTTP client: asyncio, HTTP/1.1 keep-alive, one record per request.

It counts failures as a browser-like client sees them, and keeps the raw count too:

* a request sent on a *reused* keep-alive connection that the server closed before any response
  byte (nginx closes idle keep-alive connections of its old workers at every reload, and a request
  can cross that close) is retried once on a fresh connection if its method is idempotent (GET),
  as browsers and HTTP libraries do (RFC 9112 9.3.1); the raw outcome records the first attempt;
* everything else is final: a 5xx answer, a refused or reset fresh connection, a response cut in
  the middle, or no answer within the client timeout.

Open loop (``run_open_loop``): requests start on a fixed schedule whatever the server does, each on
an idle pooled connection or a new one, and latency counts from the scheduled start (no
coordinated omission: a stalled server cannot slow the clock down). Closed loop
(``run_closed_loop``): N connections each send their next request as soon as the last one ends.
"""
import asyncio
import socket
import threading

OK = "ok"
CLOSED = "closed before response"  # the connection closed before any byte of the response
IDEMPOTENT = frozenset(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])


class Record:
    """One request: ``start`` (seconds from the run's t0), ``latency`` (s), ``outcome`` (OK, "http NNN"
    or an error kind) after the browser-like retry, ``raw`` the first attempt's outcome."""

    __slots__ = ("method", "start", "latency", "outcome", "raw")

    def __init__(self, method, start, latency, outcome, raw):
        self.method, self.start, self.latency, self.outcome, self.raw = method, start, latency, outcome, raw

    @property
    def failed(self):
        return self.outcome != OK

    @property
    def raw_failed(self):
        return self.raw != OK


class Target:
    """Where to send requests, and the request bytes for each method."""

    def __init__(self, host, port, host_header, path="/"):
        self.host, self.port = host, port
        self.payloads = {
            "GET": ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: antman-bench\r\n\r\n" % (path, host_header)).encode(),
            "POST": ("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: antman-bench\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 5\r\n\r\nhello" % (path, host_header)).encode(),
        }


class ConnectionClosed(Exception):
    def __init__(self, received):
        super(ConnectionClosed, self).__init__("connection closed")
        self.received = received


class BadResponse(Exception):
    pass


def parse_response(buffer):
    """(status, keep_alive, bytes consumed) for a complete response at the start of ``buffer``,
    or None while it is incomplete. Handles Content-Length and chunked bodies."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise BadResponse(lines[0][:80])
    status = int(parts[1])
    keep_alive = parts[0] == "HTTP/1.1"
    length, chunked = None, False
    for line in lines[1:]:
        key, _unused, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().lower()
        if key == "content-length":
            length = int(value)
        elif key == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif key == "connection":
            keep_alive = "close" not in value if keep_alive else "keep-alive" in value
    body_start = end + 4
    if chunked:
        return _chunked_end(buffer, body_start, status, keep_alive)
    if length is None:
        if status in (204, 304) or status < 200:
            return status, keep_alive, body_start
        raise BadResponse("response without Content-Length")
    if len(buffer) < body_start + length:
        return None
    return status, keep_alive, body_start + length


def _chunked_end(buffer, position, status, keep_alive):
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", position - 2)
            return None if trailer_end < 0 else (status, keep_alive, trailer_end + 4)
        position += size + 2
        if len(buffer) < position:
            return None


class Connection(asyncio.Protocol):
    """One client connection; ``exchange`` sends a request and waits for its whole response."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.lost = False

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            parsed = parse_response(self.buffer)
        except (BadResponse, ValueError) as error:
            waiter.set_exception(BadResponse(str(error)))
            return
        if parsed is not None:
            status, keep_alive, consumed = parsed
            del self.buffer[:consumed]
            waiter.set_result((status, keep_alive))

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
        self.lost = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionClosed(received=bool(self.buffer)))

    async def exchange(self, payload):
        if self.lost:
            raise ConnectionClosed(received=False)
        self.buffer.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self):
        if self.transport is not None:
            self.transport.close()
        self.lost = True


def classify(error):
    if isinstance(error, ConnectionClosed):
        return "truncated response" if error.received else CLOSED
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, asyncio.TimeoutError):
        return "client timeout"
    if isinstance(error, BadResponse):
        return "bad response"
    return type(error).__name__


class Client:
    """A pool of keep-alive connections to one target, and the records of every request."""

    def __init__(self, target, timeout):
        self.target = target
        self.timeout = timeout
        self.idle = []
        self.records = []
        self.t0 = None
        self.open_connections = set()

    async def connect(self):
        loop = asyncio.get_running_loop()
        transport, connection = await loop.create_connection(Connection, self.target.host, self.target.port)
        self.open_connections.add(connection)
        return connection

    def discard(self, connection):
        if connection is not None:
            connection.close()
            self.open_connections.discard(connection)

    async def attempt(self, method, connection):
        """One try on ``connection`` (None: open a new one). Returns (outcome, reused, kept) where
        kept is (connection, keep_alive) after a response, else None."""
        if connection is not None and (connection.lost or connection.transport.is_closing()):
            # Already known to be closed (like an HTTP library checking a pooled connection before
            # reuse): not a race, just open a new one.
            self.discard(connection)
            connection = None
        reused = connection is not None
        try:
            if connection is None:
                connection = await self.connect()
            status, keep_alive = await connection.exchange(self.target.payloads[method])
        except (OSError, ConnectionClosed, BadResponse) as error:
            self.discard(connection)
            return classify(error), reused, None
        except BaseException:  # cancelled by the client timeout
            self.discard(connection)
            raise
        outcome = OK if 200 <= status < 400 else "http %d" % status
        return outcome, reused, (connection, keep_alive)

    async def request(self, method, start, connection=None):
        """Send one request (starting at loop time ``start``) and record it. Returns the
        connection to reuse (closed-loop mode), or None."""
        loop = asyncio.get_running_loop()
        if connection is None and self.idle:
            connection = self.idle.pop()
        raw = outcome = None
        kept = None
        try:
            raw, reused, kept = await asyncio.wait_for(self.attempt(method, connection), self._left(loop, start))
            outcome = raw
            if raw == CLOSED and reused and method in IDEMPOTENT:
                outcome, _unused, kept = await asyncio.wait_for(self.attempt(method, None), self._left(loop, start))
        except asyncio.TimeoutError:
            raw = raw or "client timeout"
            outcome, kept = "client timeout", None
        self.records.append(Record(method, start - self.t0, loop.time() - start, outcome, raw))
        if kept is None:
            return None
        connection, keep_alive = kept
        if keep_alive and not connection.lost:
            return connection
        self.discard(connection)
        return None

    def _left(self, loop, start):
        return max(self.timeout - (loop.time() - start), 0.001)

    def close_all(self):
        for connection in list(self.open_connections):
            connection.close()
        self.open_connections.clear()
        self.idle = []


def method_for(index, post_every):
    """GET, or POST for every ``post_every``-th request (0: GET only, 1: POST only)."""
    if post_every == 1:
        return "POST"
    if post_every and index % post_every == post_every - 1:
        return "POST"
    return "GET"


async def _open_loop(client, rate, duration, post_every, events, stop=None):
    loop = asyncio.get_running_loop()
    client.t0 = t0 = loop.time()
    for at, action in events:
        loop.call_at(t0 + at, action)
    tasks = set()

    async def one(method, start):
        connection = await client.request(method, start)
        if connection is not None:
            client.idle.append(connection)

    total = int(rate * duration)
    for index in range(total):
        if stop is not None and stop.is_set():
            break
        start = t0 + index / float(rate)
        delay = start - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(one(method_for(index, post_every), start))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(list(tasks))
    return loop.time() - t0


async def _closed_loop(client, connections, duration, post_every, events, background, tail):
    loop = asyncio.get_running_loop()
    client.t0 = t0 = loop.time()
    stop_at = [t0 + duration]
    for at, action in events:
        loop.call_at(t0 + at, action)
    counter = [0]

    async def worker():
        connection = None
        while loop.time() < stop_at[0]:
            index = counter[0]
            counter[0] += 1
            connection = await client.request(method_for(index, post_every), loop.time(), connection)
        client.discard(connection)

    async def alongside():
        try:
            return await background(loop, t0)
        finally:
            stop_at[0] = min(stop_at[0], loop.time() + tail)

    jobs = [asyncio.ensure_future(worker()) for _unused in range(connections)]
    if background is not None:
        jobs.append(asyncio.ensure_future(alongside()))
    results = await asyncio.gather(*jobs)
    return loop.time() - t0, (results[-1] if background is not None else None)


def _run(coroutine, client):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        client.close_all()
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def run_open_loop(target, rate, duration, timeout, post_every=0, events=(), stop=None):
    """``rate`` requests/s for ``duration`` s, then wait (up to ``timeout``) for the last ones.
    ``events``: (seconds after start, callable) run on the event loop (keep them short).
    ``stop``: a threading.Event; once it is set no further request starts (a load run from a
    thread, for as long as the caller needs). Returns (records, elapsed seconds)."""
    client = Client(target, timeout)
    elapsed = _run(_open_loop(client, rate, duration, post_every, events, stop), client)
    return client.records, elapsed


def run_closed_loop(target, connections, duration, timeout, post_every=0, events=(), background=None, tail=1.0):
    """``connections`` keep-alive connections sending back to back for ``duration`` s at most.
    ``background(loop, t0)`` is an optional coroutine run alongside (e.g. reloads in a thread); the
    load then stops ``tail`` s after it ends. Returns (records, elapsed seconds, background's result)."""
    client = Client(target, timeout)
    elapsed, result = _run(_closed_loop(client, connections, duration, post_every, events, background, tail), client)
    return client.records, elapsed, result


class BackgroundLoad:
    """Open-loop load on several targets at ``rate`` requests/s each (every ``post_every``-th a POST),
    every target from a thread (and event loop) of its own, from ``start()`` until ``stop()`` (at
    most ``max_duration`` s).
    ``stop()`` waits for the requests in flight and returns one list of records per target; a
    record's start is seconds after ``t0s[target index]``, on the clock of time.monotonic()."""

    def __init__(self, targets, rate, timeout=10.0, max_duration=900.0, post_every=0):
        self.targets, self.rate, self.timeout, self.max_duration = list(targets), rate, timeout, max_duration
        self.post_every = post_every
        self.t0s = [None] * len(self.targets)
        self._stop = threading.Event()
        self._results = [None] * len(self.targets)
        self._threads = [threading.Thread(target=self._run, args=(index,), daemon=True)
                         for index in range(len(self.targets))]

    def _run(self, index):
        client = Client(self.targets[index], self.timeout)
        _run(_open_loop(client, self.rate, self.max_duration, self.post_every, (), self._stop), client)
        self.t0s[index], self._results[index] = client.t0, client.records

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self._results

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        if not self._stop.is_set():
            self.stop()
