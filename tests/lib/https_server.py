#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tiny HTTPS server for the GitHub meta tests.

  https_server.py --listen ADDR:PORT --cert C --key K --status N --body FILE
                  [--location URL]

GET /meta answers N with FILE's bytes (Content-Type: application/json, and
Location: URL when given, for redirect tests).  Every other path is 404.
Listens only on ADDR:PORT ([v6]:port for IPv6; port 0 picks one, printed
as "listening PORT" on stdout).  Exits on SIGTERM/SIGINT.
"""
import argparse
import http.server
import signal
import socket
import ssl
import sys
import threading


def split_addr(text):
    if text.startswith('['):
        host, _, port = text[1:].partition(']:')
    else:
        host, _, port = text.rpartition(':')
    if not host or not port:
        raise argparse.ArgumentTypeError(f'{text!r} is not ADDR:PORT')
    return host, int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--listen', type=split_addr, required=True)
    ap.add_argument('--cert', required=True)
    ap.add_argument('--key', required=True)
    ap.add_argument('--status', type=int, default=200)
    ap.add_argument('--body', required=True)
    ap.add_argument('--location')
    args = ap.parse_args()

    with open(args.body, 'rb') as f:
        body = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_GET(self):
            if self.path.split('?')[0] != '/meta':
                self.send_error(404)
                return
            self.send_response(args.status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            if args.location:
                self.send_header('Location', args.location)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            sys.stderr.write('https_server: ' + fmt % a + '\n')

    host, port = args.listen

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ':' in host else socket.AF_INET
        daemon_threads = True

    srv = Server((host, port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f'listening {srv.server_address[1]}', flush=True)
    srv.serve_forever()
    srv.server_close()


if __name__ == '__main__':
    main()
