# Stub of the application for the migrate e2e: prints where it runs and exits.
import os
import sys

print("hello from chrisricci on Python %d.%d as uid %d" % (sys.version_info[0], sys.version_info[1], os.getuid()))
