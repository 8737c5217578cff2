"""Acceptance check for the python image: the stdlib modules that need native libraries work,
and the process runs as the nonroot account. Usage: check.py [TLS_PORT]."""
import bz2, ctypes, decimal, hashlib, json, lzma, os, pwd, socket, sqlite3, ssl, sys
import tempfile, threading, uuid, zlib
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

checks = []

def check(name, cond):
    checks.append(name)
    if not cond:
        print(f"FAIL {name}", file=sys.stderr)
        sys.exit(1)

check("hashlib", hashlib.sha256(b"spartan").hexdigest() == "70cbe512b00274e995e4c303de2333457cd810ab0ee3ddfb575b01973d8b929f")
check("hashlib.openssl", "sha3_256" in hashlib.algorithms_available)
data = b"spartan " * 1000
check("zlib", zlib.decompress(zlib.compress(data)) == data)
check("bz2", bz2.decompress(bz2.compress(data)) == data)
check("lzma", lzma.decompress(lzma.compress(data)) == data)
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.execute("insert into t values (41)")
check("sqlite3", db.execute("select x + 1 from t").fetchone()[0] == 42)
check("json", json.loads(json.dumps({"a": [1, 2]})) == {"a": [1, 2]})
decimal.getcontext().prec = 30
check("decimal", str(decimal.Decimal(1) / decimal.Decimal(7)) == "0.142857142857142857142857142857")
libc = ctypes.CDLL("libc.so.6")
check("ctypes", libc.getpid() == os.getpid())
check("uuid", uuid.uuid4().version == 4 and len(str(uuid.uuid5(uuid.NAMESPACE_DNS, "x"))) == 36)
ny = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc).astimezone(ZoneInfo("America/New_York"))
check("zoneinfo", ny.hour == 7 and ny.tzname() == "EST")
with tempfile.NamedTemporaryFile(dir="/tmp") as f:
    f.write(b"x")
    f.flush()
    check("tempfile", os.path.getsize(f.name) == 1)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
def echo():
    c, _ = srv.accept()
    c.sendall(c.recv(16))
    c.close()
threading.Thread(target=echo).start()
cli = socket.create_connection(srv.getsockname())
cli.sendall(b"ping")
check("socket", cli.recv(16) == b"ping")

ctx = ssl.create_default_context()
check("ssl.bundle", len(ctx.get_ca_certs()) > 100 or len(sys.argv) > 1)
if len(sys.argv) > 1:
    # A TLS server run by the test on the host, whose certificate chains to a CA that the spec
    # added to the image's bundle: the handshake verifies the chain against the bundle.
    port = int(sys.argv[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            check("ssl.handshake", b"spartan-tls-ok" in tls.recv(4096))

print("uid", os.getuid(), "user", pwd.getpwuid(os.getuid()).pw_name)
print("checks ok:", " ".join(checks))
