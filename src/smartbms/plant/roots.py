"""The network solve's root finder: one increasing function of the bank voltage, solved fast.

Each twin step solves the network a few times, and each solve is a root of g(V) = V - E - R*I(V),
which changes little from one solve to the next; so the finder starts with Newton steps at the
slope the last solve saw and falls back to bracketing and Illinois only when they miss.
"""

from collections.abc import Callable


def solve_increasing(
    g: Callable[[float], float], guess: float, tolerance_v: float, slope: float = 1.0
) -> tuple[float, float]:
    """Root of an increasing function: a Newton step, bracketing, then Illinois.

    g(V) = V - E - R * I(V) has a slope of 1 and more (R is a fraction of a milliohm, but a
    charger regulating the bank feeds back steeply), and it changes little from one solve to
    the next: the first Newton step takes the slope the last solve ended with and usually
    lands within the tolerance (two evaluations; three when the slope moved: a second Newton
    step takes the slope seen in the first; with a unit slope, three or four).
    Returns the root and the slope its first two evaluations give (for the next solve: the
    last ones lie within the tolerance of each other, too close for a slope).
    """
    seen: list[tuple[float, float]] = []

    def look(v: float) -> float:
        gv = g(v)
        seen.append((v, gv))
        return gv

    root = _illinois(look, guess, tolerance_v, slope)
    if len(seen) >= 2:  # a secant needs two points
        (v0, g0), (v1, g1) = seen[:2]
        if v1 != v0:
            slope = min(max((g1 - g0) / (v1 - v0), 0.1), 1e6)
    return root, slope


def _illinois(g: Callable[[float], float], a: float, tolerance_v: float, slope: float) -> float:
    ga = g(a)
    if abs(ga) < tolerance_v:
        return a
    b = a - ga / slope
    gb = g(b)
    if abs(gb) < tolerance_v:
        return b
    secant = (gb - ga) / (b - a) if b != a else 0.0
    if secant > 0.0:  # a second Newton step, at the slope just seen
        c = b - gb / secant
        gc = g(c)
        if abs(gc) < tolerance_v:
            return c
        a, ga, b, gb = b, gb, c, gc
    step = b - a
    while (ga < 0) == (gb < 0):
        a, ga = b, gb
        step *= 2.0
        b = a + step
        gb = g(b)
        if abs(step) > 1e4:
            msg = "network solve found no bracket"
            raise ArithmeticError(msg)
    side = 0
    for _ in range(200):
        x = (a * gb - b * ga) / (gb - ga)
        gx = g(x)
        if abs(gx) < tolerance_v or abs(b - a) < tolerance_v:
            return x
        if (gx < 0) == (gb < 0):
            b, gb = x, gx
            if side == -1:
                ga /= 2.0
            side = -1
        else:
            a, ga = x, gx
            if side == 1:
                gb /= 2.0
            side = 1
    return x


def falling_root(
    net: Callable[[float], float], ends: list[float], hints: dict[bool, int], key: bool
) -> float:
    """The root of a falling piecewise-linear `net` between breakpoints `ends` (exactly).

    The first segment from below where net goes from >= 0 to <= 0, interpolated (the last end
    if there is none). It is looked for first where it was the last time (`hints[key]`, kept
    up to date): the AB node moves little between solves, so two evaluations usually do
    instead of a walk over every breakpoint. The answer is the walk's, whatever the hint.
    """
    hint = hints.get(key, -1)
    if 0 <= hint < len(ends) - 1:
        v0, v1 = ends[hint], ends[hint + 1]
        h0 = net(v0)
        # the first such segment: none below it can hold the root if net is above zero here
        if h0 >= 0.0 and (hint == 0 or h0 > 0.0):
            h1 = net(v1)
            if h1 <= 0.0:
                return v0 if h0 == h1 else v0 + (v1 - v0) * h0 / (h0 - h1)
    # net(V) falls strictly: walk the breakpoints up to the first one at or below zero
    v0 = ends[0]
    h0 = net(v0)
    for index, v1 in enumerate(ends[1:]):
        h1 = net(v1)
        if h0 >= 0.0 >= h1:
            hints[key] = index
            return v0 if h0 == h1 else v0 + (v1 - v0) * h0 / (h0 - h1)
        v0, h0 = v1, h1
    return ends[-1]
