#!/usr/bin/env python3
# pcap_tcp.py -- one line per TCP segment of a classic pcap file (tcpdump -w), with every TCP option
# decoded, for end-to-end checks that tcpdump's text output cannot make reliably (it prints unknown
# options as raw hex and truncates them).
#
# usage: pcap_tcp.py FILE [PAYLOAD_BYTES]
#
# Output, space-separated:  SRC SPORT DST DPORT FLAGS SEQ ACK PAYLOAD_LEN OPTIONS TIME [PAYLOAD]
#   FLAGS    the set flags as letters: S(YN) A(CK) F(IN) R(ST) P(USH), e.g. "SA", "A", "PA", "FA"
#   OPTIONS  ';'-joined, "-" when none: mss=N ws=N sackok sack=N(blocks) ts nop eol, and every other
#            option as "kind=K,len=L,hex=..."; an option of length 8 (IPv4 form) or 20 (IPv6 form) whose
#            kind is not a standard one is also decoded as a TOA: "toa=K,L,ADDRESS,PORT".
#   TIME     seconds since the first packet of the file, to the microsecond
#   PAYLOAD  only with PAYLOAD_BYTES: the first PAYLOAD_BYTES bytes of the payload in hex ("-" if none).
# Link types: Ethernet (1), Linux cooked v1 (113) and raw IP (101). IPv6 extension headers are not
# followed (the lab sends none). PAYLOAD_LEN comes from the IP header, so a capture with a short snap
# length (tcpdump -s) still reports it right. A malformed packet is reported as "malformed" on stderr.
import ipaddress
import struct
import sys

STANDARD = {0, 1, 2, 3, 4, 5, 8}


def options_text(raw):
    out, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            out.append("eol")
            break
        if kind == 1:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2 or i + raw[i + 1] > len(raw):
            out.append(f"bad@{i}")
            break
        length = raw[i + 1]
        value = raw[i + 2 : i + length]
        if kind == 2 and length == 4:
            out.append(f"mss={struct.unpack('!H', value)[0]}")
        elif kind == 3 and length == 3:
            out.append(f"ws={value[0]}")
        elif kind == 4:
            out.append("sackok")
        elif kind == 5:
            out.append(f"sack={(length - 2) // 8}")
        elif kind == 8:
            out.append("ts")
        else:
            out.append(f"kind={kind},len={length},hex={value.hex()}")
            if kind not in STANDARD and length in (8, 20):
                port = struct.unpack("!H", value[:2])[0]
                address = ipaddress.ip_address(bytes(value[2:]))
                out.append(f"toa={kind},{length},{address},{port}")
        i += length
    return ";".join(out) or "-"


def segment(frame, linktype, payload_bytes, time):
    if linktype == 1:
        offset, ethertype = 14, struct.unpack("!H", frame[12:14])[0]
        while ethertype == 0x8100:
            ethertype = struct.unpack("!H", frame[offset + 2 : offset + 4])[0]
            offset += 4
    elif linktype == 113:
        offset, ethertype = 16, struct.unpack("!H", frame[14:16])[0]
    elif linktype == 101:
        offset, ethertype = 0, 0x0800 if frame[0] >> 4 == 4 else 0x86DD
    else:
        raise ValueError(f"unsupported link type {linktype}")
    ip = frame[offset:]
    if ethertype == 0x0800:
        if ip[9] != 6:
            return None
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        tcp, length = ip[header:total], total - header
    elif ethertype == 0x86DD:
        if ip[6] != 6:
            return None
        length = struct.unpack("!H", ip[4:6])[0]
        src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
        tcp = ip[40 : 40 + length]
    else:
        return None
    sport, dport, seq, ack, offset_byte, flags = struct.unpack("!HHIIBB", tcp[:14])
    data_offset = (offset_byte >> 4) * 4
    if data_offset < 20 or data_offset > length or data_offset > len(tcp):
        raise ValueError("bad data offset")
    letters = "".join(letter for bit, letter in ((2, "S"), (16, "A"), (1, "F"), (4, "R"), (8, "P")) if flags & bit)
    line = (
        f"{src} {sport} {dst} {dport} {letters or '.'} {seq} {ack} {length - data_offset} "
        f"{options_text(tcp[20:data_offset])} {time:.6f}"
    )
    if payload_bytes:
        line += " " + (tcp[data_offset : data_offset + payload_bytes].hex() or "-")
    return line


def main(path, payload_bytes):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    pos, start = 24, None
    # The fraction is in microseconds (nanoseconds for the 0xa1b23c4d magic).
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    while pos + 16 <= len(data):
        seconds, fraction, caplen, _ = struct.unpack(endian + "IIII", data[pos : pos + 16])
        stamp = seconds + fraction * scale
        start = stamp if start is None else start
        frame = data[pos + 16 : pos + 16 + caplen]
        pos += 16 + caplen
        try:
            line = segment(frame, linktype, payload_bytes, stamp - start)
        except (ValueError, IndexError, struct.error) as error:
            print(f"malformed: {error}", file=sys.stderr)
            continue
        if line:
            print(line)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
