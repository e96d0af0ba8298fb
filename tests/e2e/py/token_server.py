#!/usr/bin/python3
"""A minimal registry token server (Docker token auth) for the tests.

  token_server.py PORT KEY.pem CERT.pem SERVICE ISSUER USER PASSWORD [IDENTITY_TOKEN]

GET /token?service=...&scope=repository:NAME:pull with Basic USER:PASSWORD answers
{"token", "access_token", "expires_in"}: an RS256 JWT with the signing certificate in
x5c, granting the pull and push actions requested. Wrong or missing credentials get 401.
POST /token with the OAuth2 form grant_type=refresh_token&refresh_token=IDENTITY_TOKEN
(what Docker clients do with an identity token) answers {"access_token", ...} likewise.
Every request is logged to stdout as "METHOD PATH AUTH-PRESENT [GRANT]" for the tests.
"""
import base64
import http.server
import json
import sys
import threading
import time
import urllib.parse
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

port, key_file, cert_file, service, issuer, user, password = sys.argv[1:8]
identity_token = sys.argv[8] if len(sys.argv) > 8 else None
key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
cert = x509.load_pem_x509_certificate(open(cert_file, "rb").read())
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


log_lock = threading.Lock()


def log(line):
    # One write per line under a lock: print() from several threads can interleave.
    with log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        log("GET %s %s" % (self.path.split("?")[0], "auth" if auth else "noauth"))
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_response(404)
            self.end_headers()
            return
        q = urllib.parse.parse_qs(url.query)
        expected = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        if auth != expected:
            return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
        self.grant(q, {"token": None})

    def do_POST(self):
        auth = self.headers.get("Authorization", "")
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
        grant = form.get("grant_type", [""])[0]
        log("POST %s %s %s client_id=%s" % (self.path.split("?")[0], "auth" if auth else "noauth", grant,
                                             form.get("client_id", [""])[0]))
        ok = (self.path == "/token" and identity_token and grant == "refresh_token" and
              form.get("refresh_token", [""])[0] == identity_token and
              self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"))
        if not ok:
            return self.send_json(400, {"error": "invalid_grant", "error_description": "unknown refresh token"})
        self.grant(form, {"refresh_token": identity_token})

    def grant(self, q, extra):
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a in ("pull", "push")]})
        now = int(time.time())
        claims = {"iss": issuer, "sub": user, "aud": q.get("service", [service])[0], "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": [x5c]})
        answer = {"access_token": token, "expires_in": 300}
        for k, v in extra.items():
            answer[k] = v if v is not None else token
        self.send_json(200, answer)

    def send_json(self, status, answer):
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
