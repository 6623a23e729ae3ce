"""Fusion: how the ranked lists of several retrievers (vector search, BM25) become one ranking."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

Ranking = Sequence[tuple[str, float]]
"""One retriever's answer: (record key, its own score), best first."""


def minmax(ranking: Ranking) -> dict[str, float]:
    """Each key's score rescaled to 0..1 over the list (best 1, the list's last 0; 1 for a single hit)."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    span = high - low
    return {key: (score - low) / span if span > 0 else 1.0 for key, score in ranking}


def convex_fusion(
    rankings: Mapping[str, Ranking],
    group: Callable[[str], str] = lambda key: key,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse by a weighted mean of min-max normalised scores, one entry per group, best first.

    Why scores and not reciprocal ranks: RRF sees only positions, so a retriever that is unsure
    (BM25 when the query shares few words with the answer: its top scores all close together)
    moves an item as far as a confident one. With normalised scores a near-tie costs little and
    a clear margin counts (a convex combination of min-max scores beat RRF in Bruch et al., 2023,
    "An Analysis of Fusion Functions for Hybrid Retrieval", and needs no rank constant).
    Equal weights unless given: nothing measured says which retriever deserves more.

    `group` maps a record key to the thing being ranked (a bank item has one record per
    language): per retriever a group takes its best record's score, so a hit in either language
    counts for the item, and the group is represented by its record with the best fused score."""
    normalised = {name: minmax(ranking) for name, ranking in rankings.items()}
    weight = {name: (weights or {}).get(name, 1.0) for name in rankings}
    total = sum(weight.values()) or 1.0
    best_of_group: dict[str, dict[str, float]] = {}
    representative: dict[str, tuple[float, str]] = {}
    for name, scores in normalised.items():
        for key, score in scores.items():
            per_retriever = best_of_group.setdefault(group(key), {})
            per_retriever[name] = max(per_retriever.get(name, 0.0), score)
    for key in sorted({key for scores in normalised.values() for key in scores}):  # ties: stable
        own = sum(weight[name] * scores.get(key, 0.0) for name, scores in normalised.items())
        if own > representative.get(group(key), (-1.0, ""))[0]:
            representative[group(key)] = (own, key)
    fused = [
        (representative[name][1], sum(weight[r] * s for r, s in per_retriever.items()) / total)
        for name, per_retriever in best_of_group.items()
    ]
    return sorted(fused, key=lambda pair: (-pair[1], pair[0]))


def reciprocal_rank_fusion(rankings: Iterable[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Fused score per id: the sum over rankings of 1 / (k + rank), ranks starting at 1.
    Records fused as they come, so a bank item's zh and en records compete as two hits; kept to
    compare in benchmarks (`search(mode="hybrid-rrf")`)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def grouped_ranking(ranking: Ranking, group: Callable[[str], str], depth: int) -> list[str]:
    """The groups of a best-first record list, each once at the position of its best record,
    cut after `depth` groups."""
    groups: list[str] = []
    seen: set[str] = set()
    for key, _ in ranking:
        name = group(key)
        if name not in seen:
            seen.add(name)
            groups.append(name)
            if len(groups) == depth:
                break
    return groups


def grouped_rrf(
    rankings: Mapping[str, Ranking],
    group: Callable[[str], str] = lambda key: key,
    k: int = 60,
    depth: int = 50,
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (Cormack et al., 2009) of groups: a group's score is the sum over
    retrievers of 1 / (k + its rank among that retriever's distinct groups), ranks from 1; one
    entry per group, best first, represented by its best record (below).

    Why groups: a bank item has a record per language, and both often rank (the embedding is
    multilingual); ranked as records, the twin takes a place that a different item would
    otherwise hold, and the item is counted twice. Ranked by group, it is one hit per list, at
    its better record's place; a retriever that finds only one language still counts it.

    Why `depth` counts groups, not records: records pair up unevenly across retrievers (vector
    search often ranks both languages of an item close together, BM25 mostly the query's
    language), so the same number of records would hold fewer distinct items in one list than
    in the other, and an item ranked in the longer list's tail gains 1 / (k + rank) that the
    shorter list can never give its own tail. Cutting every list at the same number of groups
    keeps the retrievers symmetric; the caller fetches enough records for that (a group holds
    at most one record per language). k = 60 is the constant of the original paper, left as is:
    nothing here was fitted to queries.

    The representative record of a group is the one with the best record-level RRF score (its
    own ranks in the record lists), so the language that matched best is returned; ties go to
    the smaller key, so results are deterministic."""
    fused: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, name in enumerate(grouped_ranking(ranking, group, depth), start=1):
            fused[name] = fused.get(name, 0.0) + 1.0 / (k + rank)
    own = reciprocal_rank_fusion(([key for key, _ in r] for r in rankings.values()), k=k)
    representative: dict[str, tuple[float, str]] = {}
    for key in sorted(own):
        name = group(key)
        if name in fused and own[key] > representative.get(name, (-1.0, ""))[0]:
            representative[name] = (own[key], key)
    ranked = [(representative[name][1], score) for name, score in fused.items()]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


__all__ = ["Ranking", "convex_fusion", "grouped_ranking", "grouped_rrf", "minmax", "reciprocal_rank_fusion"]
