#!/usr/bin/python3
"""A proxy in front of an apt mirror that publishes no InRelease, as many
third-party and older repositories do: every GET is fetched from UPSTREAM
and passed on, but a path ending in /InRelease is answered 404, so a client
must read Release and Release.gpg.

    no-inrelease-proxy.py --port-file FILE --log FILE UPSTREAM

It binds 127.0.0.1 on a free port and writes the port to FILE; the log gets
one line per request ("GET PATH STATUS").
"""
import argparse
import os
import shutil
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("upstream")
    a = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def log(self, status):
            with lock, open(a.log, "a") as f:
                f.write("GET %s %d\n" % (self.path, status))

        def answer(self, status):
            self.log(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            if self.path.endswith("/InRelease"):
                return self.answer(404)
            try:
                up = urllib.request.urlopen(a.upstream.rstrip("/") + self.path, timeout=60)
            except urllib.error.HTTPError as e:
                return self.answer(e.code)
            except OSError:
                return self.answer(502)
            with up:
                self.log(200)
                self.send_response(200)
                length = up.headers.get("Content-Length")
                if length:
                    self.send_header("Content-Length", length)
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                shutil.copyfileobj(up, self.wfile, 1 << 16)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
