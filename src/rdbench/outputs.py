"""Writing rdbench's output files: atomically, never over an input, never over something
that is not an earlier output of the same kind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rdbench.errors import UserError

__all__ = ["atomic_path", "atomic_write_text", "check_output_path"]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    path: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    replaceable: Callable[[Path], bool] | None = None,
    force: bool = False,
    what: str = "output",
) -> Path:
    """Check that ``path`` may be written, before any work is done.

    Args:
        path: the file to write.
        inputs: the files the command reads; the output may be none of them.
        replaceable: says whether an existing file is an earlier output of the same kind
            (e.g. an rdbench report), which may be replaced; None: any regular file may.
        force: replace an existing regular file even when ``replaceable`` says no.
        what: names the output in messages (``report``, ``JSON``).

    Returns:
        The path.

    Raises:
        UserError: the path is a directory, a device, a pipe or another non-regular file,
            one of the inputs, or an existing file that is not an earlier output (without
            ``force``) (one line each).
    """
    out = Path(path)
    for item in inputs:
        source = Path(item)
        if _same_file(out, source) or (
            not out.exists() and out.absolute() == source.absolute()
        ):
            raise UserError(f"{out}: is an input of this command; write the {what} elsewhere")
    if out.is_dir():
        raise UserError(f"{out}: is a directory; give a file name for the {what}")
    if out.exists() or out.is_symlink():
        if not out.is_file():
            raise UserError(f"{out}: is not a regular file; refusing to write the {what} there")
        if not force and replaceable is not None and not replaceable(out):
            raise UserError(
                f"{out}: exists and is not an earlier {what}; give another path or --force"
            )
    return out


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path`` (so
    the file is never half-written, and an existing one is replaced only once the new one
    is whole); on an error it is removed.

    Yields:
        The temporary path to write.

    Raises:
        UserError: the folder cannot be made, or the file written or renamed (one line).
    """
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as ex:
        raise UserError(f"{out}: cannot write: {ex.strerror or ex}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if out.exists():
            os.chmod(tmp, out.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except OSError as ex:
        raise UserError(f"{out}: cannot write: {ex.strerror or ex}") from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`).

    Returns:
        The path written.

    Raises:
        UserError: the file cannot be written (one line, with the reason).
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
