#!/usr/bin/env python3
"""A TCP forwarder that limits what each connection receives to RATE MB/s, standing in for
a registry across a real network (the loopback registry is otherwise limited by CPU only).

  throttle.py LISTEN_PORT TARGET_PORT RATE_MB_PER_S
"""
import asyncio
import sys
import time

listen_port, target_port, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) * 1e6
CHUNK = 64 << 10


async def pipe(reader, writer, limit):
    start, sent = time.monotonic(), 0
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
            sent += len(data)
            if limit:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    await asyncio.sleep(ahead)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, False),
                         pipe(server_reader, client_writer, True))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
