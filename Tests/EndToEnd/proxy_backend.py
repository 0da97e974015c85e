#!/usr/bin/env python3
# proxy_backend.py -- a server-first backend behind a PROXY protocol header, for the end-to-end tests
# of client_address (test_client_address.sh). It behaves like an SMTP server that sits behind a
# balancer: it reads the PROXY header (v1 or v2, exactly the header's bytes and nothing more), greets
# first, then answers one command.
#
# usage: proxy_backend.py NAME PORT LOG
#
# Per connection:  <- PROXY header (5 s at most)
#                  -> "220 NAME CLIENT_ADDR CLIENT_PORT\r\n"     (the address the header named)
#                  <- one line, "HELO x\r\n" or similar (5 s at most)
#                  -> "250 NAME CLIENT_ADDR CLIENT_PORT vN\r\n", then close
# Clients that send first (their command before the greeting) work too: the command waits in the
# socket. One LOG line per connection:
#   ok vN FAMILY SRC SPORT DST DPORT peer=ADDR,PORT tlvs=LIST cmd=LINE
#   bad REASON peer=ADDR,PORT first=HEX        (no header, broken header, a line that is not a command,
#                                               e.g. a second PROXY header)
# TLVs are listed as unique_id:HEX, crc32c:ok|crc32c:BAD, or 0xTT:LEN; a v2 header whose CRC32C TLV
# does not match is "bad crc32c".
import ipaddress
import re
import socket
import struct
import sys
import threading

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
COMMAND = re.compile(rb"^[A-Z]{4}( [ -~]*)?\r\n$")


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


class Bad(Exception):
    pass


def read_exact(conn, n, seen):
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise Bad(f"closed after {len(seen) + len(out)} bytes")
        out += chunk
    seen += out
    return out


def read_line(conn, limit, seen):
    line = b""
    while not line.endswith(b"\n"):
        if len(line) >= limit:
            raise Bad(f"no line end in {limit} bytes")
        line += read_exact(conn, 1, seen)
    return line


def read_header(conn, seen):
    start = read_exact(conn, 5, seen)
    if start == b"PROXY":
        line = start + read_line(conn, 102, seen)
        if not line.endswith(b"\r\n"):
            raise Bad("v1 line without CRLF")
        parts = line[:-2].decode("ascii", "replace").split(" ")
        if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
            raise Bad(f"v1 header {line!r}")
        for text in parts[2:4]:
            address = ipaddress.ip_address(text)
            if str(address) != text or (parts[1] == "TCP4") != (address.version == 4):
                raise Bad(f"v1 address not canonical or of the wrong family: {text}")
        for text in parts[4:6]:
            if not text.isdigit() or str(int(text)) != text or not 0 <= int(text) <= 65535:
                raise Bad(f"v1 port {text!r}")
        return 1, parts[1], parts[2], int(parts[4]), parts[3], int(parts[5]), "-"
    header = start + read_exact(conn, 11, seen)
    if header[:12] != V2_SIGNATURE:
        raise Bad("neither a v1 nor a v2 header")
    if header[12] != 0x21:
        raise Bad(f"v2 version/command byte 0x{header[12]:02x}")
    length = struct.unpack("!H", header[14:16])[0]
    body = read_exact(conn, length, seen)
    if header[13] == 0x11 and length >= 12:
        src, dst = ipaddress.ip_address(body[0:4]), ipaddress.ip_address(body[4:8])
        sport, dport = struct.unpack("!HH", body[8:12])
        family, rest = "TCP4", body[12:]
    elif header[13] == 0x21 and length >= 36:
        src, dst = ipaddress.ip_address(body[0:16]), ipaddress.ip_address(body[16:32])
        sport, dport = struct.unpack("!HH", body[32:36])
        family, rest = "TCP6", body[36:]
    else:
        raise Bad(f"v2 family 0x{header[13]:02x} with length {length}")
    tlvs, i = [], 0
    whole = bytearray(header + body)
    while i < len(rest):
        if i + 3 > len(rest):
            raise Bad("truncated TLV")
        kind, size = rest[i], struct.unpack("!H", rest[i + 1 : i + 3])[0]
        value = rest[i + 3 : i + 3 + size]
        if len(value) != size:
            raise Bad("truncated TLV value")
        if kind == 0x05:
            tlvs.append(f"unique_id:{value.hex()}")
        elif kind == 0x03 and size == 4:
            at = 16 + (len(body) - len(rest)) + i + 3
            whole[at : at + 4] = b"\0\0\0\0"
            ok = crc32c(bytes(whole)) == struct.unpack("!I", value)[0]
            if not ok:
                raise Bad("crc32c")
            tlvs.append("crc32c:ok")
        else:
            tlvs.append(f"0x{kind:02x}:{size}")
        i += 3 + size
    return 2, family, str(src), sport, str(dst), dport, ",".join(tlvs) or "-"


def serve(conn, peer, name, log, lock):
    seen = bytearray()
    peer_text = f"peer={peer[0].removeprefix('::ffff:')},{peer[1]}"
    try:
        conn.settimeout(5)
        version, family, src, sport, dst, dport, tlvs = read_header(conn, seen)
        conn.sendall(f"220 {name} {src} {sport}\r\n".encode())
        command = read_line(conn, 512, seen)
        if not COMMAND.match(command):
            raise Bad(f"not a command: {command[:40]!r}")
        conn.sendall(f"250 {name} {src} {sport} v{version}\r\n".encode())
        line = f"ok v{version} {family} {src} {sport} {dst} {dport} {peer_text} tlvs={tlvs} cmd={command.strip().decode()}"
    except (Bad, OSError, ValueError) as error:
        reason = "timeout" if isinstance(error, socket.timeout) else str(error).replace(" ", "_")
        line = f"bad {reason} {peer_text} first={bytes(seen[:64]).hex() or '-'}"
    finally:
        conn.close()
    with lock:
        log.write(line + "\n")
        log.flush()


def main():
    name, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.bind(("::", port))
    server.listen(64)
    lock = threading.Lock()
    with open(path, "a") as log:
        while True:
            conn, peer = server.accept()
            threading.Thread(target=serve, args=(conn, peer, name, log, lock), daemon=True).start()


if __name__ == "__main__":
    main()
