"""Stub of uvicorn for the migrate e2e (PyPI is out of reach): `uvicorn MODULE:ATTR --host H
--port P` serves the WSGI callable MODULE.ATTR with the standard library's wsgiref."""
import argparse
import importlib
import os
import sys
from wsgiref.simple_server import make_server


def main():
    p = argparse.ArgumentParser(prog="uvicorn")
    p.add_argument("app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    a = p.parse_args()
    sys.path.insert(0, os.getcwd())  # uvicorn's --app-dir defaults to the working directory
    module, attr = a.app.split(":")
    app = getattr(importlib.import_module(module), attr)
    make_server(a.host, a.port, app).serve_forever()
