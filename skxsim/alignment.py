"""Alignment and matching: dynamic time warping on skxsim's engine.

- :class:`Aligner` / :func:`align`: global alignment of a query to a
  reference, coarse to fine, in time and memory linear in the lengths.
- :class:`Matcher`: the best subsequences of a long reference (an archive)
  for short queries, found through the fitted neighbour index.
- :class:`ReferenceQuerySplit`: grid search on annotated alignments.

``Aligner``, ``align`` and ``Matcher`` are also importable from
:mod:`skxsim`.  Orientation: scikit-learn, rows are frames; a path holds
``(query frame, reference frame)`` pairs.
"""

from ._alignment import Aligner, Matcher, ReferenceQuerySplit, align

__all__ = ["Aligner", "Matcher", "ReferenceQuerySplit", "align"]
