"""Tests for autolabel.jerseys' per-clip bookkeeping: the pool of recent shirt colours and the officials' summary
that run.json and the run's notes show (the clustering itself is tested through the filter, test_player_filter)."""

from __future__ import annotations

import numpy as np
import pytest

from playerseg.autolabel.jerseys import JerseyPool, OfficialsDecision, OfficialsTally, cluster_jerseys


def decision(removed: bool, reason: str | None, separation: float | None, colours: int = 9) -> OfficialsDecision:
    return OfficialsDecision("auto", removed, reason, separation, 2.0, colours)


def test_pool_keeps_the_last_frames_that_showed_shirts() -> None:
    pool = JerseyPool(frames=2)
    for value in (1.0, 2.0, 3.0):
        pool.add(np.full((int(value), 3), value) if value != 2.0 else np.zeros((0, 3)))  # frame 2 showed nobody
    assert [frame[0, 0] for frame in pool.frames()] == [1.0, 3.0]
    pool.add(np.full((1, 3), 4.0))
    assert [frame[0, 0] for frame in pool.frames()] == [3.0, 4.0]
    with pytest.raises(ValueError):
        JerseyPool(frames=0)


def test_tally_of_a_clip_where_the_officials_went_on_some_frames() -> None:
    tally = OfficialsTally("auto", 2.0)
    tally.add(decision(False, "jersey colours did not separate clearly", 1.42), dropped=0)
    tally.add(None, dropped=0)  # a detection frame with no shirt in view decides nothing
    tally.add(decision(True, None, 5.5), dropped=1)
    tally.add(decision(True, None, 5.61), dropped=2)
    facts = tally.to_dict()
    assert facts == {
        "teams": "auto",
        "removed": True,
        "reason": "jersey colours did not separate clearly",
        "dropped": 3,
        "frames_removed": 2,
        "frames_not_removed": 1,
        "separation": 5.61,
        "needed": 2.0,
        "colours": 9,
        "not_removed_because": {"jersey colours did not separate clearly": 1},
    }
    assert tally.note() == (
        "officials were not removed by jersey colour on 1 of 3 detection frames: "
        "jersey colours did not separate clearly (separation 1.42, needed 2)"
    )


def test_tally_says_nothing_when_the_officials_went_everywhere_and_why_not_when_off() -> None:
    removed = OfficialsTally("auto", 2.0)
    removed.add(decision(True, None, 6.0), dropped=1)
    assert removed.note() is None and removed.to_dict()["reason"] is None
    off = OfficialsTally("off", 2.0)
    assert off.to_dict() == {"teams": "off", "removed": False, "reason": "jersey clustering is off"}
    assert off.note() is None
    few = OfficialsTally("on", 2.0)
    few.add(decision(False, "too few people with a visible shirt", 7.0, colours=3), dropped=0)
    assert (
        few.note() == "officials were not removed by jersey colour: too few people with a visible shirt "
        "(3 shirt colours, needed 5)"
    )


def test_one_odd_colour_in_the_pool_does_not_take_the_officials_place() -> None:
    """Two kits and a referee over 10 frames, plus one frame's odd colour (a bib seen once): the referee keeps his
    cluster. Seeding k-means from the farthest colour would give the bib a cluster of its own and push the
    referee into a team."""
    rng = np.random.default_rng(0)
    red, blue, pink, bib = (43.0, 63.0, 45.0), (30.0, 30.0, -60.0), (59.0, 66.0, -18.0), (90.0, -30.0, 80.0)

    def frame(*extra: tuple[float, float, float]) -> np.ndarray:
        kits = [red] * 5 + [blue] * 5 + [pink, *extra]
        return np.array(kits) + rng.normal(0, 2, (len(kits), 3))

    earlier = [frame(bib)] + [frame() for _ in range(9)]
    found = cluster_jerseys(frame(), earlier)
    assert [c.label for c in found.clusters] == ["team 1", "team 2", "officials"]
    assert found.decision.removed and [found.removes(int(c)) for c in found.assignment] == [False] * 10 + [True]
