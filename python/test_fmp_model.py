"""Tests of fmp_model.py against hostile exports (issue 25, items 8 and 10): every failure is
the loader's own one-line error with exit code 2, never a traceback; sizes, step counts and
labels are bounded by the limits table; non-finite weights and samples are refused.

Run: ``python python/test_fmp_model.py`` (standard library unittest; needs numpy and
safetensors, like the loader). The exports are written here with numpy and safetensors, so the
tests need no Rust build.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile

import numpy as np
from safetensors.numpy import save as st_save

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fmp_model  # noqa: E402

WIDTH, DEPTH, TF = 4, 1, 1


def config(**sampling) -> dict:
    return {
        "format": "fmp-mlp-1",
        "architecture": {"kind": "mlp", "width": WIDTH, "depth": DEPTH, "time_features": TF, "classes": 0},
        "path": {"schedule": "linear", "beta_min": 1e-3, "t_max": 0.999},
        "training": {"steps": 1},
        "sampling": {"solver": "euler", "steps": 4, **sampling},
    }


def tensors(fill=None) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    for name, shape in fmp_model._expected_shapes(WIDTH, DEPTH, TF):
        v = rng.standard_normal(shape).astype(np.float32) * 0.3
        out[name] = v if fill is None else fill(name, v)
    return out


def write_folder(root: str, name: str, cfg=None, weights=None, drawing="x,y\n0,0\n1,1\n") -> str:
    folder = os.path.join(root, name)
    os.mkdir(folder)
    cfg = config() if cfg is None else cfg
    text = cfg if isinstance(cfg, str) else json.dumps(cfg)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(st_save(tensors() if weights is None else weights, metadata={"format": "fmp-mlp-1"}))
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(text)
    if drawing is not None:
        with open(os.path.join(folder, "drawing.csv"), "w") as f:
            f.write(drawing)
    return folder


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(HERE, "fmp_model.py"), *args],
                          capture_output=True, text=True, timeout=120)


class HostileExports(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def refused(self, *args: str) -> str:
        """The one error line of a refused command line (exit code 2, no traceback)."""
        r = cli(*args)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertTrue(lines and lines[-1].startswith(("error: ", "fmp_model.py: error: ")), r.stderr)
        return lines[-1]

    def test_a_valid_folder_loads_and_samples(self):
        folder = write_folder(self.root, "ok")
        r = cli(folder, "--samples", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.strip().splitlines()), 6)

    def test_sampling_steps_are_bounded(self):
        folder = write_folder(self.root, "steps", cfg=config(steps=10**12))
        self.assertIn("sampling.steps is 1000000000000, expected an integer in 1..400", self.refused(folder))
        ok = write_folder(self.root, "ok")
        self.assertIn("--steps must be in 1..400", self.refused(ok, "--samples", "3", "--steps", str(10**9)))
        self.assertIn("--samples must be in 1..100000", self.refused(ok, "--samples", str(10**12)))
        with self.assertRaises(fmp_model.FmpModelError):
            fmp_model.load(ok).sample(3, steps=10**6)

    def test_a_zip_member_too_large_is_refused_before_it_is_unpacked(self):
        folder = write_folder(self.root, "zip-src")
        path = os.path.join(self.root, "bomb.zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            for name in fmp_model._FILES:
                z.write(os.path.join(folder, name), name)
        # Declare 3 GiB for model.safetensors in its central directory entry.
        with open(path, "rb") as f:
            data = bytearray(f.read())
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            n = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46: at + 46 + n] == b"model.safetensors":
                struct.pack_into("<I", data, at + 24, 3 << 30)
            at = data.find(b"PK\x01\x02", at + 4)
        with open(path, "wb") as f:
            f.write(bytes(data))
        self.assertIn(f"model.safetensors in zip {path} unpacks to {3 << 30} bytes; the most is "
                      f"{fmp_model.MAX_MODEL_BYTES}", self.refused(path))

    def test_a_huge_label_is_the_loaders_error(self):
        folder = write_folder(self.root, "label", drawing="x,y,label\n0,0,1\n1,1,99999999999999999999\n")
        self.assertIn("line 3: label '99999999999999999999' must be an integer in 1..4", self.refused(folder))
        folder = write_folder(self.root, "label0", drawing="x,y,label\n0,0,0\n")
        self.assertIn("line 2: label '0'", self.refused(folder))

    def test_the_drawing_is_bounded(self):
        for name, drawing, want in [
            ("nan", "x,y\n0,nan\n", "line 2: coordinates must be finite"),
            ("far", "x,y\n0,1e7\n", "within +-1e+06"),
            ("many", "x,y\n" + "0,0\n" * 5001, "more than 5000 points"),
        ]:
            folder = write_folder(self.root, name, drawing=drawing)
            self.assertIn(want, self.refused(folder))

    def test_non_finite_weights_are_refused(self):
        for name, value, want in [("nan", np.nan, "holds nan"), ("inf", np.inf, "holds inf")]:
            weights = tensors(lambda n, v, value=value: np.full_like(v, value) if n == "out.bias" else v)
            folder = write_folder(self.root, name, weights=weights)
            self.assertIn(f"the model is not finite (out.bias {want})", self.refused(folder))

    def test_samples_that_overflow_are_refused(self):
        weights = tensors(lambda n, v: np.full_like(v, 3e38))
        folder = write_folder(self.root, "huge", weights=weights)
        self.assertIn("the model is not finite: its samples go to infinity",
                      self.refused(folder, "--samples", "10"))

    def test_fifos_devices_and_large_files_are_refused(self):
        fifo = os.path.join(self.root, "pipe")
        os.mkfifo(fifo)
        self.assertIn(f"{fifo} is a FIFO (named pipe), not a regular file", self.refused(fifo))
        folder = write_folder(self.root, "fifo-inside")
        os.remove(os.path.join(folder, "config.json"))
        os.mkfifo(os.path.join(folder, "config.json"))
        self.assertIn("config.json is a FIFO (named pipe), not a regular file", self.refused(folder))
        if os.path.exists("/dev/zero"):
            self.assertIn("/dev/zero is a device, not a regular file", self.refused("/dev/zero"))
        big = write_folder(self.root, "big-config", cfg=json.dumps(config()) + " " * 70000)
        self.assertIn("the most a config.json may have", self.refused(big))

    def test_an_unwritable_output_is_one_line(self):
        folder = write_folder(self.root, "out")
        self.assertIn("error: ", self.refused(folder, "--samples", "3", "--out",
                                             os.path.join(self.root, "no", "such", "x.csv")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
