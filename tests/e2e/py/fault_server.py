#!/usr/bin/env python3
"""A registry that misbehaves on purpose, for what a real one cannot do.

  fault_server.py PORT STORE_DIR LOG [TLS_DIR]

With TLS_DIR (server.crt, server.key, ca.crt) it speaks HTTPS and asks clients for a
certificate signed by ca.crt without requiring one; the log records whether one came.

Serves /v2/<name>/manifests/<ref> and /v2/<name>/blobs/<digest> from STORE_DIR (written by
the test: manifests/<name>/<ref> with a .type file, blobs/<hex>). Repository names pick a
behaviour:
  .../r429/...       first request of each path: 429 with Retry-After: 1
  .../r503/...       first two requests of each path: 503
  .../drop/...       a blob's first request sends half of it and closes the connection
  .../norange/...    like drop, and then ignores Range (always 200 with the whole blob)
  .../badblob/...    blobs are served with their last byte flipped
  .../swapped/...    a big blob's first request sends the first half of it with other bytes
                     (bytes 1024 to 1100 flipped), waits 1 s and closes; later requests
                     ignore Range and send the whole true blob
  .../slow/...       a big blob's second half comes 4 s after its first
  .../redirect/...   blobs answer 307 to the same server under the name "localhost"
  .../auth/...       everything needs Basic auth as u:pw-7f3a9c-secret; 401 otherwise
  .../foreign/...    blobs answer 307 to "localhost", which answers 401 naming its own
                     token realm, /foreign-token on "localhost"
  .../endless/...    blobs stream without end (no Content-Length)
Every request is logged as "METHOD PATH range=… auth=yes|no host=… cert=yes|no" to LOG.
"""
import http.server
import os
import ssl
import sys
import threading
import time

port, store, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tls_dir = sys.argv[4] if len(sys.argv) > 4 else None
scheme = "https" if tls_dir else "http"
counts = {}
lock = threading.Lock()


def log(line):
    with lock, open(log_path, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_first_half(self, body, length):
        """Announces `length` bytes and sends the first half of `body`; the caller decides
        what comes next (the rest, nothing, or a closed connection)."""
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body[:length // 2])
        self.wfile.flush()

    def drop_connection(self):
        self.close_connection = True
        self.connection.shutdown(2)

    def send_body(self, status, body, ctype="application/octet-stream", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        rng = self.headers.get("Range", "")
        peer_cert = tls_dir and self.connection.getpeercert()
        log("%s %s range=%s auth=%s host=%s cert=%s" % (self.command, self.path, rng or "-", "yes" if auth else "no",
                                                       self.headers.get("Host", ""), "yes" if peer_cert else "no"))
        with lock:
            n = counts[self.path] = counts.get(self.path, 0) + 1
        if self.path == "/v2/" or self.path == "/v2":
            return self.send_body(200, b"{}", "application/json")
        if self.path.startswith("/foreign-token"):
            return self.send_body(200, b'{"token": "foreign"}', "application/json")
        parts = self.path.split("/")
        # The redirect target stands for a blob CDN: it serves without registry credentials.
        cdn = self.headers.get("Host", "").startswith("localhost")
        if "/auth/" in self.path and not cdn and auth != "Basic dTpwdy03ZjNhOWMtc2VjcmV0":
            return self.send_body(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"who are you"}]}',
                                  "application/json", [("WWW-Authenticate", 'Basic realm="fault"')])
        if "/r429/" in self.path and n == 1:
            return self.send_body(429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                                  "application/json", [("Retry-After", "1")])
        if "/r503/" in self.path and n <= 2:
            return self.send_body(503, b"unavailable", "text/plain")
        if "manifests" in parts:
            i = parts.index("manifests")
            name, ref = "/".join(parts[2:i]), parts[i + 1]
            path = os.path.join(store, "manifests", name, ref)
            if not os.path.exists(path):
                return self.send_body(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
                                      "application/json")
            ctype = open(path + ".type").read().strip()
            return self.send_body(200, open(path, "rb").read(), ctype)
        if "blobs" in parts:
            digest = parts[parts.index("blobs") + 1]
            path = os.path.join(store, "blobs", digest.split(":")[1])
            if not os.path.exists(path):
                return self.send_body(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}',
                                      "application/json")
            data = open(path, "rb").read()
            if "/foreign/" in self.path:
                if self.headers.get("Host", "").startswith("127.0.0.1"):
                    target = "%s://localhost:%d%s" % (scheme, port, self.path)
                    return self.send_body(307, b"", "text/plain", [("Location", target)])
                realm = 'Bearer realm="http://localhost:%d/foreign-token",service="cdn"' % port
                return self.send_body(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"cdn"}]}',
                                      "application/json", [("WWW-Authenticate", realm)])
            if "/endless/" in self.path and len(data) > 100000:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.close_connection = True
                chunk = b"\0" * 65536
                try:
                    for _ in range(100000):  # 6.5 GB at most: bounded, the client stops first
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if "/redirect/" in self.path and self.headers.get("Host", "").startswith("127.0.0.1"):
                target = "%s://localhost:%d%s" % (scheme, port, self.path)
                return self.send_body(307, b"", "text/plain", [("Location", target)])
            # stallbad: the big layer stalls while the small one arrives with wrong bytes.
            if ("/stall/" in self.path or "/stallbad/" in self.path) and len(data) > 100000:
                # Half the layer, then nothing: the client is killed while waiting.
                self.send_first_half(data, len(data))
                time.sleep(30)
                self.close_connection = True
                return
            if "/badblob/" in self.path or ("/stallbad/" in self.path and data[:2] == b"\x1f\x8b"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            if ("/drop/" in self.path or "/norange/" in self.path) and n == 1 and len(data) > 1:
                self.send_first_half(data, len(data))
                return self.drop_connection()
            if "/slow/" in self.path and len(data) > 100000:
                self.send_first_half(data, len(data))
                time.sleep(4)
                self.wfile.write(data[len(data) // 2:])
                return
            if "/swapped/" in self.path and len(data) > 100000:
                if n > 1:
                    return self.send_body(200, data)
                other = data[:1024] + bytes(b ^ 0xff for b in data[1024:1100]) + data[1100:]
                self.send_first_half(other, len(data))
                time.sleep(1)  # time for the client to read (and scan) those bytes
                return self.drop_connection()
            if rng and "/norange/" not in self.path:
                start = int(rng.split("=")[1].split("-")[0])
                return self.send_body(206, data[start:], extra=[("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
            return self.send_body(200, data)
        self.send_body(404, b"", "text/plain")


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the dropped connections are on purpose


server = Server(("127.0.0.1", port), Handler)
if tls_dir:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(tls_dir, "server.crt"), os.path.join(tls_dir, "server.key"))
    context.load_verify_locations(os.path.join(tls_dir, "ca.crt"))
    context.verify_mode = ssl.CERT_OPTIONAL
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
