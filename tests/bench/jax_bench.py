"""The canonical training benchmark in JAX (jit, one CPU thread), the reference of `cargo xtask bench`.

The same task as crate/src/bench.rs: two moons, 2,048 standardized points; linear schedule
(x_t = t z + (1 - t) eps, target z - eps, t ~ U[0, 0.999)); input (x, y, t); 3 hidden SiLU
layers; squared error summed over both coordinates, averaged over the batch; Adam lr 1e-3
(beta 0.9, 0.999, eps 1e-8), no decay, no averaging. S: width 64, batch 256; L: width 256,
batch 1024. A step (sampling, forward, backward, Adam) is one jitted function; after 200
warm-up steps, steps are counted in windows of fixed duration, and the median window rate
is printed as one JSON line per configuration.

One thread: run under `taskset -c 0` with XLA_FLAGS set below (xtask does both).
"""

import json
import os
import sys
import time

os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def moons(n, rng):
    """Two interleaved half circles with a little noise, standardized (as the core's preset)."""
    k = n // 2
    a = rng.uniform(0, np.pi, k)
    b = rng.uniform(0, np.pi, n - k)
    upper = np.stack([np.cos(a), np.sin(a)], 1)
    lower = np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)
    x = np.concatenate([upper, lower]) + 0.05 * rng.standard_normal((n, 2))
    return ((x - x.mean(0)) / x.std(0)).astype(np.float32)


def init(key, width, depth=3):
    """PyTorch-style uniform init of (in, out) weight matrices and biases."""
    sizes = [3] + [width] * depth + [2]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / np.sqrt(n_in)
        params.append(
            (
                jax.random.uniform(kw, (n_in, n_out), jnp.float32, -bound, bound),
                jax.random.uniform(kb, (n_out,), jnp.float32, -bound, bound),
            )
        )
    return params


def mlp(params, x):
    for w, b in params[:-1]:
        x = jax.nn.silu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def make_step(data, batch, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    def loss_fn(params, key):
        ki, kt, ke = jax.random.split(key, 3)
        z = data[jax.random.randint(ki, (batch,), 0, data.shape[0])]
        t = 0.999 * jax.random.uniform(kt, (batch, 1))
        e = jax.random.normal(ke, (batch, 2))
        x = t * z + (1 - t) * e
        u = mlp(params, jnp.concatenate([x, t], 1))
        return jnp.mean(jnp.sum((u - (z - e)) ** 2, 1))

    @jax.jit
    def step(params, m, v, k, key):
        key, sub = jax.random.split(key)
        loss, g = jax.value_and_grad(loss_fn)(params, sub)
        k = k + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        c1, c2 = 1 - b1**k, 1 - b2**k
        params = jax.tree.map(
            lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v
        )
        return params, m, v, k, key, loss

    return step


def rate(config, width, batch, data, windows, window_s):
    params = init(jax.random.PRNGKey(0), width)
    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, zeros, zeros, jnp.float32(0), jax.random.PRNGKey(1))
    step = make_step(data, batch)
    for _ in range(200):
        *state, loss = step(*state)
    loss.block_until_ready()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        steps = 0
        while True:
            *state, loss = step(*state)
            steps += 1
            if steps % 8 == 0:
                loss.block_until_ready()
                elapsed = time.perf_counter() - start
                if elapsed >= window_s:
                    break
        rates.append(steps / elapsed)
    return {
        "bench": "train",
        "where": "jax",
        "config": config,
        "jax": jax.__version__,
        "steps_per_s": round(float(np.median(rates)), 1),
        "windows": [round(r, 1) for r in rates],
    }


def main():
    windows = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    window_s = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    data = jnp.asarray(moons(2048, np.random.default_rng(0)))
    for config, width, batch in [("S", 64, 256), ("L", 256, 1024)]:
        print(json.dumps(rate(config, width, batch, data, windows, window_s)), flush=True)


if __name__ == "__main__":
    main()
