#!/usr/bin/env python3
"""Verify a Warden audit export without Warden: standard library only, plus `openssl` for Ed25519.

    python3 verify-audit-export.py export.jsonl checkpoint.txt 'warden/audit/…+…+…'

export.jsonl is `warden audit export --out export.jsonl --checkpoint checkpoint.txt`; the last
argument is the log's verifier key (`warden audit key`). It checks the checkpoint's signature
(C2SP signed note, Ed25519), then recomputes the RFC 6962 Merkle root of the first <size> lines
and compares it with the signed root. Exit status 0 only if both hold.
"""
import base64, hashlib, json, os, subprocess, sys, tempfile

def mth(leaves):  # RFC 9162 §2.1.1, iteratively: leaves are already leaf hashes
    if not leaves:
        return hashlib.sha256(b"").digest()
    while len(leaves) > 1:
        # Pair from the left; RFC 6962's split at the largest power of two gives the same
        # tree as carrying the odd last node up unchanged.
        nxt = [hashlib.sha256(b"\x01" + leaves[i] + leaves[i + 1]).digest() for i in range(0, len(leaves) - 1, 2)]
        if len(leaves) % 2:
            nxt.append(leaves[-1])
        leaves = nxt
    return leaves[0]

def main(entries_path, checkpoint_path, vkey):
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 1 and len(key) == 33, "not an Ed25519 verifier key"
    note = open(checkpoint_path, encoding="utf-8").read()
    text, _, sigs = note.rpartition("\n\n")
    text += "\n"
    want_id = bytes.fromhex(key_id_hex)
    signed = False
    for line in sigs.splitlines():
        dash, signer, sig_b64 = line.split(" ")
        sig = base64.b64decode(sig_b64)
        if dash != "\u2014" or signer != name or sig[:4] != want_id:
            continue
        spki = bytes.fromhex("302a300506032b6570032100") + key[1:]
        with tempfile.TemporaryDirectory() as d:
            pem = os.path.join(d, "k.pem")
            open(pem, "w").write("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n")
            open(os.path.join(d, "m"), "wb").write(text.encode())
            open(os.path.join(d, "s"), "wb").write(sig[4:])
            r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", os.path.join(d, "m"), "-sigfile", os.path.join(d, "s")], capture_output=True)
            signed = r.returncode == 0
    if not signed:
        sys.exit("checkpoint: no valid signature by " + name)
    origin, size, root_b64 = text.splitlines()[:3]
    size, root = int(size), base64.b64decode(root_b64)
    lines = [l for l in open(entries_path, "rb").read().split(b"\n") if l]
    if len(lines) < size:
        sys.exit(f"export holds {len(lines)} entries; the checkpoint covers {size}")
    for i, l in enumerate(lines[:size]):
        if json.loads(l)["seq"] != i:
            sys.exit(f"line {i + 1} says seq {json.loads(l)['seq']}")
    if mth([hashlib.sha256(b"\x00" + l).digest() for l in lines[:size]]) != root:
        sys.exit(f"root mismatch: the first {size} entries are not what {origin} signed")
    print(f"OK: {size} entries match the checkpoint of {origin} signed by {name}")

if __name__ == "__main__":
    main(*sys.argv[1:4])
