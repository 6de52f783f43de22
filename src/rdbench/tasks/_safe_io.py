"""Reading what a jailed solution left behind, without trusting it.

A scorer reads a jail's output on the host, with the host's privileges. The solution
controls that output directory, so it may leave a symlink to a file it cannot read itself
(the hidden expected results, say), a FIFO that blocks the reader, or a huge file. These
helpers never follow a link, refuse anything but a regular file and bound the size.
(The sandbox has its own reader for one-shot jails; the two are to be unified.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from rdbench.errors import InvalidSubmission

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def read_jail_output(path: Path, size: int, what: str) -> np.ndarray:
    """Return exactly `size` bytes (a uint8 array) of the regular file `path` written by a
    jailed solution.

    The file is opened without following a symlink in its last component and without
    blocking (a FIFO fails), and must be a regular file of exactly `size` bytes. `what`
    names the output in the error message; messages never contain the path or content.

    Raises:
        InvalidSubmission: the file is missing, a link, not a regular file, or has
            another size.
    """
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise InvalidSubmission(f"{what} was not written") from None
    except OSError:
        # ELOOP: a symlink; ENXIO: a socket or FIFO without a writer; anything else
        raise InvalidSubmission(f"{what} is not a regular file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidSubmission(f"{what} is not a regular file")
        if info.st_size != size:
            raise InvalidSubmission(f"{what} has the wrong size (expected {size:,} bytes)")
        buffer = np.empty(size, dtype=np.uint8)
        view = memoryview(buffer)
        done = 0
        while done < size:
            got = os.readv(fd, [view[done:]])
            if got == 0:
                raise InvalidSubmission(f"{what} has the wrong size (expected {size:,} bytes)")
            done += got
        return buffer
    finally:
        os.close(fd)
