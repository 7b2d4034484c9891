"""Clients of the application antlet (app_backend.py) as browsers and scripts use it: a streamed
upload, a server-sent event stream, WebSockets that sit idle and talk now and then. Used by the
functional tests and by the benchmark of real applications (bench/apps.py)."""
import asyncio
import hashlib
import http.client
import json
import time

MB = 1 << 20


def post_bytes(port, size, host_header="app.local", chunk=MB, address="127.0.0.1", timeout=120):
    """POST ``size`` bytes of a fixed pattern to /upload, streamed: (status, answer bytes, sha256 sent,
    seconds taken). A refusal that arrives while the body is still being sent (413) is returned."""
    digest = hashlib.sha256()
    block = bytes(range(256)) * (chunk // 256)
    started = time.monotonic()
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.putrequest("POST", "/upload", skip_host=True)
        connection.putheader("Host", host_header)
        connection.putheader("Content-Length", str(size))
        connection.putheader("Content-Type", "application/octet-stream")
        connection.endheaders()
        sent = 0
        try:
            while sent < size:
                piece = block[:min(chunk, size - sent)]
                connection.send(piece)
                digest.update(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx answered (413) and closed before the whole body was sent
        response = connection.getresponse()
        return response.status, response.read(), digest.hexdigest(), time.monotonic() - started
    finally:
        connection.close()


def upload_arrived_whole(answer, size, sha256):
    """Whether the application's answer to post_bytes says it got exactly what was sent."""
    try:
        seen = json.loads(answer)
    except ValueError:
        return False
    return seen.get("bytes") == size and seen.get("sha256") == sha256


def sse_delays(port, events, interval, host_header="app.local", address="127.0.0.1", timeout=30):
    """Read /sse: (status, content type, [seconds from each event's sending to its arrival])."""
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request("GET", "/sse?events=%d&interval=%s" % (events, interval), headers={"Host": host_header})
        response = connection.getresponse()
        delays = []
        while response.status == 200 and len(delays) < events:
            line = response.fp.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                delays.append(time.time() - float(line.split()[2]))
        return response.status, response.getheader("Content-Type"), delays
    finally:
        connection.close()


async def websocket_soak(url, sockets, idle, every, duration):
    """Open ``sockets`` WebSockets, leave them idle for ``idle`` seconds, then send one message on
    each every ``every`` seconds until ``duration``; every message must come back. Returns a dict:
    opened, sent, echoed, closed (sockets that ended early, with why), slowest echo (s)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException
    result = {"opened": 0, "sent": 0, "echoed": 0, "closed": [], "slowest": 0.0}

    async def one(index):
        try:
            async with connect(url, ping_interval=None, open_timeout=10) as ws:
                result["opened"] += 1
                await ws.recv()  # the application's greeting
                started = time.monotonic()
                await asyncio.sleep(idle)
                while True:
                    message = "socket %d at %.0f s" % (index, time.monotonic() - started)
                    sent = time.monotonic()
                    result["sent"] += 1
                    await ws.send(message)
                    if await asyncio.wait_for(ws.recv(), 10) != message:
                        raise AssertionError("wrong echo")
                    result["echoed"] += 1
                    result["slowest"] = max(result["slowest"], time.monotonic() - sent)
                    if time.monotonic() - started + every > duration + 0.001:
                        return
                    await asyncio.sleep(every)
        except (WebSocketException, OSError, asyncio.TimeoutError, AssertionError) as error:
            result["closed"].append("socket %d: %s" % (index, type(error).__name__))

    await asyncio.gather(*(one(index) for index in range(sockets)))
    return result
