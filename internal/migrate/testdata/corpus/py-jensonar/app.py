# Stub of the application for the migrate e2e: answers / and /health with the standard library.
import http.server
import os
import sys

NAME = "jensonar"
PORT = int(os.environ.get("PORT", "5000"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("ok" if self.path == "/health" else "hello from %s on Python %d.%d as uid %d" % (NAME, sys.version_info[0], sys.version_info[1], os.getuid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
