"""Painting people into the integer code layer: every figure's head, torso, shorts and limbs are drawn as
figure_index * PART_SLOTS + part with OpenCV polygons, circles and thick lines (LINE_8, no anti-aliasing), far to
near, so the layer gives each pixel's exact owner and part."""

from __future__ import annotations

import math

import cv2
import numpy as np

from playerseg.synthetic.figures import FOREARM, HEAD, PART_SLOTS, SHIN, SHORTS, THIGH, TORSO, UPPER_ARM, Figure
from playerseg.synthetic.layout import Layout

SHIFT = 3  # OpenCV drawing with 3 fractional bits: smooth sub-pixel motion, still hard-edged (LINE_8)
ONE = 1 << SHIFT

Joints = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]  # e.g. hip, knee, foot


def fixed(x: float, y: float) -> tuple[int, int]:
    """A point in OpenCV's fixed-point coordinates (SHIFT fractional bits)."""
    return (round(x * ONE), round(y * ONE))


def _limb(joint: tuple[float, float], length: float, angle: float) -> tuple[float, float]:
    """End of a limb of this length at this angle from straight down (positive = towards +x)."""
    return (joint[0] + length * math.sin(angle), joint[1] + length * math.cos(angle))


def _lowered(joints: Joints, dy: float) -> Joints:
    (ax, ay), (bx, by), (cx, cy) = joints
    return ((ax, ay + dy), (bx, by + dy), (cx, cy + dy))


def _leg_joints(fig: Figure, sx: float, t: int) -> tuple[list[Joints], float]:
    """Hip, knee and foot of both legs in the running cycle, lowered so the lower foot touches row y; and that lift."""
    h, facing, swing, phase = float(fig.height[t]), float(fig.facing[t]), float(fig.swing[t]), float(fig.phase[t])
    top = float(fig.y[t]) - h
    hip_y = top + 0.5 * h
    legs: list[Joints] = []
    for side in (0, 1):
        p = phase + side * math.pi
        thigh = facing * swing * math.sin(p)
        shin = thigh - facing * swing * (0.2 + 1.1 * max(0.0, math.cos(p)))  # knee bends back on the lift
        hip = (sx + (side - 0.5) * 0.09 * h, hip_y)
        knee = _limb(hip, 0.25 * h, thigh)
        legs.append((hip, knee, _limb(knee, 0.25 * h, shin)))
    lift = float(fig.y[t]) - max(foot[1] for _, _, foot in legs)
    return [_lowered(joints, lift) for joints in legs], lift


def _arm_joints(fig: Figure, sx: float, t: int, top: float, lean: float) -> list[Joints]:
    """Shoulder, elbow and hand of both arms: swinging against the legs, or raised (a cheering fan)."""
    h, facing, swing, phase = float(fig.height[t]), float(fig.facing[t]), float(fig.swing[t]), float(fig.phase[t])
    arms: list[Joints] = []
    for side in (0, 1):
        shoulder = (sx + lean + (side - 0.5) * 0.22 * h, top + 0.17 * h)
        if fig.arms_up:
            upper = (side - 0.5) * 2 * (math.pi - 0.35 - 0.15 * math.sin(phase))
            fore = upper * 1.05
        else:
            upper = -facing * 0.9 * swing * math.sin(phase + side * math.pi)
            fore = upper + facing * 0.7
        elbow = _limb(shoulder, 0.17 * h, upper)
        arms.append((shoulder, elbow, _limb(elbow, 0.16 * h, fore)))
    return arms


def _paint_limb(
    layer: np.ndarray, joints: Joints, codes: tuple[int, int], widths: tuple[float, float], h: float
) -> None:
    """Two thick segments (upper, lower) with their codes; widths are fractions of the figure height h."""
    a, b, c = (fixed(*j) for j in joints)
    cv2.line(layer, a, b, codes[0], max(1, round(widths[0] * h)), cv2.LINE_8, SHIFT)
    cv2.line(layer, b, c, codes[1], max(1, round(widths[1] * h)), cv2.LINE_8, SHIFT)


def _paint_trunk(layer: np.ndarray, base: int, sx: float, top: float, lean: float, h: float) -> None:
    """Torso, shorts and head, between the back limbs and the front ones."""
    torso = [
        (sx + lean - 0.11 * h, top + 0.14 * h),
        (sx + lean + 0.11 * h, top + 0.14 * h),
        (sx + 0.085 * h, top + 0.48 * h),
        (sx - 0.085 * h, top + 0.48 * h),
    ]
    shorts = [
        (sx - 0.09 * h, top + 0.45 * h),
        (sx + 0.09 * h, top + 0.45 * h),
        (sx + 0.1 * h, top + 0.58 * h),
        (sx - 0.1 * h, top + 0.58 * h),
    ]
    cv2.fillPoly(layer, [np.array([fixed(*p) for p in torso], np.int32)], base + TORSO, cv2.LINE_8, SHIFT)
    cv2.fillPoly(layer, [np.array([fixed(*p) for p in shorts], np.int32)], base + SHORTS, cv2.LINE_8, SHIFT)
    head = fixed(sx + lean, top + 0.065 * h)
    cv2.circle(layer, head, max(ONE, round(0.065 * h * ONE)), base + HEAD, -1, cv2.LINE_8, SHIFT)


def paint_person(layer: np.ndarray, base: int, fig: Figure, sx: float, t: int) -> None:
    """Paint one figure's parts into the integer layer as base + part (LINE_8: hard, exact edges).

    Proportions (fractions of the height, from the top): head 0-0.13, shoulders 0.16, hips 0.47, knees 0.75,
    feet 1.0; the body is lifted so the lower foot touches row y.
    """
    h, facing, swing = float(fig.height[t]), float(fig.facing[t]), float(fig.swing[t])
    legs, lift = _leg_joints(fig, sx, t)
    top = float(fig.y[t]) - h + lift
    lean = facing * 0.06 * h * swing
    arms = _arm_joints(fig, sx, t, top, lean)
    leg_codes, arm_codes = (base + THIGH, base + SHIN), (base + UPPER_ARM, base + FOREARM)
    back, front = (0, 1) if facing > 0 else (1, 0)
    _paint_limb(layer, legs[back], leg_codes, (0.075, 0.06), h)
    _paint_limb(layer, arms[back], arm_codes, (0.05, 0.042), h)
    _paint_trunk(layer, base, sx, top, lean, h)
    _paint_limb(layer, legs[front], leg_codes, (0.075, 0.06), h)
    _paint_limb(layer, arms[front], arm_codes, (0.05, 0.042), h)


def paint_layer(figures: list[Figure], pan: int, t: int, layout: Layout) -> np.ndarray:
    """Code layer of figure_index * PART_SLOTS + part (figure_index = list position + 1), 0 = background.

    Fans first (then cut by the board), the rest far to near: lower feet = nearer = painted later, on top.
    """
    layer: np.ndarray = np.zeros((layout.height, layout.width), dtype=_code_dtype(len(figures)))
    order = sorted(range(len(figures)), key=lambda i: (not figures[i].behind_board, figures[i].y[t], i))
    board_cut = False
    for i in order:
        fig = figures[i]
        if not fig.behind_board and not board_cut:
            layer[layout.board_top :] = 0  # only fans are painted so far: the board hides their lower bodies
            board_cut = True
        paint_person(layer, (i + 1) * PART_SLOTS, fig, float(fig.x[t]) - pan, t)
    if not board_cut:
        layer[layout.board_top :] = 0
    return layer


def _code_dtype(figure_count: int) -> type:
    # uint8 (what cv2.LUT needs) holds up to 31 figures: 20 players + referee + staff + fans fit
    return np.uint8 if (figure_count + 1) * PART_SLOTS <= 256 else np.uint16
