"""Reference XREC reader: `python loader.py INPUT.xrec OUTPUT.json` (versions 1-4)."""

from __future__ import annotations

import json
import struct
import sys
import zlib

TYPES = {1: "i32", 2: "f64", 3: "u16", 4: "str", 5: "i24", 6: "delta"}


class Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def varint(self) -> int:
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value


def unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def lz_decompress(src: bytes, size: int) -> bytes:
    out = bytearray()
    i = 0

    def ext(i: int, value: int) -> tuple[int, int]:
        while True:
            b = src[i]
            i += 1
            value += b
            if b != 255:
                return i, value

    while i < len(src):
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            i, lit = ext(i, lit)
        out += src[i : i + lit]
        i += lit
        if i >= len(src):
            break
        offset = src[i] | (src[i + 1] << 8)
        i += 2
        length = token & 15
        if length == 15:
            i, length = ext(i, length)
        length += 4
        start = len(out) - offset
        for k in range(length):  # byte by byte: matches may overlap
            out.append(out[start + k])
    if len(out) != size:
        raise ValueError("bad block size")
    return bytes(out)


def parse_header(data: bytes):
    r = Reader(data)
    magic = r.take(4).decode("ascii")
    version, flags = r.take(1)[0], r.take(1)[0]
    e = ">" if flags & 1 else "<"
    (nfields,) = struct.unpack(e + "H", r.take(2))
    fields = []
    for _ in range(nfields):
        name = r.take(r.take(1)[0]).decode()
        fields.append((name, TYPES[r.take(1)[0]]))
    (count,) = struct.unpack(e + "I", r.take(4))
    (crc,) = struct.unpack(e + "I", r.take(4))
    if zlib.crc32(data[: r.pos - 4]) != crc:
        raise ValueError("header CRC mismatch")
    header = {
        "magic": magic,
        "version": version,
        "big_endian": e == ">",
        "fields": [{"name": n, "type": t} for n, t in fields],
        "record_count": count,
    }
    return header, fields, e, count, r.pos


def decode_var(payload: bytes, fields, e: str, prev: dict) -> dict:
    r = Reader(payload)
    row = {}
    for name, kind in fields:
        if kind == "i32":
            row[name] = unzigzag(r.varint())
        elif kind == "delta":
            row[name] = prev.get(name, 0) + unzigzag(r.varint())
        elif kind == "f64":
            (row[name],) = struct.unpack(e + "d", r.take(8))
        elif kind == "u16":
            (row[name],) = struct.unpack(e + "H", r.take(2))
        elif kind == "str":
            row[name] = r.take(r.varint()).decode("utf-8")
    if r.pos != len(payload):
        raise ValueError("payload length mismatch")
    return row


def var_records(data: bytes, pos: int, count: int, fields, e: str):
    """Yield (row, crc_ok) for `count` records starting at `pos`."""
    r = Reader(data, pos)
    prev: dict = {}
    for _ in range(count):
        payload = r.take(r.varint())
        (crc,) = struct.unpack(e + "I", r.take(4))
        row = decode_var(payload, fields, e, prev)
        prev = row
        yield row, zlib.crc32(payload) == crc


def load(data: bytes) -> dict:
    header, fields, e, count, pos = parse_header(data)
    if header["version"] == 1:
        return header
    cols = {name: [] for name, _ in fields}
    skipped = 0

    def keep(row):
        for name, col in cols.items():
            col.append(row[name])

    if header["version"] == 2:
        fmt = e + "".join({"i32": "i", "f64": "d", "u16": "H", "i24": "3s"}[k] for _, k in fields)
        size = 1 + struct.calcsize(fmt)
        for i in range(count):
            rec = data[pos + i * size : pos + (i + 1) * size]
            if rec[0] != 0:
                skipped += 1
                continue
            values = struct.unpack(fmt, rec[1:])
            row = {}
            for (name, kind), v in zip(fields, values):
                if kind == "i24":
                    v = int.from_bytes(v, "big" if e == ">" else "little", signed=True)
                row[name] = v
            keep(row)
    elif header["version"] == 3:
        for row, ok in var_records(data, pos, count, fields, e):
            if ok:
                keep(row)
            else:
                skipped += 1
    else:
        if data[-4:] != b"XEND":
            raise ValueError("no footer")
        nblocks, footer_at = struct.unpack(e + "IQ", data[-16:-4])
        for b in range(nblocks):
            offset, _rows = struct.unpack(
                e + "QI", data[footer_at + 12 * b : footer_at + 12 * b + 12]
            )
            r = Reader(data, offset)
            if r.take(4) != b"BLK\x01":
                raise ValueError("bad block magic")
            nrows, usize, csize = r.varint(), r.varint(), r.varint()
            comp = r.take(csize)
            (crc,) = struct.unpack(e + "I", r.take(4))
            try:
                block = lz_decompress(comp, usize)
            except (ValueError, IndexError):
                block = None
            if block is None or zlib.crc32(block) != crc:
                skipped += nrows
                continue
            for row, ok in var_records(block, 0, nrows, fields, e):
                if ok:
                    keep(row)
                else:
                    skipped += 1
    return {**header, "columns": cols, "skipped": skipped}


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        result = load(f.read())
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)
