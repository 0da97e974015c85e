#!/usr/bin/env python3
"""whoami_count.py VIP PORT N [TIMEOUT]: N sequential connections to VIP:PORT, one GET /whoami each
(one process, so thousands of connections take seconds, not the minutes as many curl processes
would). Each answer names the backend; prints "rs1=N rs2=N rs3=N failed=N"."""
import collections
import socket
import sys

vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
request = f"GET /whoami HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode()
counts, failed = collections.Counter(), 0
for _ in range(n):
    try:
        with socket.create_connection((vip, port), timeout=timeout) as s:
            s.sendall(request)
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        counts[data.split(b"\r\n\r\n", 1)[1].split()[0].decode()] += 1
    except (OSError, IndexError):
        failed += 1
print(" ".join(f"rs{i}={counts[f'rs{i}']}" for i in (1, 2, 3)), f"failed={failed}")
