"""A tiny app: proves the venv built in the dev stage runs on the shell-less runtime."""
import os
import platform
import sqlite3
import sys


def main() -> None:
    db = sqlite3.connect(":memory:")
    (answer,) = db.execute("select 40 + 2").fetchone()
    print(f"hello-spartan 1.0.0 on Python {platform.python_version()} from {sys.prefix}: "
          f"uid {os.getuid()}, sqlite says {answer}")
