"""Staging of host files for bwrap binds: neutral paths, no host symlink followed.

A bind mount shows its source's path in the sandbox's /proc/self/mountinfo. Sources are
therefore staged first under the sandbox's (or jail's) root-only runtime directory with
neutral names: directories as a tree of hard links, files copied into the sandbox
hard-linked (or copied), a symlink refused rather than followed.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def link_tree(src: Path, dest: Path) -> None:
    """Recreate directory `src` at `dest` (which must not exist).

    Regular files are hard-linked (copied across file systems), symlinks recreated as
    symlinks (they resolve inside the sandbox, never on the host), anything else skipped.

    Raises:
        OSError: `dest` exists or cannot be written.
    """
    dest.mkdir(mode=0o755)
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        for name in dirs:
            source = Path(root, name)
            target = dest / rel / name
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            else:
                target.mkdir(mode=0o755)
        for name in files:
            source, target = Path(root, name), dest / rel / name
            st = source.lstat()
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(source), target)
            elif stat.S_ISREG(st.st_mode):
                try:
                    os.link(source, target, follow_symlinks=False)
                except OSError:
                    shutil.copy2(source, target, follow_symlinks=False)


def stage(src: str | os.PathLike[str], dest: Path) -> None:
    """Put a copy of `src` (a directory or a regular file) at `dest` for a bind.

    Directories become a tree of links (see `link_tree`); a file is hard-linked, or
    copied across file systems. A symlink is refused, never followed: it could point at
    any host file.

    Raises:
        OSError: `src` is missing, a symlink or neither a directory nor a regular file.
    """
    st = os.lstat(src)
    if stat.S_ISDIR(st.st_mode):
        link_tree(Path(src), dest)
    elif stat.S_ISREG(st.st_mode):
        try:
            os.link(src, dest, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dest, follow_symlinks=False)
    else:
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        raise OSError(f"bind source {os.fspath(src)} is {kind}")
