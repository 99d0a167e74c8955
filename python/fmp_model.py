"""Load and run a network exported by the Flow Matching Playground.

Three lines::

    from fmp_model import load
    m = load("fmp-model.zip")
    xs = m.sample(1000)

``load`` takes the zip of the web page's export, the folder written by
``fmp train --save DIR``, or a bare ``model.safetensors`` (its metadata holds the
config). It needs numpy and the ``safetensors`` package only.

What is in an export (format ``fmp-mlp-1``, written by ``crate/src/export.rs``)
---------------------------------------------------------------------------
- ``model.safetensors``: F32 tensors in PyTorch's ``nn.Linear`` convention
  (``y = x @ W.T + b``): ``hidden.{l}.weight`` (width x in_l) and
  ``hidden.{l}.bias`` for ``l = 0 .. depth-1``, then ``out.weight`` (2 x width)
  and ``out.bias`` (2). Hidden layers use SiLU, ``z * sigmoid(z)``; the output
  layer has no activation. Metadata: ``format = "fmp-mlp-1"`` and
  ``fmp_config`` (the config JSON below).
- ``config.json``: ``architecture`` (width, depth, time_features), ``path``
  (schedule, beta_min, t_max), ``training`` and ``sampling`` (solver, steps,
  w2_to_drawing, w2_samples).
- ``drawing.csv``: the cloud the network was trained on (``x,y`` header).

The network's input per sample is
``[x, y, t, sin(2 pi k t), cos(2 pi k t) for k = 1..time_features]``, then, for a
class-conditional network (the guidance lesson), a one-hot label of ``classes`` entries (the
null label: all zeros), so ``in_0 = 3 + 2 time_features + classes``. The playground computes in f32; this module
computes in float64 (the two agree to about 1e-6).

Sampling (as the playground does it)
------------------------------------
``dx/dt = u_theta(x, t)`` is integrated from ``x ~ N(0, I)`` at ``t = 0`` to
``t_max`` (where ``beta_t = BETA_MIN = 1e-3``) on :func:`time_grid`, the app's
grid (``ode::time_grid``): ``steps + 1`` times uniform in
``s(t) = t + ln(beta_t) / ln(BETA_MIN)``. Solvers (``ode::Integrator::step``):
``euler``, ``midpoint``, ``rk4`` and ``exact-step`` (the closed-form step: the
posterior mean ``zbar = (u - B_t x) / A_t`` is held fixed over the step and
``x' = alpha_t' zbar + (beta_t' / beta_t)(x - alpha_t zbar)``).
The noise comes from numpy's generator, not the playground's, so samples match
the app's in distribution, not point by point.

Limits (``crate/src/limits.rs``, the same numbers): a ``model.safetensors`` of at most
``MAX_MODEL_BYTES`` (the largest network the playground allows, plus its header), a
``config.json`` of at most ``MAX_CONFIG_BYTES``, a ``drawing.csv`` of at most
``MAX_FILE_BYTES`` and ``MAX_POINTS`` points (coordinates finite, within ``MAX_COORD``, labels
``1..MAX_CLASSES``), sampling steps ``1..MAX_STEPS`` and at most ``MAX_SAMPLES`` samples. Only
regular files are read (a FIFO or a device is refused before it is opened); a zip member's
declared size is checked before it is unpacked. Weights and samples must be finite. Every
failure is a :class:`FmpModelError` naming the file and what is wrong.

Command line::

    python fmp_model.py MODEL [--samples N] [--steps S] [--solver NAME]
                              [--seed K] [--out FILE.csv]

Any failure prints one line ``error: ...`` on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import stat
import struct
import sys
import zipfile

import numpy as np
import safetensors

__all__ = [
    "BETA_MIN",
    "FORMAT",
    "SCHEDULES",
    "SOLVERS",
    "FmpModelError",
    "Model",
    "load",
    "time_grid",
    "alpha",
    "beta",
    "alpha_dot",
    "beta_dot",
    "t_max",
]

#: The ``format`` of the config and of the safetensors metadata.
FORMAT = "fmp-mlp-1"
#: The smallest noise level: ``t`` is clamped to ``t_max`` where ``beta_t = BETA_MIN``.
BETA_MIN = 1e-3
#: The most classes a class-conditional network has (``data::MAX_CLASSES``).
MAX_CLASSES = 4
#: The largest ``model.safetensors`` read (``limits::MAX_MODEL_BYTES``): the F32 weights of
#: the largest network (width 512, depth 8, 16 time features, 4 classes) plus 64 KiB of header.
MAX_MODEL_BYTES = 7505928
#: The largest ``config.json`` read (``limits::MAX_CONFIG_BYTES``).
MAX_CONFIG_BYTES = 65536
#: The largest ``drawing.csv`` read (``limits::MAX_FILE_BYTES``).
MAX_FILE_BYTES = 5000000
#: The most points of a drawing (``limits::POINTS``).
MAX_POINTS = 5000
#: The largest coordinate of a drawing, in absolute value (``limits::MAX_COORD``).
MAX_COORD = 1e6
#: The most sampling steps (``limits::FLOW_STEPS``: ``1..=400``).
MAX_STEPS = 400
#: The most samples of one call (``limits::QUERY_POINTS``).
MAX_SAMPLES = 100000
#: The architecture's ranges (``limits::WIDTH``, ``DEPTH``, ``TIME_FEATURES``).
ARCH_LIMITS = {"width": (4, 512), "depth": (1, 8), "time_features": (0, 16), "classes": (0, 4)}
#: Schedule names, as in ``path::Schedule::name``.
SCHEDULES = ("linear", "cosine", "sqrt")
#: Solver names, as in ``ode::Solver::name``.
SOLVERS = ("euler", "midpoint", "rk4", "exact-step")

_HALF_PI = math.pi / 2  # equals Rust's FRAC_PI_2 exactly
_FILES = ("model.safetensors", "config.json", "drawing.csv")
#: The most bytes read of each file of an export.
_LIMITS = {"model.safetensors": MAX_MODEL_BYTES, "config.json": MAX_CONFIG_BYTES,
           "drawing.csv": MAX_FILE_BYTES}


class FmpModelError(ValueError):
    """A file or folder that is not a usable playground export (the message says why)."""


# --------------------------------------------------------------------------------------------
# Schedules (crate/src/path.rs). Scalar functions of t, with t clamped to [0, 1] as in Rust.
# --------------------------------------------------------------------------------------------


def _schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise FmpModelError(f"unknown schedule {schedule!r} (expected one of {', '.join(SCHEDULES)})")
    return schedule


def _clamp01(t: float) -> float:
    return 0.0 if math.isnan(t) else min(max(t, 0.0), 1.0)


def alpha(schedule: str, t: float) -> float:
    """``alpha_t``: linear and sqrt ``t``, cosine ``sin(pi t / 2)`` (``t`` clamped to [0, 1])."""
    t = _clamp01(t)
    return math.sin(_HALF_PI * t) if _schedule(schedule) == "cosine" else t


def beta(schedule: str, t: float) -> float:
    """``beta_t``: linear ``1 - t``, cosine ``cos(pi t / 2)``, sqrt ``sqrt(1 - t)``."""
    t = _clamp01(t)
    s = _schedule(schedule)
    if s == "linear":
        return 1.0 - t
    if s == "cosine":
        return max(math.cos(_HALF_PI * t), 0.0)
    return math.sqrt(1.0 - t)


def alpha_dot(schedule: str, t: float) -> float:
    """``d alpha_t / dt`` (``t`` clamped to [0, 1])."""
    t = _clamp01(t)
    return _HALF_PI * math.cos(_HALF_PI * t) if _schedule(schedule) == "cosine" else 1.0


def beta_dot(schedule: str, t: float) -> float:
    """``d beta_t / dt`` (``t`` clamped to [0, 1]; ``-inf`` for sqrt at ``t = 1``)."""
    t = _clamp01(t)
    s = _schedule(schedule)
    if s == "linear":
        return -1.0
    if s == "cosine":
        return -_HALF_PI * math.sin(_HALF_PI * t)
    r = math.sqrt(1.0 - t)
    return -math.inf if r == 0.0 else -0.5 / r


def t_max(schedule: str) -> float:
    """The clamp, where ``beta_t = BETA_MIN``: linear 0.999, cosine 0.99936338, sqrt 0.999999."""
    s = _schedule(schedule)
    if s == "linear":
        return 1.0 - BETA_MIN
    if s == "cosine":
        return math.acos(BETA_MIN) / _HALF_PI
    return 1.0 - BETA_MIN * BETA_MIN


def _clamp_t(schedule: str, t: float) -> float:
    return 0.0 if math.isnan(t) else min(max(t, 0.0), t_max(schedule))


def _coefficients(schedule: str, t: float) -> tuple[float, float]:
    """``(A_t, B_t) = (alpha_dot - (beta_dot / beta) alpha, beta_dot / beta)``, t clamped to t_max."""
    t = _clamp_t(schedule, t)
    b = beta_dot(schedule, t) / beta(schedule, t)
    return alpha_dot(schedule, t) - b * alpha(schedule, t), b


def time_grid(schedule: str, steps: int) -> np.ndarray:
    """The app's time grid (``ode::time_grid``): ``steps + 1`` times from 0 to ``t_max``.

    Uniform in ``s(t) = t + ln(beta_t) / ln(BETA_MIN)``; each interior time is found by
    bisection on ``[0, t_max]`` with exactly 60 halvings, as the Rust code does, so the grid
    is the app's to rounding. ``steps == 0`` gives ``[0]``.
    """
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    tm = t_max(schedule)
    scale = 1.0 / math.log(BETA_MIN)

    def s(t: float) -> float:
        return t + math.log(beta(schedule, t)) * scale

    s_max = s(tm)
    times = [0.0]
    for k in range(1, steps):
        target = s_max * float(k) / float(steps)
        lo, hi = 0.0, tm
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if s(mid) < target:
                lo = mid
            else:
                hi = mid
        times.append(0.5 * (lo + hi))
    if steps > 0:
        times.append(tm)
    return np.array(times, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Reading the files
# --------------------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_regular(path: str, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; anything else (a FIFO,
    a device, a folder) is refused before it is opened."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise FmpModelError(f"{path}: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise FmpModelError(f"{path} is {_kind(st.st_mode)}, not a regular file")
    too_large = FmpModelError(f"{path}: the file is larger than {limit} bytes, the most {what} may have")
    if st.st_size > limit:
        raise too_large
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise FmpModelError(f"{path} is not a regular file")
            data = f.read(limit + 1)
    except OSError as e:
        raise FmpModelError(f"{path}: {e.strerror or e}") from None
    if len(data) > limit:
        raise too_large
    return data


def _safetensors_header(data: bytes, what: str) -> dict:
    """The JSON header of a safetensors file (8-byte little-endian length, then JSON)."""
    if len(data) < 8:
        raise FmpModelError(f"{what} is not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n < 2:
        raise FmpModelError(f"{what} is not a safetensors file (header length {n} does not fit)")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FmpModelError(f"{what} is not a safetensors file (header is not JSON: {e})") from None
    if not isinstance(header, dict):
        raise FmpModelError(f"{what} is not a safetensors file (header is not a JSON object)")
    return header


def _looks_like_safetensors(head: bytes) -> bool:
    return len(head) >= 9 and head[8:9] == b"{"


def _expected_shapes(width: int, depth: int, time_features: int,
                     classes: int = 0) -> list[tuple[str, tuple[int, ...]]]:
    """The tensors of a network of that shape, in order."""
    out = []
    n_in = 3 + 2 * time_features + classes
    for l in range(depth):
        out.append((f"hidden.{l}.weight", (width, n_in)))
        out.append((f"hidden.{l}.bias", (width,)))
        n_in = width
    out.append(("out.weight", (2, width)))
    out.append(("out.bias", (2,)))
    return out


def _read_network(data: bytes, what: str) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict, dict]:
    """``(layers, shape, metadata)`` of a playground safetensors file.

    ``layers`` is ``[(W, b), ...]`` in float64 (hidden layers, then the output layer); ``shape``
    is ``{"width", "depth", "time_features", "classes"}`` read off the tensors (``classes``,
    the one-hot label inputs of a class-conditional network, from the metadata; 0 without).
    """
    header = _safetensors_header(data, what)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise FmpModelError(f"{what}: its __metadata__ is not a JSON object")
    try:
        tensors = dict(safetensors.deserialize(bytes(data)))
    except Exception as e:  # safetensors raises its own SafetensorError
        raise FmpModelError(f"{what} is not a valid safetensors file ({e})") from None

    first = header.get("hidden.0.weight")
    if first is None:
        names = ", ".join(sorted(header)[:5]) or "none"
        raise FmpModelError(
            f"{what} has no tensor hidden.0.weight: not a network exported by the playground "
            f"(its tensors: {names}{', ...' if len(header) > 5 else ''})"
        )
    raw_classes = metadata.get("classes", "0")
    if not (isinstance(raw_classes, str) and raw_classes.isdigit() and int(raw_classes) <= MAX_CLASSES):
        raise FmpModelError(f"{what}: metadata classes is {raw_classes!r}, expected 0..{MAX_CLASSES}")
    classes = int(raw_classes)
    shape0 = list(first.get("shape", []))
    if len(shape0) != 2 or shape0[1] < 3 + classes or (shape0[1] - 3 - classes) % 2 != 0 or shape0[0] < 1:
        raise FmpModelError(f"{what}: hidden.0.weight has shape {shape0}, expected [width, 3 + 2 k + {classes}]")
    depth = 0
    while f"hidden.{depth}.weight" in header:
        depth += 1
    shape = {"width": shape0[0], "depth": depth, "time_features": (shape0[1] - 3 - classes) // 2,
             "classes": classes}

    layers: list[tuple[np.ndarray, np.ndarray]] = []
    arrays = []
    for name, want in _expected_shapes(**shape):
        info = header.get(name)
        if info is None or name not in tensors:
            raise FmpModelError(f"{what}: no tensor {name} (a network of width {shape['width']}, "
                                f"depth {depth} needs it)")
        dtype, got = info.get("dtype"), tuple(info.get("shape", ()))
        if dtype != "F32" or got != want:
            raise FmpModelError(f"{what}: {name} is {dtype} {list(got)}, expected F32 {list(want)}")
        raw = tensors[name]["data"]
        if len(raw) != 4 * math.prod(want):
            raise FmpModelError(f"{what}: {name} holds {len(raw)} bytes, expected {4 * math.prod(want)}")
        array = np.frombuffer(bytes(raw), dtype="<f4").reshape(want).astype(np.float64)
        if not np.all(np.isfinite(array)):
            bad = array[~np.isfinite(array)].flat[0]
            raise FmpModelError(f"{what}: the model is not finite ({name} holds {bad})")
        arrays.append(array)
    for i in range(0, len(arrays), 2):
        layers.append((arrays[i], arrays[i + 1]))
    return layers, shape, metadata


def _parse_config(text: str | bytes, what: str) -> dict:
    try:
        config = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FmpModelError(f"{what} is not JSON ({e})") from None
    if not isinstance(config, dict):
        raise FmpModelError(f"{what} is not a JSON object")
    fmt = config.get("format")
    if fmt != FORMAT:
        raise FmpModelError(f"{what} is a foreign config: format is {fmt!r}, expected {FORMAT!r}")
    for section in ("architecture", "path", "sampling"):
        if not isinstance(config.get(section), dict):
            raise FmpModelError(f"{what} has no {section!r} section")
    arch, path, sampling = config["architecture"], config["path"], config["sampling"]
    for key in ("width", "depth", "time_features", "classes"):
        if key == "classes" and key not in arch:
            continue
        lo, hi = ARCH_LIMITS[key]
        v = arch.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise FmpModelError(f"{what}: architecture.{key} is {v!r}, expected an integer in {lo}..{hi}")
    schedule = path.get("schedule")
    if schedule not in SCHEDULES:
        raise FmpModelError(f"{what}: path.schedule is {schedule!r}, expected one of {', '.join(SCHEDULES)}")
    bm = path.get("beta_min", BETA_MIN)
    if not isinstance(bm, (int, float)) or abs(bm - BETA_MIN) > 1e-15:
        raise FmpModelError(f"{what}: path.beta_min is {bm!r}; this loader knows {BETA_MIN} only")
    tm = path.get("t_max")
    if tm is not None and (not isinstance(tm, (int, float)) or abs(tm - t_max(schedule)) > 1e-12):
        raise FmpModelError(f"{what}: path.t_max is {tm!r}, expected {t_max(schedule)!r} for {schedule}")
    if sampling.get("solver") not in SOLVERS:
        raise FmpModelError(f"{what}: sampling.solver is {sampling.get('solver')!r}, "
                            f"expected one of {', '.join(SOLVERS)}")
    steps = sampling.get("steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS:
        raise FmpModelError(f"{what}: sampling.steps is {steps!r}, expected an integer in 1..{MAX_STEPS}")
    return config


def _parse_drawing(text: bytes, what: str) -> np.ndarray:
    """The ``x,y`` (or ``x,y,label``) CSV of the drawing as an ``(m, 2)`` float64 array
    (header optional; labels are read by :func:`_parse_labels`)."""
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise FmpModelError(f"{what} is not UTF-8 text") from None
    rows = []
    for i, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(",")
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            row = (float(parts[0]), float(parts[1]))
        except ValueError:
            if i == 1 and not rows:
                continue  # the header
            raise FmpModelError(f"{what}, line {i}: expected two numbers x,y, got {line[:40]!r}") from None
        if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in row):
            raise FmpModelError(f"{what}, line {i}: coordinates must be finite and within "
                                f"+-{MAX_COORD:g}, got {line[:40]!r}")
        rows.append(row)
        if len(rows) > MAX_POINTS:
            raise FmpModelError(f"{what}: more than {MAX_POINTS} points, the most a drawing has")
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _parse_labels(text: bytes, what: str = "drawing.csv") -> np.ndarray | None:
    """The third column of a labelled drawing (``x,y,label``, labels ``1..MAX_CLASSES``), or
    ``None`` without one."""
    labels = []
    for i, line in enumerate(text.decode("utf-8").splitlines(), 1):
        parts = line.strip().split(",")
        if len(parts) == 3 and parts[2].strip().isdigit():
            label = parts[2].strip()
            if len(label) > 2 or not 1 <= int(label) <= MAX_CLASSES:
                raise FmpModelError(f"{what}, line {i}: label {label[:40]!r} must be an integer "
                                    f"in 1..{MAX_CLASSES}")
            labels.append(int(label))
        elif len(parts) == 2 and labels:
            labels.append(1)
    return np.array(labels, dtype=np.int64) if labels else None


def _read_zip(path: str) -> dict[str, bytes]:
    """The export's files from a zip (at its top level, or in one folder inside it)."""
    try:
        with zipfile.ZipFile(path) as z:
            found: dict[str, bytes] = {}
            for info in z.infolist():
                base = info.filename.rstrip("/").rsplit("/", 1)[-1]
                if base in _FILES and not info.is_dir() and base not in found:
                    # The declared size, before anything is unpacked (zipfile stops there).
                    if info.file_size > _LIMITS[base]:
                        raise FmpModelError(
                            f"{base} in zip {path} unpacks to {info.file_size} bytes; the most is "
                            f"{_LIMITS[base]}")
                    found[base] = z.read(info)
            return found
    except FmpModelError:
        raise
    except Exception as e:  # BadZipFile, zlib.error, an encrypted or unsupported member, ...
        raise FmpModelError(f"{path}: a damaged zip ({e})") from None


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


class Model:
    """A playground network with its config and drawing.

    Attributes:
        config: the config JSON as a dict (``architecture``, ``path``, ``training``,
            ``sampling``).
        drawing: the training cloud, ``(m, 2)`` float64, or ``None`` when the export has no
            ``drawing.csv`` (a bare safetensors file).
        layers: ``[(W, b), ...]`` float64, hidden layers then the output layer
            (``y = x @ W.T + b``).
        schedule: ``"linear"``, ``"cosine"`` or ``"sqrt"``.
        t_max: the end of sampling, where ``beta_t = BETA_MIN``.
    """

    def __init__(self, layers, config: dict, drawing: np.ndarray | None = None, source: str = ""):
        self.layers = layers
        self.config = config
        self.drawing = drawing
        self.source = source
        arch = config["architecture"]
        self.width = int(arch["width"])
        self.depth = int(arch["depth"])
        self.time_features = int(arch["time_features"])
        self.classes = int(arch.get("classes", 0))
        self.labels = None  # the drawing's labels (``x,y,label``), ``None`` when unlabelled
        self.schedule = config["path"]["schedule"]
        self.t_max = t_max(self.schedule)

    @property
    def num_params(self) -> int:
        """Number of weights and biases."""
        return sum(w.size + b.size for w, b in self.layers)

    def features(self, x, t, y=None) -> np.ndarray:
        """The network's input rows ``[x, y, t, sin(2 pi k t), cos(2 pi k t), ..., one-hot]``.

        A class-conditional network (``classes > 0``) appends a one-hot label: ``y`` a class in
        ``1..classes`` (a number, or one per row); ``None`` or 0 is the null label (all zeros),
        the unconditional field.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x must have shape (n, 2), got {x.shape}")
        n = x.shape[0]
        t = np.asarray(t, dtype=np.float64)
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] not in (1, n)):
            raise ValueError(f"t must be a number or have shape ({n},), got {t.shape}")
        t = np.broadcast_to(t.reshape(-1) if t.ndim else t, (n,))
        cols = [x[:, 0], x[:, 1], t]
        for k in range(1, self.time_features + 1):
            angle = 2.0 * math.pi * k * t
            cols += [np.sin(angle), np.cos(angle)]
        if self.classes:
            labels = np.broadcast_to(np.asarray(0 if y is None else y, dtype=np.int64).reshape(-1), (n,))
            for k in range(1, self.classes + 1):
                cols.append((labels == k).astype(np.float64))
        elif y is not None:
            raise ValueError("this network is not class-conditional: give no y")
        return np.stack(cols, axis=1)

    def u(self, x, t, y=None, w: float = 1.0) -> np.ndarray:
        """``u_theta(x, t)``: x of shape ``(n, 2)``, t a number or shape ``(n,)``; ``(n, 2)`` float64.

        ``t`` is used as given (the network was trained on ``t`` in ``[0, 1]``). With a class
        ``y`` (a class-conditional network) it is the guided field of scale ``w``,
        ``(1 - w) u_theta(x, t, null) + w u_theta(x, t, y)`` (``w = 1``: the class's own field).
        """
        if y is not None and w != 1.0:
            return (1.0 - w) * self._forward(self.features(x, t)) + w * self._forward(self.features(x, t, y))
        return self._forward(self.features(x, t, y))

    def _forward(self, a: np.ndarray) -> np.ndarray:
        """The network on input rows ``a``."""
        *hidden, (w_out, b_out) = self.layers
        for w, b in hidden:
            z = a @ w.T + b
            # SiLU(z) = z * sigmoid(z), written to stay finite for large |z|.
            a = z * (0.5 * (1.0 + np.tanh(0.5 * z)))
        return a @ w_out.T + b_out

    def posterior_mean(self, x, t: float, y=None, w: float = 1.0) -> np.ndarray:
        """``zbar = (u_theta - B_t x) / A_t`` (coefficients at ``t`` clamped to ``t_max``)."""
        a, b = _coefficients(self.schedule, t)
        x = np.asarray(x, dtype=np.float64)
        return (self.u(x, t, y, w) - b * x) / a

    def time_grid(self, steps: int | None = None) -> np.ndarray:
        """The app's time grid for this model's schedule (default steps from the config)."""
        return time_grid(self.schedule, self.config["sampling"]["steps"] if steps is None else steps)

    def integrate(self, x0, steps: int | None = None, solver: str | None = None,
                  y=None, w: float = 1.0) -> np.ndarray:
        """Carry ``x0`` (``(n, 2)``, at ``t = 0``) to ``t_max`` with ``solver`` on the app's grid
        (along the guided field of class ``y``, scale ``w``, when ``y`` is given)."""
        u = lambda x, t: self.u(x, t, y, w)  # noqa: E731
        sampling = self.config["sampling"]
        solver = sampling["solver"] if solver is None else solver
        if solver not in SOLVERS:
            raise ValueError(f"unknown solver {solver!r} (expected one of {', '.join(SOLVERS)})")
        x = np.array(x0, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x0 must have shape (n, 2), got {x.shape}")
        n_steps = sampling["steps"] if steps is None else steps
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or not 1 <= n_steps <= MAX_STEPS:
            raise FmpModelError(f"steps must be an integer in 1..{MAX_STEPS}, got {n_steps!r}")
        times = self.time_grid(n_steps)
        s = self.schedule
        with np.errstate(over="ignore", invalid="ignore"):
            x = self._steps(x, times, u, solver, s, y, w)
        if not np.all(np.isfinite(x)):
            raise FmpModelError(f"{self.source}: the model is not finite: its samples go to "
                                f"infinity ({solver}, {n_steps} steps)")
        return x

    def _steps(self, x, times, u, solver, s, y, w) -> np.ndarray:
        """``x`` carried over ``times`` by ``solver``."""
        for t, t_next in zip(times[:-1], times[1:]):
            t, h = float(t), float(t_next - t)  # h as the Rust code takes it: w[1] - w[0]
            if solver == "euler":
                x = x + h * u(x, t)
            elif solver == "midpoint":
                k1 = u(x, t)
                x = x + h * u(x + 0.5 * h * k1, t + 0.5 * h)
            elif solver == "rk4":
                k1 = u(x, t)
                k2 = u(x + 0.5 * h * k1, t + 0.5 * h)
                k3 = u(x + 0.5 * h * k2, t + 0.5 * h)
                k4 = u(x + h * k3, t + h)
                x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            else:  # exact-step: zbar frozen over [t, t + h]
                z = self.posterior_mean(x, t, y, w)
                t0, t1 = _clamp_t(s, t), _clamp_t(s, t + h)
                a0, a1 = alpha(s, t0), alpha(s, t1)
                r = beta(s, t1) / beta(s, t0)
                x = a1 * z + r * (x - a0 * z)
        return x

    def sample(self, n: int, steps: int | None = None, solver: str | None = None,
               seed: int = 0, rng: np.random.Generator | None = None, y=None, w: float = 1.0) -> np.ndarray:
        """``n`` samples, ``(n, 2)``: noise ``N(0, I)`` carried to ``t_max``.

        ``steps`` and ``solver`` default to the config's ``sampling`` section (what the app
        used); the noise comes from ``rng`` if given, else ``np.random.default_rng(seed)``.
        A class-conditional network samples class ``y`` with guidance scale ``w`` (classifier-
        free guidance), or its unconditional field without ``y``.
        """
        n = int(n)
        if not 0 <= n <= MAX_SAMPLES:
            raise FmpModelError(f"n must be in 0..{MAX_SAMPLES}, got {n}")
        rng = np.random.default_rng(seed) if rng is None else rng
        return self.integrate(rng.standard_normal((n, 2)), steps=steps, solver=solver, y=y, w=w)

    def summary(self) -> str:
        """One line: the shape, the schedule, the sampling and the drawing."""
        sampling, training = self.config["sampling"], self.config.get("training", {})
        parts = [
            f"{self.source}: MLP width {self.width}, depth {self.depth}, "
            f"time features {self.time_features} ({self.num_params} parameters)",
            f"schedule {self.schedule} (t_max {self.t_max:.8g})",
            f"sampling {sampling['solver']} x {sampling['steps']} steps",
        ]
        if isinstance(training, dict) and "steps" in training:
            parts.append(f"trained {training['steps']} steps")
        if sampling.get("w2_to_drawing") is not None:
            parts.append(f"W2 {sampling['w2_to_drawing']:.4g} ({sampling.get('w2_samples')} samples)")
        parts.append("no drawing" if self.drawing is None else f"drawing {len(self.drawing)} points")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return (f"Model(width={self.width}, depth={self.depth}, time_features={self.time_features}, "
                f"classes={self.classes}, schedule={self.schedule!r})")


def load(path) -> Model:
    """A :class:`Model` from an export: a zip, a folder, or a bare ``model.safetensors``.

    Raises :class:`FmpModelError` with a message naming what is wrong: not a zip, folder or
    safetensors file; a safetensors file that is not a playground network (no
    ``hidden.0.weight``, a missing tensor, a wrong shape or dtype); a missing or foreign
    config (format not ``fmp-mlp-1``); tensors whose shape disagrees with the config.
    """
    path = os.fspath(path)
    files: dict[str, bytes]
    if os.path.isdir(path):
        files = {}
        for name in _FILES:
            p = os.path.join(path, name)
            if os.path.lexists(p):
                files[name] = _read_regular(p, _LIMITS[name], f"a {name}")
        where = f"folder {path}"
    elif os.path.exists(path) and not os.path.isfile(path):
        _read_regular(path, MAX_MODEL_BYTES, "a model")  # refuses a FIFO or a device by name
        raise FmpModelError(f"{path} is neither a file nor a folder")
    elif os.path.isfile(path):
        with open(path, "rb") as f:
            head = f.read(16)
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            files = _read_zip(path)
            where = f"zip {path}"
        elif _looks_like_safetensors(head):
            files = {"model.safetensors": _read_regular(path, MAX_MODEL_BYTES, "a model.safetensors")}
            where = path
        else:
            raise FmpModelError(
                f"{path} is not a zip, a folder or a safetensors file (it starts with {head[:8]!r})"
            )
    else:
        raise FmpModelError(f"{path}: no such file or folder")

    if "model.safetensors" not in files:
        raise FmpModelError(f"{where} has no model.safetensors (an export holds {', '.join(_FILES)})")
    st_what = path if where == path else f"model.safetensors in {where}"
    layers, shape, metadata = _read_network(files["model.safetensors"], st_what)

    if "config.json" in files:
        config = _parse_config(files["config.json"], f"config.json in {where}")
    elif "fmp_config" in metadata:
        if metadata.get("format", FORMAT) != FORMAT:
            raise FmpModelError(f"{st_what}: foreign metadata, format is {metadata.get('format')!r}, "
                                f"expected {FORMAT!r}")
        config = _parse_config(metadata["fmp_config"], f"the fmp_config metadata of {st_what}")
    else:
        raise FmpModelError(
            f"{where} has no config: no config.json and no fmp_config in the safetensors metadata"
        )
    arch = config["architecture"]
    if any(arch.get(k, 0) != shape[k] for k in shape):
        raise FmpModelError(
            f"{where}: the tensors are a network of width {shape['width']}, depth {shape['depth']}, "
            f"time features {shape['time_features']}, but the config says width {arch['width']}, "
            f"depth {arch['depth']}, time features {arch['time_features']}"
        )
    model = Model(layers, config, None, source=path)
    if "drawing.csv" in files:
        model.drawing = _parse_drawing(files["drawing.csv"], f"drawing.csv in {where}")
        model.labels = _parse_labels(files["drawing.csv"], f"drawing.csv in {where}")
    return model


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _write_csv(f, xs: np.ndarray) -> None:
    f.write("x,y\n")
    for x, y in xs.tolist():  # Python floats: shortest repr that reads back exactly
        f.write(f"{x!r},{y!r}\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="fmp_model.py",
        description="Summarise (and sample) a network exported by the Flow Matching Playground.",
    )
    p.add_argument("model", metavar="MODEL", help="the export: a zip, a folder, or model.safetensors")
    p.add_argument("--samples", type=int, metavar="N", help="draw N samples")
    p.add_argument("--steps", type=int, metavar="S", help="ODE steps (default: the config's)")
    p.add_argument("--solver", choices=SOLVERS, help="ODE solver (default: the config's)")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="seed of the noise (default 0)")
    p.add_argument("--out", metavar="FILE.csv", help="write the samples there (default: stdout)")
    a = p.parse_args(argv)
    if a.samples is not None and not 1 <= a.samples <= MAX_SAMPLES:
        p.error(f"--samples must be in 1..{MAX_SAMPLES}")
    if a.steps is not None and not 1 <= a.steps <= MAX_STEPS:
        p.error(f"--steps must be in 1..{MAX_STEPS}")
    if a.out is not None and a.samples is None:
        p.error("--out needs --samples N")
    try:
        return _run(a)
    except FmpModelError as e:
        print(f"error: {e}", file=sys.stderr)
    except OSError as e:
        print(f"error: {e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
    except (ValueError, ArithmeticError, MemoryError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
    return 2


def _run(a: argparse.Namespace) -> int:
    """The command line after its arguments are checked (errors propagate to :func:`main`)."""
    m = load(a.model)
    if a.samples is None:
        print(m.summary())
        return 0
    xs = m.sample(a.samples, steps=a.steps, solver=a.solver, seed=a.seed)
    solver = a.solver or m.config["sampling"]["solver"]
    steps = a.steps or m.config["sampling"]["steps"]
    note = f"{m.summary()}; {a.samples} samples ({solver}, {steps} steps, seed {a.seed})"
    if a.out:
        buf = io.StringIO()
        _write_csv(buf, xs)
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(buf.getvalue())
        print(f"{note} written to {a.out}")
    else:
        print(note, file=sys.stderr)
        _write_csv(sys.stdout, xs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
