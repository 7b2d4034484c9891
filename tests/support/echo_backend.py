"""TCP or UDP echo server that says who it is: the stand-in for a non-HTTP antlet service.

Usage: echo_backend.py NAME HOST PORT tcp|udp
TCP: on each connection sends ``NAME\\n``, then echoes what it receives. UDP: answers each
datagram with ``NAME:<datagram>``. Stop with SIGTERM, crash with SIGKILL.
"""
import asyncio
import signal
import sys


class UdpEcho(asyncio.DatagramProtocol):
    def __init__(self, name):
        self.name = name.encode()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(self.name + b":" + data, addr)


async def tcp_echo(reader, writer, name):
    writer.write(name.encode() + b"\n")
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    name, host, port, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    loop = asyncio.get_running_loop()
    if kind == "udp":
        await loop.create_datagram_endpoint(lambda: UdpEcho(name), local_addr=(host, port))
    else:
        await asyncio.start_server(lambda r, w: tcp_echo(r, w, name), host, port, reuse_address=True)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("ready", flush=True)
    await stop


if __name__ == "__main__":
    asyncio.run(main())
