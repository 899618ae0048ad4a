import sys


def main() -> None:
    words = " ".join(sys.argv[1:]).split()
    print(f"{len(words)} words")
