#!/usr/bin/env python3
# client_probe.py -- clients for the end-to-end tests of client_address (test_client_address.sh).
#
# usage:
#   client_probe.py dialogue VIP PORT server-first|client-first
#       One SMTP-like exchange with proxy_backend.py through the VIP. server-first: wait for the
#       greeting before sending anything (what an SMTP, SSH or MySQL client does); client-first: send
#       the command at once. The greeting must name this client's own address and port (what the
#       PROXY header told the backend). Prints "ok BACKEND ADDR PORT vN" or "fail REASON"; exit 0/1.
#
#   client_probe.py spoof-header VIP PORT v1|v2
#       A client that starts its stream with a PROXY header of its own naming 192.0.2.66:1111 (or
#       fd00:66::66:1111 over IPv6), then "HELO probe". The backend must still greet this client by
#       its true address (Sluice's header comes first). Prints "ok BACKEND ADDR PORT" or "fail ...".
#
#   client_probe.py full-first-segment VIP PORT SIZE
#       POST /upload with a SIZE-byte body, request line, headers and body handed to the kernel in one
#       send, so that the first segment is a full MSS and leaves no room for a PROXY header in front.
#       Prints "LOCAL_ADDR LOCAL_PORT SHA256 ANSWER_BODY"; exit 0 on HTTP 200.
#
#   client_probe.py toa-spoof VIP PORT SPORT KIND FAKE_ADDR FAKE_PORT
#       A hand-made TCP connection over a raw socket from source port SPORT, every segment (SYN, the
#       handshake ACK, the request) carrying a TOA option of kind KIND that names FAKE_ADDR:FAKE_PORT
#       (8 bytes for an IPv4 address, 20 for IPv6). Sends "GET /whoami HTTP/1.0", reads the answer,
#       closes with FIN. The kernel knows nothing of this connection and would reset it: the caller
#       must drop outgoing RSTs from SPORT (nftables) while it runs. Prints the HTTP body; exit 0
#       when an HTTP 200 came back.
import hashlib
import ipaddress
import random
import select
import socket
import struct
import sys
import time


def dialogue(vip, port, mode):
    try:
        with socket.create_connection((vip, port), timeout=5) as s:
            me = s.getsockname()
            if mode == "client-first":
                s.sendall(b"HELO probe\r\n")
            reader = s.makefile("rb")
            greeting = reader.readline().decode().split()
            if mode == "server-first":
                s.sendall(b"HELO probe\r\n")
            reply = reader.readline().decode().split()
    except OSError as error:
        return "fail " + f"{type(error).__name__}:{error}".replace(" ", "_"), 1
    problem = greeting_problem(greeting, me)
    if problem:
        return problem, 1
    if len(reply) != 5 or reply[0] != "250" or reply[1:4] != greeting[1:4]:
        return f"fail reply={'_'.join(reply) or 'none'}", 1
    return f"ok {greeting[1]} {greeting[2]} {greeting[3]} {reply[4]}", 0


def greeting_problem(greeting, me):
    """What is wrong with the backend's "220 NAME ADDRESS PORT" greeting, or None: ADDRESS and PORT
    (the client address the PROXY header carried) must be this socket's own."""
    if len(greeting) != 4 or greeting[0] != "220":
        return f"fail greeting={'_'.join(greeting) or 'none'}"
    if greeting[2] != me[0] or greeting[3] != str(me[1]):
        return f"fail greeting_names_{greeting[2]},{greeting[3]}_not_{me[0]},{me[1]}"
    return None


def spoof_header(vip, port, version):
    v6 = ":" in vip
    fake, fake_port = ("fd00:66::66" if v6 else "192.0.2.66"), 1111
    if version == "v1":
        header = f"PROXY {'TCP6' if v6 else 'TCP4'} {fake} {vip} {fake_port} {port}\r\n".encode()
    else:
        addresses = ipaddress.ip_address(fake).packed + ipaddress.ip_address(vip).packed
        body = addresses + struct.pack("!HH", fake_port, port)
        header = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21 if v6 else 0x11]) + struct.pack("!H", len(body)) + body
    try:
        with socket.create_connection((vip, port), timeout=5) as s:
            me = s.getsockname()
            s.sendall(header + b"HELO probe\r\n")
            greeting = s.makefile("rb").readline().decode().split()
    except OSError as error:
        return "fail " + f"{type(error).__name__}:{error}".replace(" ", "_"), 1
    problem = greeting_problem(greeting, me)
    if problem:
        return problem, 1
    return f"ok {greeting[1]} {greeting[2]} {greeting[3]}", 0


def full_first_segment(vip, port, size):
    body = random.randbytes(size)
    head = f"POST /upload HTTP/1.1\r\nHost: {vip}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((vip, port), timeout=10) as s:
        me = s.getsockname()
        s.sendall(head.encode() + body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    status, _, rest = answer.partition(b"\r\n")
    text = rest.partition(b"\r\n\r\n")[2].decode(errors="replace").strip()
    print(me[0], me[1], hashlib.sha256(body).hexdigest(), text)
    return 0 if status.startswith(b"HTTP/1.1 200") else 1


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class RawClient:
    """Just enough TCP for one request and answer, in order, over a raw socket."""

    def __init__(self, vip, port, sport, option):
        self.vip, self.port, self.sport, self.option = vip, port, sport, option
        self.v6 = ":" in vip
        family = socket.AF_INET6 if self.v6 else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_DGRAM)
        probe.connect((vip, port))
        self.src = probe.getsockname()[0]
        probe.close()
        self.sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_TCP)
        if self.v6:
            # The kernel fills in (and on receipt verifies) the TCP checksum at offset 16.
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 16)
        self.seq = random.getrandbits(32)
        self.ack = 0

    def send(self, flags, payload=b"", options=None):
        options = self.option if options is None else options
        options += b"\x01" * (-len(options) % 4)
        offset = (20 + len(options)) // 4
        header = struct.pack(
            "!HHIIBBHHH", self.sport, self.port, self.seq, self.ack, offset << 4, flags, 64240, 0, 0
        )
        segment = bytearray(header + options + payload)
        if not self.v6:
            pseudo = socket.inet_aton(self.src) + socket.inet_aton(self.vip)
            pseudo += struct.pack("!BBH", 0, 6, len(segment))
            struct.pack_into("!H", segment, 16, checksum(pseudo + bytes(segment)))
        self.sock.sendto(bytes(segment), (self.vip, 0))
        # Sequence numbers wrap at 2^32.
        self.seq = (self.seq + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    def receive(self, deadline):
        """The next segment from VIP:PORT to us: (flags, seq, payload)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no answer")
            packet, peer = self.sock.recvfrom(65535)
            if not self.v6:
                if socket.inet_ntoa(packet[12:16]) != self.vip:
                    continue
                packet = packet[(packet[0] & 0x0F) * 4 :]
            elif ipaddress.ip_address(peer[0]) != ipaddress.ip_address(self.vip):
                continue
            sport, dport, seq, _, offset_byte, flags = struct.unpack("!HHIIBB", packet[:14])
            if sport != self.port or dport != self.sport:
                continue
            return flags, seq, packet[(offset_byte >> 4) * 4 :]


def toa_spoof(vip, port, sport, kind, fake_addr, fake_port):
    address = ipaddress.ip_address(fake_addr)
    value = struct.pack("!H", fake_port) + address.packed
    option = bytes([kind, 2 + len(value)]) + value
    client = RawClient(vip, port, sport, option)
    deadline = time.monotonic() + 8
    mss = 1220 if client.v6 else 1400
    client.send(0x02, options=struct.pack("!BBH", 2, 4, mss) + option)
    while True:
        flags, seq, _ = client.receive(deadline)
        if flags & 0x12 == 0x12:
            break
    client.ack = (seq + 1) & 0xFFFFFFFF
    client.send(0x10)
    client.send(0x18, f"GET /whoami HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode())
    answer, fin = b"", False
    while not fin:
        flags, seq, payload = client.receive(deadline)
        if flags & 0x04:
            print("reset by the peer", file=sys.stderr)
            return 1
        if seq == client.ack and (payload or flags & 0x01):
            answer += payload
            client.ack = (client.ack + len(payload) + (1 if flags & 0x01 else 0)) & 0xFFFFFFFF
            fin = bool(flags & 0x01)
        client.send(0x10)
    client.send(0x11)
    try:
        client.receive(time.monotonic() + 1)
    except TimeoutError:
        pass
    head, _, body = answer.partition(b"\r\n\r\n")
    print(body.decode(errors="replace").strip())
    return 0 if head.startswith(b"HTTP/1.1 200") else 1


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "dialogue" and len(sys.argv) == 5:
        text, status = dialogue(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        print(text)
        return status
    if command == "spoof-header" and len(sys.argv) == 5:
        text, status = spoof_header(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        print(text)
        return status
    if command == "full-first-segment" and len(sys.argv) == 5:
        try:
            return full_first_segment(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        except OSError as error:
            print(f"full-first-segment: {error}", file=sys.stderr)
            return 1
    if command == "toa-spoof" and len(sys.argv) == 8:
        vip, port, sport, kind, fake_addr, fake_port = sys.argv[2:8]
        try:
            return toa_spoof(vip, int(port), int(sport), int(kind), fake_addr, int(fake_port))
        except (OSError, TimeoutError) as error:
            print(f"toa-spoof: {error}", file=sys.stderr)
            return 1
    print("usage: see the header of client_probe.py", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
