#!/usr/bin/env python3
# udp_fragments.py -- the peers of test_fragments.sh: fragmented UDP datagrams through Sluice.
#
# usage:
#   udp_fragments.py echo PORT LOG
#       A UDP echo on [::]:PORT (IPv4 and IPv6): answers every datagram with its own payload, unchanged,
#       and appends "SOURCE_ADDR SOURCE_PORT LENGTH" to LOG. A 4000-byte answer over a 1500-byte link is
#       fragmented by the kernel.
#
#   udp_fragments.py send VIP PORT SIZE COUNT
#       COUNT datagrams of SIZE random bytes through an ordinary UDP socket (the kernel fragments them, in
#       order); each answer must carry the same bytes. Prints "ok N/COUNT" or "fail N/COUNT ..."; exit 0/1.
#
#   udp_fragments.py reverse IFACE GATEWAY_MAC SOURCE VIP PORT SIZE COUNT
#       The same, but each datagram is built and fragmented here (1500-byte MTU) and its fragments are
#       sent on IFACE through an AF_PACKET socket in reverse order, the first fragment last, so that the
#       later ones reach Sluice before the first. A UDP socket bound to the datagrams' source port takes
#       the answers (the kernel reassembles them).
import hashlib
import ipaddress
import os
import random
import socket
import struct
import sys

MTU = 1500


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo(port, log_path):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    with open(log_path, "a", buffering=1) as log:
        while True:
            data, peer = s.recvfrom(65535)
            log.write(f"{peer[0].removeprefix('::ffff:')} {peer[1]} {len(data)}\n")
            s.sendto(data, peer)


def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def answered(s, payload):
    """True when the next datagram on s carries payload (2 s at most)."""
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        return False
    return hashlib.sha256(data).digest() == hashlib.sha256(payload).digest()


def send(vip, port, size, count):
    ok = 0
    s = socket.socket(family(vip), socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(count):
        payload = os.urandom(size)
        s.sendto(payload, (vip, port))
        ok += answered(s, payload)
    print(f"{'ok' if ok == count else 'fail'} {ok}/{count}")
    return ok == count


def fragments(source, vip, sport, port, payload):
    """The IP fragments (no Ethernet header) of one UDP datagram, in order, and the ethertype."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(vip)
    length = 8 + len(payload)
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", length, 17)
    udp = struct.pack("!HHHH", sport, port, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    identification = random.getrandbits(16 if src.version == 4 else 32)
    chunk = (MTU - (20 if src.version == 4 else 48)) // 8 * 8
    out = []
    for offset in range(0, len(udp), chunk):
        piece = udp[offset:offset + chunk]
        more = offset + chunk < len(udp)
        if src.version == 4:
            header = struct.pack(
                "!BBHHHBBH4s4s", 0x45, 0, 20 + len(piece), identification, (0x2000 if more else 0) | offset // 8,
                64, 17, 0, src.packed, dst.packed)
            header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
            out.append(header + piece)
        else:
            header = struct.pack("!IHBB16s16s", 6 << 28, 8 + len(piece), 44, 64, src.packed, dst.packed)
            fragment = struct.pack("!BBHI", 17, 0, offset // 8 << 3 | (1 if more else 0), identification)
            out.append(header + fragment + piece)
    return out, (0x0800 if src.version == 4 else 0x86DD)


def reverse(interface, gateway_mac, source, vip, port, size, count):
    ok = 0
    receiver = socket.socket(family(vip), socket.SOCK_DGRAM)
    receiver.bind((source, 0))
    receiver.settimeout(2)
    sport = receiver.getsockname()[1]
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((interface, 0))
    with open(f"/sys/class/net/{interface}/address") as f:
        own_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    destination = bytes.fromhex(gateway_mac.replace(":", ""))
    for _ in range(count):
        payload = os.urandom(size)
        pieces, ethertype = fragments(source, vip, sport, port, payload)
        for piece in reversed(pieces):
            raw.send(destination + own_mac + struct.pack("!H", ethertype) + piece)
        ok += answered(receiver, payload)
    print(f"{'ok' if ok == count else 'fail'} {ok}/{count}")
    return ok == count


def main(argv):
    if len(argv) >= 4 and argv[1] == "echo":
        echo(int(argv[2]), argv[3])
    elif len(argv) == 6 and argv[1] == "send":
        return 0 if send(argv[2], int(argv[3]), int(argv[4]), int(argv[5])) else 1
    elif len(argv) == 9 and argv[1] == "reverse":
        return 0 if reverse(argv[2], argv[3], argv[4], argv[5], int(argv[6]), int(argv[7]), int(argv[8])) else 1
    else:
        print(__doc__ if __doc__ else "see the header of udp_fragments.py", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
