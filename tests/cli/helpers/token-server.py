#!/usr/bin/python3
"""A small token issuer for docker-registry's `auth: token` (distribution 2.8).

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] (or POST,
the OAuth2 password grant) with HTTP Basic credentials answers
{"token": JWT, "access_token": JWT, "expires_in": 300} for exactly the known
user.  The JWT is RS256-signed with --key; its header carries x5c (the
base64 DER of --cert), which is how distribution 2.8 finds the signing key:
it checks the chain against the registry's rootcertbundle (the same --cert),
then the claims: iss == issuer, aud == service, nbf/exp, and `access`
covering what the request needs.  Without credentials, or with wrong ones,
it answers 401.

POST /token with the form grant_type=refresh_token&refresh_token=T
&service=S&scope=..&client_id=C (docker's identity-token flow, OAuth2's
refresh-token grant) answers {"access_token": JWT, "refresh_token": T,
"expires_in": 300, "scope": ...} when T is --refresh-token (its subject
is --user); a wrong or missing refresh token is 400 invalid_grant (as an
OAuth2 server answers), a missing client_id or a body that is not
application/x-www-form-urlencoded 400 invalid_request.  Such requests are
never checked for Basic credentials.

Every request is logged as one line to --log:
"METHOD user=<name or -> scopes=<...> status=<code>", or for the refresh
grant "POST grant=refresh_token client_id=<C> auth=<Authorization scheme or
-> scopes=<...> status=<code>" (the token itself is never logged).
GET /health answers 200 (for the test's wait loop).

For the hostile-realm tests: --headers-log FILE records every request but
GET /health as "METHOD PATH", then one "  Name: value" line per header,
verbatim (so a test can check that no Authorization header came at all),
then "  body-bytes=N";
--tls CERT KEY serves https; --redirect-to BASE answers every /token request
307 to BASE + the request's path and query instead of issuing anything.
"""
import argparse
import base64
import json
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--refresh-token", default="", help="the identity token the refresh grant accepts")
    ap.add_argument("--headers-log", help="record every request's headers here")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve https")
    ap.add_argument("--redirect-to", help="answer /token with 307 to this base URL")
    a = ap.parse_args()

    with open(a.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(a.cert, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    lock = threading.Lock()

    def log(line):
        with lock, open(a.log, "a") as f:
            f.write(line + "\n")

    def access_for(scopes):
        out = []
        for scope in scopes:
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3:
                    continue
                typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1]
                out.append({"type": typ, "name": name, "actions": [x for x in actions.split(",") if x]})
        return out

    def log_headers(handler, body_bytes):
        if not a.headers_log or urlsplit(handler.path).path == "/health":
            return
        lines = [f"{handler.command} {handler.path}"]
        lines += [f"  {k}: {v}" for k, v in handler.headers.items()]
        lines.append(f"  body-bytes={body_bytes}")
        with lock, open(a.headers_log, "a") as f:
            f.write("\n".join(lines) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def redirected(self):
            if not a.redirect_to or urlsplit(self.path).path != "/token":
                return False
            self.send_response(307)
            self.send_header("Location", a.redirect_to.rstrip("/") + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True

        def reply(self, code, body, extra=()):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def basic_user(self):
            h = self.headers.get("Authorization", "")
            if not h.lower().startswith("basic "):
                return None, None
            try:
                user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
            except Exception:
                return None, None
            return user, pw

        def token_for(self, user, scopes):
            now = int(time.time())
            claims = {
                "iss": a.issuer,
                "sub": user,
                "aud": a.service,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "access": access_for(scopes),
            }
            return now, jwt.encode(claims, key, algorithm="RS256", headers={"x5c": x5c})

        def refresh(self, q):
            scopes = q.get("scope", [])
            client = (q.get("client_id") or [""])[0]
            auth = self.headers.get("Authorization", "").split(" ")[0] or "-"
            service = (q.get("service") or [""])[0]
            given = (q.get("refresh_token") or [""])[0]
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()

            def done(code, body):
                log(f"POST grant=refresh_token client_id={client or '-'} auth={auth} "
                    f"scopes={','.join(scopes)} status={code}")
                self.reply(code, body)

            if ctype != "application/x-www-form-urlencoded" or not client:
                done(400, {"error": "invalid_request", "error_description": "bad form or no client_id"})
            elif not a.refresh_token or given != a.refresh_token:
                done(400, {"error": "invalid_grant", "error_description": "unknown refresh token"})
            elif service != a.service:
                done(400, {"error": "invalid_request", "error_description": "unknown service"})
            else:
                _, token = self.token_for(a.user, scopes)
                # no "token" key: an OAuth2 answer has access_token only
                done(200, {"access_token": token, "refresh_token": given, "expires_in": 300,
                           "scope": " ".join(scopes)})

        def issue(self, method, user, pw, scopes, service):
            if user is None or user != a.user or pw != a.password:
                log(f"{method} user={user or '-'} scopes={','.join(scopes)} status=401")
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                           [("WWW-Authenticate", 'Basic realm="smith-test-token"')])
                return
            if service and service != a.service:
                log(f"{method} user={user} scopes={','.join(scopes)} status=400")
                self.reply(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
                return
            now, token = self.token_for(user, scopes)
            log(f"{method} user={user} scopes={','.join(scopes)} status=200")
            self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

        def do_GET(self):
            log_headers(self, 0)
            if self.redirected():
                return
            u = urlsplit(self.path)
            if u.path == "/health":
                self.reply(200, {})
                return
            if u.path != "/token":
                self.reply(404, {})
                return
            q = parse_qs(u.query)
            user, pw = self.basic_user()
            self.issue("GET", user, pw, q.get("scope", []), (q.get("service") or [""])[0])

        def do_POST(self):
            u = urlsplit(self.path)
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n).decode() if n else ""
            log_headers(self, len(body))
            if self.redirected():
                return
            if u.path != "/token":
                self.reply(404, {})
                return
            q = parse_qs(body)
            if (q.get("grant_type") or [""])[0] == "refresh_token":
                self.refresh(q)
                return
            user, pw = (q.get("username") or [None])[0], (q.get("password") or [None])[0]
            if user is None:
                user, pw = self.basic_user()
            self.issue("POST", user, pw, q.get("scope", []), (q.get("service") or [""])[0])

    host, port = a.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
