#!/usr/bin/python3
"""An HTTP server that answers every GET badly, one way, for the tests of
how smith gives up on a server:

    slow-server.py --port-file FILE --log FILE MODE

  --stall            headers (Content-Length: 1 MiB), then nothing, the
                     connection held open
  --trickle BYTES    headers, then BYTES bytes a second, forever (a slowloris)
  --status CODE      answers CODE at once (with --retry-after SECONDS, a
                     Retry-After header too)

It binds 127.0.0.1 on a free port and writes the port to FILE; the log gets
one line per request ("GET PATH").
"""
import argparse
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--trickle", type=int)
    ap.add_argument("--status", type=int)
    ap.add_argument("--retry-after", type=int)
    a = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            with lock, open(a.log, "a") as f:
                f.write("GET %s\n" % self.path)
            if a.status:
                self.send_response(a.status)
                if a.retry_after is not None:
                    self.send_header("Retry-After", str(a.retry_after))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 20))
            self.end_headers()
            self.wfile.flush()
            try:
                while True:
                    if a.trickle:
                        self.wfile.write(b"x" * a.trickle)
                        self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError, socket.error):
                pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
