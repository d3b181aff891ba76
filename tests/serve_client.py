#!/usr/bin/env python3
"""serve_client.py - the parts of tests/serve.sh that need more than curl: comparing the server's
JSON with `vigil match` output, a burst of adds whose acknowledgements are recorded before a
kill -9, lookups running while index files are renamed over, and a request in flight during
SIGTERM. Standard library only (http.client, json)."""
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time


def lookup_pairs(obj):
    """{"BANK":[{"bank_content_id":..,"distance":".."}]} -> sorted (bank, id, distance)"""
    out = []
    for bank, ms in obj.items():
        for m in ms:
            assert isinstance(m["distance"], str), "distance must be a string, as HMA writes it"
            out.append((bank, str(m["bank_content_id"]), int(m["distance"])) + ((m["transform"],) if "transform" in m else ()))
    return sorted(out)


def match_pairs(path, query, with_transform=False):
    """vigil match --format jsonl rows for one query -> sorted (set, ref_id, distance)"""
    out = []
    for line in open(path):
        r = json.loads(line)
        if r["query"] == query or r["query_pdq"] == query:
            out.append((r["set"], r["ref_id"], r["distance"]) + ((r["transform"],) if with_transform else ()))
    return sorted(out)


def cmd_compare_lookup(server_json, match_jsonl, query):
    got = lookup_pairs(json.load(open(server_json)))
    want = match_pairs(match_jsonl, query)
    if got != want:
        print("server:", got, "\nvigil match:", want)
        return 1
    return 0 if want else 2  # a comparison of two empty answers proves nothing


def cmd_compare_batch(server_json, match_jsonl, hashes_file, dihedral):
    res = json.load(open(server_json))["pdq"]
    queries = [l.split()[0] for l in open(hashes_file)]
    if len(res) != len(queries):
        print("answers:", len(res), "queries:", len(queries))
        return 1
    bad = 0
    nonempty = 0
    for q, r in zip(queries, res):
        got = lookup_pairs(r)
        want = match_pairs(match_jsonl, q, dihedral == "1")
        nonempty += bool(want)
        if got != want:
            print(q, "server:", got, "vigil match:", want)
            bad = 1
    return bad if nonempty else 2


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def cmd_burst(port, token, out_file, n):
    """adds n distinct hashes; each acknowledged (id, hash) is written and flushed at once"""
    c = conn(int(port))
    f = open(out_file, "w")
    for i in range(int(n)):
        h = os.urandom(32).hex()
        try:
            c.request("POST", "/c/bank/VICTIMS/signal", json.dumps({"pdq": h, "note": "burst %d" % i}),
                      {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            break  # the server was killed
        if r.status != 200:
            print("add answered", r.status, body, file=sys.stderr)
            return 1
        f.write("%s %s\n" % (json.loads(body)["id"], h))
        f.flush()
    return 0


def cmd_check_acked(port, acked_file):
    c = conn(int(port))
    n = 0
    for line in open(acked_file):
        i, h = line.split()
        c.request("GET", "/m/lookup?signal_type=pdq&signal=" + h)
        r = c.getresponse()
        got = json.loads(r.read())
        ids = [str(m["bank_content_id"]) for m in got.get("VICTIMS", []) if m["distance"] == "0"]
        if i not in ids:
            print("acknowledged add", i, h, "is lost:", got)
            return 1
        n += 1
    print("acknowledged adds found:", n)
    return 0 if n else 2


def cmd_lookups_during(port, hashes_file, stop_file, report):
    """lookups on 3 connections until stop_file exists; writes 'OK FAILED' counts"""
    hashes = [l.split()[0] for l in open(hashes_file)]
    counts = [0, 0]
    lock = threading.Lock()

    def run():
        c = conn(int(port))
        k = 0
        while not os.path.exists(stop_file):
            h = hashes[k % len(hashes)]
            k += 1
            try:
                c.request("GET", "/m/lookup?signal_type=pdq&signal=" + h)
                r = c.getresponse()
                body = json.loads(r.read())
                good = r.status == 200 and "VICTIMS" in body
            except Exception:
                good = False
                c = conn(int(port))
            with lock:
                counts[0 if good else 1] += 1
    ts = [threading.Thread(target=run) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    open(report, "w").write("%d %d\n" % tuple(counts))
    return 0


def cmd_rooms_during(port, image, labels, stop_file, report):
    """room queries of one photo on 2 connections until stop_file exists; a good answer is 200
    with rooms whose labels are one of the '|'-separated versions; writes 'OK FAILED LABELS'"""
    b = "----vigilroomsboundary"
    body = (("--%s\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x\"\r\n\r\n" % b).encode()
            + open(image, "rb").read() + ("\r\n--%s--\r\n" % b).encode())
    want = labels.split("|")
    counts = [0, 0]
    seen = set()
    lock = threading.Lock()

    def run():
        c = conn(int(port))
        while not os.path.exists(stop_file):
            try:
                c.request("POST", "/v/rooms", body, {"Content-Type": "multipart/form-data; boundary=" + b})
                r = c.getresponse()
                got = json.loads(r.read())
                ls = set(x["labels"] for x in got.get("rooms", []))
                good = r.status == 200 and len(ls) == 1 and ls <= set(want)
            except Exception:
                good, ls = False, set()
                c = conn(int(port))
            with lock:
                counts[0 if good else 1] += 1
                seen.update(ls)
    ts = [threading.Thread(target=run) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    open(report, "w").write("%d %d %d\n" % (counts[0], counts[1], len(seen)))
    return 0


def cmd_drain(port, pid, image):
    """a POST /h/hash whose body is half sent when SIGTERM arrives: it must still be answered"""
    body_img = open(image, "rb").read()
    b = "----vigiltestboundary"
    body = (("--%s\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" % b).encode() + body_img + ("\r\n--%s--\r\n" % b).encode())
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(("POST /h/hash HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
               "Content-Length: %d\r\n\r\n" % (b, len(body))).encode())
    half = len(body) // 2
    s.sendall(body[:half])
    time.sleep(0.3)
    os.kill(int(pid), signal.SIGTERM)
    time.sleep(0.5)
    s.sendall(body[half:])
    resp = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        resp += d
        if b"\r\n\r\n" in resp:
            head, _, rest = resp.partition(b"\r\n\r\n")
            for l in head.split(b"\r\n"):
                if l.lower().startswith(b"content-length:") and len(rest) >= int(l.split(b":")[1]):
                    print(head.split(b"\r\n")[0].decode(), rest.decode().strip())
                    return 0 if b" 200 " in head.split(b"\r\n")[0] and b'"pdq"' in rest else 1
    print("no answer:", resp[:200])
    return 1


if __name__ == "__main__":
    sys.exit(globals()["cmd_" + sys.argv[1]](*sys.argv[2:]))
