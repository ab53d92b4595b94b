#!/usr/bin/python3
"""A reverse proxy in front of a registry that injects one kind of fault.

    fault-proxy.py --listen HOST:PORT --upstream HOST:PORT --log FILE MODE

Every request is forwarded to the (plain http) upstream with its headers,
Host included, so the registry's Location headers name the proxy.  Only
blob GETs (/v2/<name>/blobs/sha256:<hex>) are touched, as MODE says:

  --drop-once        the first GET of a blob over 4 KiB gets its headers and
                     half its body,
                     then the connection is closed
  --error-once CODE  the first blob GET is answered CODE (e.g. 500)
  --flip DIGEST      every GET of that blob has one byte in its middle
                     flipped (so no retry can succeed)
  --redirect HOST:PORT  every blob GET is answered 307 to
                     http://HOST:PORT/blob/<n> on a second server run here,
                     which serves the blob (fetched from the upstream with
                     the client's credentials) and records, in the log,
                     the Authorization header it received ("-" if none)

The log gets one line per request ("METHOD PATH STATUS") plus one per fault
("FAULT drop ...", "FAULT error ...", "FAULT flip ...", "REDIRECT-TARGET
GET /blob/<n> authorization=<value or ->"), so a test can check the fault
really happened.
"""
import argparse
import http.client
import itertools
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOB_RE = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})(\?.*)?$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--drop-once", action="store_true")
    ap.add_argument("--error-once", type=int)
    ap.add_argument("--flip")
    ap.add_argument("--redirect")
    a = ap.parse_args()

    lock = threading.Lock()
    state = {"fired": False}
    stash = {}
    counter = itertools.count(1)
    up_host, up_port = a.upstream.rsplit(":", 1)

    def log(line):
        with lock, open(a.log, "a") as f:
            f.write(line + "\n")

    def fire_once():
        with lock:
            if state["fired"]:
                return False
            state["fired"] = True
            return True

    def read_body(h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += h.rfile.read(size)
                h.rfile.readline()
        n = int(h.headers.get("Content-Length", "0") or 0)
        return h.rfile.read(n) if n else b""

    def upstream(method, path, headers, body):
        conn = http.client.HTTPConnection(up_host, int(up_port), timeout=60)
        conn.request(method, path, body=body if body or method in ("PUT", "POST", "PATCH") else None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, headers, data, head=False):
            self.send_response(status)
            length = str(len(data))
            for k, v in headers:
                if head and k.lower() == "content-length":
                    length = v  # a HEAD tells the size of what a GET would send
                elif k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", length)
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def handle_any(self):
            method = self.command
            body = read_body(self)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "content-length"}
            if body or method in ("PUT", "POST", "PATCH"):
                headers["Content-Length"] = str(len(body))
            m = BLOB_RE.match(self.path)
            blob_get = method == "GET" and m is not None
            if blob_get and a.error_once and fire_once():
                log(f"FAULT error {a.error_once} {self.path}")
                log(f"{method} {self.path} {a.error_once}")
                self.send(a.error_once, [("Content-Type", "application/json")],
                          b'{"errors":[{"code":"UNKNOWN","message":"injected"}]}')
                return
            resp, data = upstream(method, self.path, headers, body)
            log(f"{method} {self.path} {resp.status}")
            if blob_get and resp.status == 200 and a.redirect:
                n = next(counter)
                with lock:
                    stash[n] = (data, resp.getheaders())
                log(f"FAULT redirect {self.path} -> /blob/{n}")
                self.send(307, [("Location", f"http://{a.redirect}/blob/{n}")], b"")
                return
            if blob_get and resp.status == 200 and a.drop_once and len(data) > 4096 and fire_once():
                log(f"FAULT drop {self.path} after {len(data) // 2} of {len(data)} bytes")
                self.send_response(200)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if blob_get and resp.status == 200 and a.flip and m.group(1) == a.flip and data:
                i = len(data) // 2
                data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
                log(f"FAULT flip {self.path} byte {i}")
            self.send(resp.status, resp.getheaders(), data, head=method == "HEAD")

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    class Target(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            auth = self.headers.get("Authorization") or "-"
            log(f"REDIRECT-TARGET GET {self.path} authorization={auth}")
            m = re.match(r"^/blob/(\d+)$", self.path)
            with lock:
                item = stash.get(int(m.group(1))) if m else None
            if not item:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, _ = item
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    if a.redirect:
        th, tp = a.redirect.rsplit(":", 1)
        target = ThreadingHTTPServer((th, int(tp)), Target)
        threading.Thread(target=target.serve_forever, daemon=True).start()
    host, port = a.listen.rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Proxy).serve_forever()


if __name__ == "__main__":
    main()
