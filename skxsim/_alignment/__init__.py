"""Alignment and matching: dynamic time warping on skxsim's engine.

- :class:`Aligner` / :func:`align`: global alignment of a query to a
  reference, coarse to fine, in time and memory linear in the lengths.
- :class:`Matcher`: the best subsequences of a long reference (an archive)
  for short queries, found through the fitted neighbour index.

The dynamic-programming kernel (``_dtw.pyx``) and the scoring of a
matcher's candidate windows (``_votes.pyx``) are compiled.
Orientation: scikit-learn, rows are frames; a path holds ``(query frame,
reference frame)`` pairs.
"""

from ._aligner import Aligner
from ._function import align
from ._matcher import Matcher
from ._split import ReferenceQuerySplit

__all__ = ["Aligner", "Matcher", "ReferenceQuerySplit", "align"]
