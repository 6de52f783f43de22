"""Reference solution: closed form of the sum of squares 1..N."""
from pathlib import Path


def sum_of_squares(n: int) -> int:
    """Return 1^2 + 2^2 + ... + n^2 by the closed form n(n+1)(2n+1)/6."""
    return n * (n + 1) * (2 * n + 1) // 6


def main() -> None:
    n = int(Path("data.txt").read_text().split()[0])
    total = sum_of_squares(n)
    Path("answer.txt").write_text(f"{total}\n")


if __name__ == "__main__":
    main()
