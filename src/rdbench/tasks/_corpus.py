"""The shared real-text corpus of the language-model task families: the King James Bible.

Provenance: the KJV text (1611, public domain) as packaged by Debian in `bible-kjv-text`
(version 4.38, the `bible` command of package `bible-kjv`). `data/make_kjv.py` rebuilds
`data/kjv.txt.gz` from that package byte for byte; the file is shipped inside rdbench so
that no task needs the package (or any network) at run time.

The corpus is 1,189 documents, one per chapter (about 4.0 M characters of verse text, one
verse per line). Splits are by chapter, so train, validation and hidden test share no text:
`corpus_splits(seed)` shuffles the chapters with `random.Random(seed)` and cuts them 80/10/10.
The splits of `SPLIT_SEED` are also shipped as files (`data/kjv_splits/`), because a family's
workspace is a folder of files; the test split is never written into the package.

The tokenizer is character level with a fixed vocabulary of `VOCAB_SIZE` = 77 ids:
0 = padding, 1 = unknown character, 2 = mask (for masked language models), then the 74
characters `CHARS` (newline, space, punctuation, digits, A-Z, a-z). The verse text uses
only these characters; digits appear only in chapter titles. Ids fit in a uint8.

This module imports only the standard library and numpy (never torch).
"""

from __future__ import annotations

import functools
import gzip
import random
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
CORPUS_FILE = DATA_DIR / "kjv.txt.gz"
#: The split every family uses; its train and validation text are shipped as files.
SPLIT_SEED = 0
SPLITS_DIR = DATA_DIR / "kjv_splits"
#: Default share of chapters in (train, validation, hidden test).
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)

PAD_ID, UNK_ID, MASK_ID = 0, 1, 2
#: The characters of the vocabulary, in id order from id 3.
CHARS = "\n" + " !'(),-.:;?" + string.digits + string.ascii_uppercase + string.ascii_lowercase
VOCAB_SIZE = 3 + len(CHARS)
_FIRST_CHAR_ID = 3

# bytes.translate tables: a character's byte -> its id (UNK for anything else), and back.
_ENCODE_TABLE = bytearray([UNK_ID]) * 256
for _i, _c in enumerate(CHARS):
    _ENCODE_TABLE[ord(_c)] = _FIRST_CHAR_ID + _i
_ENCODE_TABLE = bytes(_ENCODE_TABLE)
_DECODE = ["", "\ufffd", "_"] + list(CHARS)  # pad decodes to nothing, mask to "_"


@dataclass(frozen=True)
class Document:
    """One chapter: `book` (e.g. "Genesis"), `chapter` (1-based) and its verse text.

    `text` holds the verses, one per line, without verse numbers and without a trailing
    newline.
    """

    book: str
    chapter: int
    text: str

    @property
    def title(self) -> str:
        """Return the chapter's title, e.g. "Genesis 1"."""
        return f"{self.book} {self.chapter}"


@functools.lru_cache(maxsize=1)
def corpus_documents() -> tuple[Document, ...]:
    """Return the corpus's 1,189 chapters in canonical (Genesis to Revelation) order.

    Raises:
        FileNotFoundError: the shipped corpus file is missing (a broken installation).
    """
    raw = gzip.decompress(CORPUS_FILE.read_bytes()).decode("utf-8")
    documents = []
    for block in raw.strip("\n").split("\n\n"):
        header, _, body = block.partition("\n")
        book, _, chapter = header.removeprefix("## ").rpartition(" ")
        documents.append(Document(book=book, chapter=int(chapter), text=body))
    return tuple(documents)


def join_documents(documents: Iterable[Document]) -> str:
    """Return the documents' texts joined by blank lines, ending in a newline."""
    return "\n\n".join(doc.text for doc in documents) + "\n"


def corpus_text() -> str:
    """Return the whole corpus as one string (all chapters, in order, blank-line separated)."""
    return join_documents(corpus_documents())


def split_documents(
    seed: int = SPLIT_SEED, fractions: Sequence[float] = DEFAULT_FRACTIONS
) -> tuple[list[Document], list[Document], list[Document]]:
    """Return (train, validation, hidden_test) chapter lists: disjoint, together the corpus.

    Chapters are shuffled with `random.Random(seed)`; each split keeps canonical order.

    Raises:
        ValueError: `fractions` are not three non-negative numbers summing to 1.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1: {fractions}")
    documents = corpus_documents()
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    n_train = round(fractions[0] * len(order))
    n_validation = round(fractions[1] * len(order))
    n_head = n_train + n_validation
    cuts = (order[:n_train], order[n_train:n_head], order[n_head:])
    train, validation, test = ([documents[i] for i in sorted(part)] for part in cuts)
    return train, validation, test


def corpus_splits(
    seed: int = SPLIT_SEED, fractions: Sequence[float] = DEFAULT_FRACTIONS
) -> tuple[str, str, str]:
    """Return the (train, validation, hidden_test) texts of `split_documents(seed, fractions)`.

    Raises:
        ValueError: bad `fractions`.
    """
    train, validation, test = split_documents(seed, fractions)
    return join_documents(train), join_documents(validation), join_documents(test)


def shipped_split_file(split: str) -> Path:
    """Return the shipped gzip text file of split "train" or "validation" (seed `SPLIT_SEED`).

    Families put these in the agent's workspace (e.g. as a symlink in `workspace/`).

    Raises:
        ValueError: any other split name (the hidden test split is never shipped as a file).
    """
    if split not in ("train", "validation"):
        raise ValueError(f"only the train and validation splits are shipped, not {split!r}")
    return SPLITS_DIR / f"{split}.txt.gz"


def write_shipped_splits() -> None:
    """(Re)write the shipped train and validation files of `SPLIT_SEED` (deterministic bytes)."""
    train, validation, _ = corpus_splits(SPLIT_SEED)
    SPLITS_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in (("train", train), ("validation", validation)):
        data = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
        shipped_split_file(name).write_bytes(data)


def encode(text: str) -> list[int]:
    """Return the token ids of `text` (one per character; unknown characters -> `UNK_ID`)."""
    return encode_array(text).tolist()


def encode_array(text: str) -> np.ndarray:
    """Return the token ids of `text` as a uint8 numpy array (fast for whole splits).

    Characters outside ASCII count as one unknown token each.
    """
    ascii_text = text.encode("ascii", errors="replace")  # non-ASCII -> "?" ... then fix below
    ids = np.frombuffer(ascii_text.translate(_ENCODE_TABLE), dtype=np.uint8).copy()
    if len(ascii_text) and not text.isascii():
        non_ascii = np.fromiter((ord(c) > 127 for c in text), dtype=bool, count=len(text))
        ids[non_ascii] = UNK_ID
    return ids


def decode(ids: Iterable[int]) -> str:
    """Return the text of token ids (padding dropped, unknown as U+FFFD, mask as "_").

    Raises:
        ValueError: an id outside `range(VOCAB_SIZE)`.
    """
    out = []
    for token in ids:
        token = int(token)
        if not 0 <= token < VOCAB_SIZE:
            raise ValueError(f"token id {token} outside the vocabulary (0..{VOCAB_SIZE - 1})")
        out.append(_DECODE[token])
    return "".join(out)


if __name__ == "__main__":
    write_shipped_splits()
