"""Score any video segmenter without the app: J / F / J&F, temporal stability, latency and memory, reports.

Imports neither gradio nor playerseg; torch only inside profiling functions. Heavy modules (pandas, plotly, OpenCV)
are imported by the submodules that need them.
"""

from evaluation.identity import IdentityResult, IdentityTracker, identity_metrics
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy, ObjectAccuracy, SummaryStats
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import LatencySummary, ProfileResult
from evaluation.results.temporal import ObjectStability, TemporalResult
from evaluation.sequence import MaskSequence, SequenceError

__all__ = [
    "AccuracyResult",
    "AgreementResult",
    "DatasetAccuracy",
    "IdentityResult",
    "IdentityTracker",
    "LatencySummary",
    "MaskSequence",
    "ObjectAccuracy",
    "ObjectStability",
    "ProfileResult",
    "SequenceError",
    "SummaryStats",
    "TemporalResult",
    "identity_metrics",
]
