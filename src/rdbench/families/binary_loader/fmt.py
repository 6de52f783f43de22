"""The XREC container format: a seeded generator and writer (host side, trusted).

Used by `family.py` to make each task's scored file and its expected decoding, and by
`build_samples.py` for the workspace samples. The format is specified for the agent in
`instructions/*.md`; `reference/loader.py` is an independent reader.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

TYPE_CODES = {"i32": 1, "f64": 2, "u16": 3, "str": 4, "i24": 5, "delta": 6}
FIXED_TYPES = ("i32", "f64", "u16", "i24")
VAR_TYPES = ("i32", "f64", "u16", "str", "delta")
BLOCK_MAGIC = b"BLK\x01"
FOOTER_MAGIC = b"XEND"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "kappa",
    "sigma",
    "omega",
    "zeta",
    "theta",
    "ħ",
    "π",
    "µs",
]


def varint(n: int) -> bytes:
    """Return the unsigned LEB128 encoding of n >= 0."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n: int) -> int:
    """Return the zigzag map of a signed integer (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...)."""
    return (n << 1) if n >= 0 else ((-n << 1) - 1)


def lz_compress(data: bytes) -> bytes:
    """Return `data` in the XREC LZ block encoding (greedy, 4-byte hash matches).

    A sequence is a token byte (high nibble: literal count, low nibble: match length - 4;
    15 in either means "add the following bytes up to and including the first that is not
    255"), the literals, then (unless it is the last sequence) a 2-byte little-endian
    offset (1..65535 back from the current end of the output) and the match length
    extension. The last sequence carries literals only; matches may overlap their output.
    """
    out = bytearray()
    table: dict[bytes, int] = {}
    i = anchor = 0
    n = len(data)

    def ext(value: int) -> bytes:
        b = bytearray()
        while value >= 255:
            b.append(255)
            value -= 255
        b.append(value)
        return bytes(b)

    while i + 4 <= n:
        key = data[i : i + 4]
        cand = table.get(key)
        table[key] = i
        if cand is not None and i - cand <= 0xFFFF:
            length = 4
            while i + length < n and data[cand + length] == data[i + length]:
                length += 1
            lit = data[anchor:i]
            ll, ml = len(lit), length - 4
            out.append((min(ll, 15) << 4) | min(ml, 15))
            if ll >= 15:
                out += ext(ll - 15)
            out += lit
            out += struct.pack("<H", i - cand)
            if ml >= 15:
                out += ext(ml - 15)
            i += length
            anchor = i
        else:
            i += 1
    lit = data[anchor:]
    out.append(min(len(lit), 15) << 4)
    if len(lit) >= 15:
        out += ext(len(lit) - 15)
    out += lit
    return bytes(out)


def make_table(
    g: np.random.Generator, fields: list[tuple[str, str]], count: int
) -> dict[str, list]:
    """Return random columns for `fields` (name, type) with `count` rows."""
    cols: dict[str, list] = {}
    for name, kind in fields:
        if kind == "i32":
            cols[name] = [int(v) for v in g.integers(-(2**31), 2**31, count)]
        elif kind == "i24":
            cols[name] = [int(v) for v in g.integers(-(2**23), 2**23, count)]
        elif kind == "u16":
            cols[name] = [int(v) for v in g.integers(0, 2**16, count)]
        elif kind == "f64":
            cols[name] = [float(v) for v in g.normal(0, 1e3, count) * np.exp(g.normal(0, 3, count))]
        elif kind == "delta":
            start = int(g.integers(1_600_000_000, 1_700_000_000))
            steps = g.integers(-50, 5000, count)
            cols[name] = [int(v) for v in start + np.cumsum(steps)]
        elif kind == "str":
            cols[name] = [
                "-".join(WORDS[int(j)] for j in g.integers(0, len(WORDS), int(g.integers(0, 4))))
                for _ in range(count)
            ]
    return cols


def header_bytes(magic: bytes, version: int, big: bool, fields, count: int) -> bytes:
    """Return the header, its CRC32 included."""
    e = ">" if big else "<"
    h = bytearray(magic) + bytes([version, 1 if big else 0]) + struct.pack(e + "H", len(fields))
    for name, kind in fields:
        raw = name.encode()
        h += bytes([len(raw)]) + raw + bytes([TYPE_CODES[kind]])
    h += struct.pack(e + "I", count)
    return bytes(h) + struct.pack(e + "I", zlib.crc32(bytes(h)))


def fixed_record(e: str, fields, cols, row: int, deleted: bool) -> bytes:
    """Return one fixed-size (version 2) record."""
    b = bytearray([0xFF if deleted else 0x00])
    for name, kind in fields:
        v = cols[name][row]
        if kind == "i32":
            b += struct.pack(e + "i", v)
        elif kind == "f64":
            b += struct.pack(e + "d", v)
        elif kind == "u16":
            b += struct.pack(e + "H", v)
        elif kind == "i24":
            raw = (v & 0xFFFFFF).to_bytes(3, "big" if e == ">" else "little")
            b += raw
    return bytes(b)


def var_payload(e: str, fields, cols, row: int, first: bool) -> bytes:
    """Return one variable-length (version 3/4) record's payload (`first`: delta from 0)."""
    b = bytearray()
    for name, kind in fields:
        v = cols[name][row]
        if kind == "i32":
            b += varint(zigzag(v))
        elif kind == "delta":
            b += varint(zigzag(v - (0 if first else cols[name][row - 1])))
        elif kind == "f64":
            b += struct.pack(e + "d", v)
        elif kind == "u16":
            b += struct.pack(e + "H", v)
        elif kind == "str":
            raw = v.encode()
            b += varint(len(raw)) + raw
    return bytes(b)


def build(params: dict[str, Any], seed_parts: tuple) -> tuple[bytes, dict[str, Any]]:
    """Return (file bytes, expected decoding) of one XREC file for a task's params.

    params: magic (str), version (1-4), big_endian, fields [[name, type]], count,
    and for corruption: `deleted` (v2 fraction), `bad_crc` (v3/v4 fraction),
    `block_rows` (v4).
    """
    from rdbench.families._common import rng

    g = rng(*seed_parts)
    magic = params["magic"].encode()
    version, big = int(params["version"]), bool(params["big_endian"])
    fields = [tuple(f) for f in params["fields"]]
    count = int(params["count"]) + int(g.integers(0, 20))
    e = ">" if big else "<"
    cols = make_table(g, fields, count)
    head = header_bytes(magic, version, big, fields, count)
    header_json = {
        "magic": params["magic"],
        "version": version,
        "big_endian": big,
        "fields": [{"name": n, "type": k} for n, k in fields],
        "record_count": count,
    }
    if version == 1:
        return head, header_json
    keep = [True] * count
    body = bytearray()
    if version == 2:
        for r in range(count):
            deleted = bool(g.random() < params["deleted"])
            keep[r] = not deleted
            body += fixed_record(e, fields, cols, r, deleted)
        data = head + bytes(body)
    else:
        records = []
        step = int(params.get("block_rows", count))
        for r in range(count):
            payload = var_payload(e, fields, cols, r, r % step == 0)
            crc = zlib.crc32(payload)
            if g.random() < params["bad_crc"]:
                crc ^= 1 << int(g.integers(0, 32))
                keep[r] = False
            records.append(varint(len(payload)) + payload + struct.pack(e + "I", crc))
        if version == 3:
            data = head + b"".join(records)
        else:
            out = bytearray(head)
            index = []
            for start in range(0, count, step):
                chunk = b"".join(records[start : start + step])
                rows = len(records[start : start + step])
                comp = lz_compress(chunk)
                corrupt = bool(g.random() < params["bad_block"])
                crc = zlib.crc32(chunk) ^ (0x5A5A if corrupt else 0)
                if corrupt:
                    keep[start : start + rows] = [False] * rows
                out += bytes(g.integers(0, 256, int(g.integers(0, 9)), dtype=np.uint8))  # junk
                index.append((len(out), rows))
                out += BLOCK_MAGIC + varint(rows) + varint(len(chunk)) + varint(len(comp))
                out += comp + struct.pack(e + "I", crc)
            footer_at = len(out)
            for offset, rows in index:
                out += struct.pack(e + "QI", offset, rows)
            out += struct.pack(e + "IQ", len(index), footer_at) + FOOTER_MAGIC
            data = bytes(out)
    kept = {name: [v for v, k in zip(col, keep) if k] for name, col in cols.items()}
    return data, {**header_json, "columns": kept, "skipped": keep.count(False)}
