"""Structure: path enhancement, time-lag filtering, temporal clustering,
Laplacian segmentation and the segmentation scores MIR papers report, the
rest of ``librosa.segment`` on skxsim's engine.

The estimators and librosa drop-ins are also importable from :mod:`skxsim`;
the scores live here.
"""

from ._structure import *  # noqa: F403 (the namespace is the workflow's)
from ._structure import __all__ as __all__
