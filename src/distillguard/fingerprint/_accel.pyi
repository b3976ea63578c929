"""Type stub of the optional C accelerator (_accel.c)."""

from collections.abc import Sequence

class CueTrie:
    def __init__(
        self,
        nodes: Sequence[tuple[int, int, int, bool]],
        edges: Sequence[tuple[int, int]],
        cues: tuple[str, ...],
        word_start: bool,
    ) -> None: ...
    def findall(self, text: str, /) -> list[str]: ...

class NgramTable:
    def __init__(self, weights: dict[str, tuple[int, int, int]]) -> None: ...
    def sums(self, text: str, sizes: tuple[int, int] = ..., /) -> tuple[int, int, int]: ...
    def sums_of_words(
        self, text: str, head: int, tail: int, sizes: tuple[int, int] = ..., /
    ) -> tuple[int, int, int]: ...

def count_families(
    word_trie: CueTrie, free_trie: CueTrie, view: str, families: dict[str, tuple[str, ...]], /
) -> dict[str, int]: ...
def space_bigrams(text: str, /) -> list[str]: ...
