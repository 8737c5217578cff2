# Stub of the application for the migrate e2e: a WSGI callable the uvicorn stub serves.
import os
import sys


def app(environ, start_response):
    body = ("hello from w2-4th-api on Python %d.%d as uid %d" % (sys.version_info[0], sys.version_info[1], os.getuid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
