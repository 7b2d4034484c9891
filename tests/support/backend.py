"""A tiny HTTP/1.1 server that says who it is: the stand-in for an antlet's application.

Usage: backend.py NAME HOST PORT [--delay SECONDS] [--log PATH] [--start-after SECONDS] [--lifetime SECONDS]
                  [--warmup N] [--broken PATH]
Every request gets ``200`` with body ``NAME\\n`` and header ``X-Antlet: NAME``; a request for
``/delay/SECONDS`` is answered after that many seconds (a legitimately slow page). Keep-alive is
supported and each response is written in one piece (no Nagle/delayed-ACK stalls). Stop it with
SIGTERM, crash it with SIGKILL, hang it with SIGSTOP (it then accepts connections, in the kernel's
backlog, but never answers: a hung antlet).

With ``--log PATH`` it appends one line per event, ``<time.monotonic()> <event> <client port>
[path]``: ``open`` and ``close`` of each connection, ``request`` when a request's head has arrived,
``answer`` when its response is written. The clock is the machine's monotonic clock, the one the
tests read too, so events compare with what a test saw when. ``--start-after`` waits that long
before listening (an application that takes time to start); ``--lifetime`` exits after that long
(a safety net for backends started detached, see antlet_service.py); ``--warmup N`` answers its
first N requests ``503`` (an application still warming up, whatever the time it takes);
``--broken PATH`` answers ``500`` while the file PATH exists, to requests whose path starts with the
file's content (all of them when it is empty): a broken application, or a broken health endpoint.
"""
import asyncio
import signal
import socket
import sys
import time


def _seconds(text):
    try:
        return min(max(float(text), 0.0), 3600.0)
    except ValueError:
        return 0.0


class EventLog:
    """The ``--log`` file (or nothing): one line per event, written at once."""

    def __init__(self, path):
        self.handle = open(path, "a", buffering=1) if path else None

    def write(self, event, peer, path=""):
        if self.handle is not None:
            self.handle.write("%.6f %s %s %s\n" % (time.monotonic(), event, peer, path))


def broken(flag, path):
    """Whether the ``--broken`` file says to answer ``path`` with 500."""
    if not flag:
        return False
    try:
        with open(flag) as handle:
            prefix = handle.read().strip()
    except OSError:
        return False
    return path.startswith(prefix)


async def handle(reader, writer, name, delay, log, warmup, flag):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer = (writer.get_extra_info("peername") or ("?", 0))[1]
    log.write("open", peer)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, _unused, rest = lines[0].partition(" ")
            path = rest.partition(" ")[0]
            log.write("request", peer, path)
            length, close = 0, False
            for line in lines[1:]:
                key, _sep, value = line.partition(":")
                key = key.strip().lower()
                if key == "content-length":
                    length = int(value.strip() or 0)
                elif key == "connection" and value.strip().lower() == "close":
                    close = True
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            if path.startswith("/delay/"):
                await asyncio.sleep(_seconds(path[len("/delay/"):]))
            body = ("%s\n" % name).encode()
            status = "200 OK"
            if warmup[0] > 0:
                warmup[0] -= 1
                status = "503 Service Unavailable"
            elif broken(flag, path):
                status = "500 Internal Server Error"
            response = (
                "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nX-Antlet: %s\r\n"
                "X-Method: %s\r\nConnection: %s\r\n\r\n" % (status, len(body), name, method, "close" if close else "keep-alive")
            ).encode() + body
            writer.write(response)
            await writer.drain()
            log.write("answer", peer, path)
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        log.write("close", peer)
        writer.close()


def option(flag, default=None):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


async def main():
    name, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    delay = float(option("--delay", 0.0))
    log = EventLog(option("--log"))
    warmup = [int(option("--warmup", 0))]  # requests still to be answered 503, shared by the connections
    await asyncio.sleep(float(option("--start-after", 0.0)))
    flag = option("--broken")
    server = await asyncio.start_server(lambda r, w: handle(r, w, name, delay, log, warmup, flag), host, port, backlog=1024,
                                        reuse_address=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    if option("--lifetime"):
        loop.call_later(float(option("--lifetime")), lambda: stop.done() or stop.set_result(None))
    print("ready", flush=True)
    async with server:
        await stop


if __name__ == "__main__":
    asyncio.run(main())
