#!/usr/bin/env python3
"""slow_download.py HOST PORT PATH RATE: GET PATH over HTTP/1.0 and read the body at about RATE bytes
per second through a small receive buffer, so that the server cannot finish early by filling the
client's buffers: the connection stays ESTABLISHED for the whole transfer. Prints "sha256=HEX bytes=N"."""
import hashlib
import socket
import sys
import time

host, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
CHUNK = 16384
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(30)
s.connect((host, port))
s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(CHUNK)
    if not chunk:
        sys.exit("no response head")
    data += chunk
body = data.split(b"\r\n\r\n", 1)[1]
digest = hashlib.sha256(body)
total = len(body)
start = time.monotonic()
while True:
    chunk = s.recv(CHUNK)
    if not chunk:
        break
    digest.update(chunk)
    total += len(chunk)
    ahead = total / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
print(f"sha256={digest.hexdigest()} bytes={total}")
