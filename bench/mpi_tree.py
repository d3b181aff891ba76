#!/usr/bin/env python3
"""mpi_tree.py OUTDIR N [FOLDERS] - N small distinct PNGs (48x48 grey, a pattern seeded by the
file's number) in FOLDERS folders of OUTDIR, for bench/mpi.sh: a tree of many small images whose
cost is the walk, the journal and the coordinator rather than the decode."""
import os, random, struct, sys, zlib

def png(w, h, rows):
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    raw = b''.join(b'\0' + r for r in rows)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw, 1)) + chunk(b'IEND', b''))

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    folders = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    w = h = 48
    for i in range(n):
        d = os.path.join(out, 'd%02d' % (i % folders))
        if i < folders:
            os.makedirs(d, exist_ok=True)
        rnd = random.Random(i)
        # 6x6 blocks of random grey: a distinct PDQ per file, high enough quality
        blocks = [[rnd.randrange(256) for _ in range(6)] for _ in range(6)]
        rows = [bytes(blocks[y * 6 // h][x * 6 // w] for x in range(w)) for y in range(h)]
        with open(os.path.join(d, 'img%06d.png' % i), 'wb') as f:
            f.write(png(w, h, rows))

main()
