"""A realistic antlet application (aiohttp): what people run behind a rule, in one process.

Usage: python -m ansible_collections.antsle.antman.tests.support.app_backend NAME HOST PORT
Prints ``ready`` once it listens. Routes:
- ``GET /``: ``NAME`` (text), header ``X-Antlet: NAME``;
- ``GET /headers``: the request's headers as JSON (what the balancer forwarded);
- ``GET /conn``: the client port of the connection the request came on (the balancer's side of an
  upstream connection: the same port twice means the connection was kept alive);
- ``POST /upload``: the body read as a stream; answers JSON ``{"bytes": N, "sha256": HEX}``;
- ``GET /sse?events=N&interval=S``: server-sent events, one every S seconds, each ``data: <i> <time>``
  (time.time() when the backend sent it, so a client can measure how long it took to arrive);
- ``GET /ws``: a WebSocket echo (text and binary), ``NAME`` sent first; the application never pings,
  so an idle socket is idle end to end.
Stop it with SIGTERM, crash it with SIGKILL, hang it with SIGSTOP.
"""
import asyncio
import hashlib
import signal
import sys
import time

from aiohttp import WSMsgType, web


def make_app(name):
    async def index(request):
        return web.Response(text=name + "\n", headers={"X-Antlet": name})

    async def headers(request):
        return web.json_response(dict(request.headers), headers={"X-Antlet": name})

    async def connection(request):
        return web.Response(text="%d\n" % request.transport.get_extra_info("peername")[1], headers={"X-Antlet": name})

    async def upload(request):
        digest, size = hashlib.sha256(), 0
        while True:
            chunk = await request.content.read(1 << 16)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
        return web.json_response({"bytes": size, "sha256": digest.hexdigest(), "antlet": name})

    async def sse(request):
        events = min(int(request.query.get("events", "3")), 1000)
        interval = min(float(request.query.get("interval", "1")), 60.0)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for index in range(events):
            await response.write(("data: %d %.6f\n\n" % (index, time.time())).encode())
            if index + 1 < events:
                await asyncio.sleep(interval)
        await response.write_eof()
        return response

    async def websocket(request):
        socket = web.WebSocketResponse(autoping=True, heartbeat=None)
        await socket.prepare(request)
        await socket.send_str(name)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await socket.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await socket.send_bytes(message.data)
        return socket

    # Uploads are read as a stream: no size limit here, the balancer's client_max_body_size decides.
    app = web.Application(client_max_size=0)
    app.router.add_get("/", index)
    app.router.add_get("/headers", headers)
    app.router.add_get("/conn", connection)
    app.router.add_post("/upload", upload)
    app.router.add_get("/sse", sse)
    app.router.add_get("/ws", websocket)
    return app


async def serve(name, host, port):
    runner = web.AppRunner(make_app(name), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=1024)
    await site.start()
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("ready", flush=True)
    try:
        await stop
    finally:
        await runner.cleanup()


def main(argv):
    name, host, port = argv[1], argv[2], int(argv[3])
    asyncio.run(serve(name, host, port))


if __name__ == "__main__":
    main(sys.argv)
