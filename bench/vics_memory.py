#!/usr/bin/env python3
"""vics_memory.py VIGIL [OTHER_VIGIL] - the peak memory of `vigil index build` on generated VICS 2.0
exports: 2 GB of Media, 200 MB of the same Media (a tenth of the entries), and 2 GB holding that
tenth padded with a member the reader skips (the same entries as the 200 MB file). Streamed, memory
follows the entries; read whole, it follows the file. Each file is written to a temporary folder
under /tmp and removed once measured. OTHER_VIGIL (an older build) runs on the same files.
Prints one Markdown table row per run. Set VICS_GB to scale (default 2)."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

CTX = '"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"'
FMT = ('{"MediaID": %d, "Category": %d, "MD5": "%s", "SHA1": "%s", "MediaSize": %d, "IsPrecategorized": true, '
       '"MediaFiles": [{"FileName": "img_%08d.jpg", "FilePath": "/case/evidence/disk1/DCIM/%03d/img_%08d.jpg"}]%s%s}')


def media(i, pad):
    """One Media (about 400 bytes; one in four with a PDQ) with distinct digests, as random as real
    ones (the index hashes digests by their first bytes)."""
    key = b"%d" % i
    alt = ""
    if i % 4 == 0:
        alt = ', "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "%s"}]' % hashlib.sha256(key).hexdigest()
    extra = ', "Comments": "%s"' % ("padding \\u00e9 " * pad) if pad else ""
    return FMT % (i, i % 4, hashlib.md5(key).hexdigest().upper(), hashlib.sha1(key).hexdigest().upper(), 100000 + i * 7 % 900000,
                  i, i % 1000, i, alt, extra)


def write(path, target_bytes, pad, entries=None):
    """Media until the file reaches target_bytes (or `entries` of them); returns the count."""
    n = 0
    size = 0
    with open(path, "w", buffering=1 << 22) as f:
        f.write("{%s,\n\"value\": [\n" % CTX)
        while (entries is None and size < target_bytes) or (entries is not None and n < entries):
            batch = [media(n + k, pad) for k in range(2000)]
            if entries is not None:
                batch = batch[:entries - n]
            text = ("," if n else "") + ",\n".join(batch) + "\n"
            f.write(text)
            size += len(text)
            n += len(batch)
        f.write("]}\n")
    return n


def build(vigil, path, out):
    t = time.time()
    p = subprocess.Popen([vigil, "index", "build", "-o", out, path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.time() - t
    added = next((w.split(" entries")[0].split()[-1] for w in err.splitlines() if " entries added" in w), "?")
    return secs, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, added, status


def main():
    vigils = sys.argv[1:]
    gb = float(os.environ.get("VICS_GB", "2"))
    big = int(gb * 1e9)
    tmp = tempfile.mkdtemp(prefix="vigil-vics-", dir="/tmp")
    print("| file | size | Media | binary | entries added | wall time | peak RSS |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    try:
        runs = [("VICS 2.0, %g GB" % gb, big, 0, None), ("VICS 2.0, %g MB" % (gb * 100), big // 10, 0, None)]
        tenth = None
        for name, size, pad, entries in runs + [("padded, %g GB" % gb, big, 1, "tenth")]:
            path = os.path.join(tmp, "vics.json")
            t = time.time()
            n = write(path, size, 230 if pad else 0, tenth if entries == "tenth" else None)
            gen = time.time() - t
            if size == big // 10:
                tenth = n
            fsize = os.path.getsize(path)
            for v in vigils:
                secs, cpu, rss, added, status = build(v, path, os.path.join(tmp, "out.vgi"))
                print("| %s | %.2f GB | %d | %s | %s | %.1f s (CPU %.1f s) | %.0f MiB |%s" %
                      (name, fsize / 1e9, n, v, added, secs, cpu, rss, "" if status == 0 else " exit %d" % (status >> 8)), flush=True)
            print("<!-- generated in %.1f s -->" % gen, flush=True)
            os.unlink(path)
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
