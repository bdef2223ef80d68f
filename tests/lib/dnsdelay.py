#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Delaying DNS forwarder for tests and benchmarks.

  dnsdelay.py --listen 198.51.100.1:53 --upstream 198.51.100.1:5300 --delay-ms 20

Every query received on ADDR:PORT (UDP and TCP) is forwarded to the
upstream over the same transport, and its answer is sent back DELAY ms
after the query arrived (or as soon as the upstream answers, if later).
Queries are handled concurrently: 50 queries at once all come back after
about DELAY ms, not 50 x DELAY.  Use [v6]:port for IPv6.

Only the listen and upstream addresses are ever used.  A query the
upstream does not answer within --upstream-timeout-ms gets no answer.
Exits on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import signal
import socket
import struct
import sys


def split_addr(text):
    if text.startswith('['):
        host, _, port = text[1:].partition(']:')
    else:
        host, _, port = text.rpartition(':')
    if not host or not port:
        raise argparse.ArgumentTypeError(f'{text!r} is not ADDR:PORT')
    return host, int(port)


def family(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET


class Upstream(asyncio.DatagramProtocol):
    """One UDP socket per forwarded query: the answer is the first datagram."""

    def __init__(self):
        self.answer = asyncio.get_running_loop().create_future()

    def datagram_received(self, data, addr):
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc):
        if not self.answer.done():
            self.answer.set_exception(exc)


class Forwarder:
    def __init__(self, args):
        self.args = args
        self.delay = args.delay_ms / 1000
        self.timeout = args.upstream_timeout_ms / 1000
        self.tasks = set()
        self.count = 0

    def spawn(self, coro):
        t = asyncio.ensure_future(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    async def ask_udp(self, query):
        loop = asyncio.get_running_loop()
        host, port = self.args.upstream
        transport, proto = await loop.create_datagram_endpoint(
            Upstream, remote_addr=(host, port), family=family(host))
        try:
            transport.sendto(query)
            return await asyncio.wait_for(proto.answer, self.timeout)
        finally:
            transport.close()

    async def ask_tcp(self, query):
        host, port = self.args.upstream
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, family=family(host)), self.timeout)
        try:
            writer.write(struct.pack('!H', len(query)) + query)
            await writer.drain()
            hdr = await asyncio.wait_for(reader.readexactly(2), self.timeout)
            return await asyncio.wait_for(
                reader.readexactly(struct.unpack('!H', hdr)[0]), self.timeout)
        finally:
            writer.close()

    async def delayed(self, ask, query):
        """The upstream's answer, no sooner than DELAY after the query came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.delay
        self.count += 1
        try:
            answer = await ask(query)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            print(f'dnsdelay: upstream: {e!r}', file=sys.stderr)
            return None
        wait = deadline - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        return answer

    async def udp_one(self, transport, query, addr):
        answer = await self.delayed(self.ask_udp, query)
        if answer is not None and not transport.is_closing():
            transport.sendto(answer, addr)

    async def tcp_client(self, reader, writer):
        lock = asyncio.Lock()
        inflight = set()

        async def one(query):
            answer = await self.delayed(self.ask_tcp, query)
            if answer is None:
                return
            async with lock:
                writer.write(struct.pack('!H', len(answer)) + answer)
                await writer.drain()

        try:
            while True:
                hdr = await reader.readexactly(2)
                query = await reader.readexactly(struct.unpack('!H', hdr)[0])
                t = asyncio.ensure_future(one(query))  # pipelined: concurrent
                inflight.add(t)
                t.add_done_callback(inflight.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The client is done sending; let its answers go out first.
            await asyncio.gather(*inflight, return_exceptions=True)
        except asyncio.CancelledError:
            for t in inflight:
                t.cancel()
        finally:
            writer.close()


class Listener(asyncio.DatagramProtocol):
    def __init__(self, fwd):
        self.fwd = fwd
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.fwd.spawn(self.fwd.udp_one(self.transport, data, addr))


async def serve(args):
    loop = asyncio.get_running_loop()
    fwd = Forwarder(args)
    host, port = args.listen
    udp, _ = await loop.create_datagram_endpoint(
        lambda: Listener(fwd), local_addr=(host, port), family=family(host))
    tcp = await asyncio.start_server(fwd.tcp_client, host, port, family=family(host))

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f'dnsdelay: {host}:{port} -> {args.upstream[0]}:{args.upstream[1]}, '
          f'{args.delay_ms} ms', file=sys.stderr, flush=True)
    await stop

    udp.close()
    tcp.close()
    for t in list(fwd.tasks):
        t.cancel()
    print(f'dnsdelay: {fwd.count} queries', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--listen', type=split_addr, required=True)
    ap.add_argument('--upstream', type=split_addr, required=True)
    ap.add_argument('--delay-ms', type=int, required=True)
    ap.add_argument('--upstream-timeout-ms', type=int, default=5000)
    asyncio.run(serve(ap.parse_args()))


if __name__ == '__main__':
    main()
