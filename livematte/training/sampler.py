"""Which person a training sample shows: source by source, so that one large set does not decide what a person
looks like."""
from __future__ import annotations

import random

# How often a sample's person comes from each source (their share of the draws, renormalised over the sources
# present). "teacher" is the peer-labelled photos and clip frames (training/teacher.py).
SOURCE_WEIGHTS = {
    "people_ccp": 0.28, "people": 0.17, "people_aisegment_csneyd": 0.10, "people_cutouts_dg": 0.15,
    "people_coco128seg": 0.06, "people_davis16": 0.02, "people_cihp_pgn_samples": 0.02, "teacher": 0.20,
}


class PersonSampler:
    """Draws people (``training.data.Person``: anything with a ``source``) source by source with ``weights``
    (renormalised over the sources present), uniformly within one."""

    def __init__(self, people: list, weights: dict[str, float] | None = None):
        weights = SOURCE_WEIGHTS if weights is None else weights
        self.by_source: dict[str, list] = {}
        for p in people:
            self.by_source.setdefault(p.source, []).append(p)
        self.sources = sorted(self.by_source)
        w = [weights.get(s, 0.0) for s in self.sources]
        if sum(w) <= 0:  # sources none of which has a weight: all alike
            w = [1.0] * len(self.sources)
        self.weights = [x / sum(w) for x in w]

    def __call__(self, rng: random.Random):
        source = rng.choices(self.sources, self.weights)[0]
        group = self.by_source[source]
        return group[rng.randrange(len(group))]
