#!/usr/bin/env python3
"""mkrar.py OUT.rar FILE... - writes a RAR 4 archive with every FILE stored (method 0x30, no
compression), for the archive tests: Debian main has no RAR writer. Written from the layout of
RAR 4.x (the marker block, then blocks of HEAD_CRC:2 HEAD_TYPE:1 HEAD_FLAGS:2 HEAD_SIZE:2, each
HEAD_CRC being the low 16 bits of the CRC-32 of the block's header from HEAD_TYPE on; a file
block adds PACK_SIZE:4 UNP_SIZE:4 HOST_OS:1 FILE_CRC:4 FTIME:4 UNP_VER:1 METHOD:1 NAME_SIZE:2
ATTR:4 and the name, and its data follows the header). Names are stored as given (bytes)."""
import os
import struct
import sys
import zlib


def block(htype, flags, body):
    head = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head


def main():
    out, files = sys.argv[1], sys.argv[2:]
    parts = [b"Rar!\x1a\x07\x00", block(0x73, 0, struct.pack("<HI", 0, 0))]
    for f in files:
        data = open(f, "rb").read()
        name = os.fsencode(os.path.basename(f))
        dostime = (2024 - 1980) << 25 | 1 << 21 | 1 << 16  # 2024-01-01 00:00:00
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), dostime, 29, 0x30,
                           len(name), 0o100644 << 16 | 0o100644) + name
        # 0x8000: a long block (the data follows the header)
        parts.append(block(0x74, 0x8000, body) + data)
    parts.append(block(0x7B, 0x4000, b""))
    open(out, "wb").write(b"".join(parts))


main()
