#!/usr/bin/env python3
"""mkrar.py [--rar5] [--encrypt] [--encrypt-headers] OUT.rar FILE... - writes a RAR archive with
every FILE stored (no compression), for the archive tests: Debian main has no RAR writer. Names
are stored as given (bytes), base names only.

RAR 4 (the default), from the layout of RAR 4.x: the marker block, then blocks of HEAD_CRC:2
HEAD_TYPE:1 HEAD_FLAGS:2 HEAD_SIZE:2, each HEAD_CRC being the low 16 bits of the CRC-32 of the
block's header from HEAD_TYPE on; a file block adds PACK_SIZE:4 UNP_SIZE:4 HOST_OS:1 FILE_CRC:4
FTIME:4 UNP_VER:1 METHOD:1 NAME_SIZE:2 ATTR:4 and the name, and its data follows the header.

RAR 5 (--rar5), from RARLAB's description of the RAR 5.0 format: the 8-byte signature, then
blocks of CRC32:4 (of the header from its size field on), SIZE:vint, TYPE:vint, FLAGS:vint
(0x1: an extra area follows, its size as a vint; 0x2: a data area follows, its size as a vint),
the type's fields, the extra area; the data area comes after the header. A main header (type 1,
archive flags 0), a file header per file (type 2: file flags 0x2|0x4 = mtime and CRC32 present,
unpacked size, attributes, mtime:4, CRC32:4, compression info 0 = stored, host OS 1 = Unix,
name length, name), an end header (type 5). vints: 7 bits a byte, low first, 0x80 = more.

--encrypt marks every file as encrypted (RAR 4: file flag 0x04; RAR 5: a file encryption extra
record, type 0x01, AES-256, with a password check value and plain checksums) and stores random
bytes in place of its data: a listing must show the name, size and the plain CRC-32 the header
keeps. --encrypt-mac (RAR 5) sets the record's flag 0x02 instead: the stored checksums are then
tweaked by the key, not the plain CRC-32, and a listing must not show one. --encrypt-headers writes what an archive made with -hp starts with (RAR 4: the main
header's 0x80 flag; RAR 5: an archive encryption header, type 4) followed by bytes that are
not headers: nothing can be listed without the password."""
import os
import struct
import sys
import zlib


def block4(htype, flags, body):
    head = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head


def vint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def block5(htype, flags, fields, extra=b"", data_size=None):
    body = vint(htype)
    if extra:
        flags |= 0x1
    if data_size is not None:
        flags |= 0x2
    body += vint(flags)
    if extra:
        body += vint(len(extra))
    if data_size is not None:
        body += vint(data_size)
    body += fields + extra
    sized = vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized


def rar4(files, encrypt, encrypt_headers):
    parts = [b"Rar!\x1a\x07\x00"]
    if encrypt_headers:  # MHD_PASSWORD: every later header is encrypted
        parts.append(block4(0x73, 0x0080, struct.pack("<HI", 0, 0)))
        parts.append(os.urandom(256))
        return b"".join(parts)
    parts.append(block4(0x73, 0, struct.pack("<HI", 0, 0)))
    for f in files:
        data = open(f, "rb").read()
        name = os.fsencode(os.path.basename(f))
        dostime = (2024 - 1980) << 25 | 1 << 21 | 1 << 16  # 2024-01-01 00:00:00
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 3, zlib.crc32(data), dostime, 29, 0x30,
                           len(name), 0o100644 << 16 | 0o100644) + name
        flags = 0x8000  # a long block (the data follows the header)
        stored = data
        if encrypt:
            flags |= 0x0004 | 0x0400  # LHD_PASSWORD, LHD_SALT (8 bytes after the name)
            body += os.urandom(8)
            stored = os.urandom((len(data) + 15) // 16 * 16)
            body = struct.pack("<I", len(stored)) + body[4:]
        parts.append(block4(0x74, flags, body) + stored)
    parts.append(block4(0x7B, 0x4000, b""))
    return b"".join(parts)


def rar5(files, encrypt, encrypt_headers):
    parts = [b"Rar!\x1a\x07\x01\x00"]
    if encrypt_headers:  # version 0 (AES-256), flags 1 (check value), KDF count, salt, check value
        parts.append(block5(4, 0, vint(0) + vint(1) + bytes([15]) + os.urandom(16) + os.urandom(12)))
        parts.append(os.urandom(256))
        return b"".join(parts)
    parts.append(block5(1, 0, vint(0)))
    for f in files:
        data = open(f, "rb").read()
        name = os.fsencode(os.path.basename(f))
        fields = (vint(0x2 | 0x4) + vint(len(data)) + vint(0o100644) + struct.pack("<II", 1704067200, zlib.crc32(data))
                  + vint(0) + vint(1) + vint(len(name)) + name)
        extra = b""
        stored = data
        if encrypt:  # record: size, type 1, version 0, flags 1 (check value, plain checksums) or 3 (tweaked)
            rec = vint(1) + vint(0) + vint(3 if encrypt == "mac" else 1) + bytes([15]) + os.urandom(16) + os.urandom(16) + os.urandom(12)
            extra = vint(len(rec)) + rec
            stored = os.urandom((len(data) + 15) // 16 * 16)
        parts.append(block5(2, 0, fields, extra, len(stored)) + stored)
    parts.append(block5(5, 0, vint(0)))
    return b"".join(parts)


def main():
    args = sys.argv[1:]
    opts = {a for a in args if a.startswith("--")}
    args = [a for a in args if not a.startswith("--")]
    out, files = args[0], args[1:]
    write = rar5 if "--rar5" in opts else rar4
    encrypt = "mac" if "--encrypt-mac" in opts else "--encrypt" in opts
    open(out, "wb").write(write(files, encrypt, "--encrypt-headers" in opts))


main()
