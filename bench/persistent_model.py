#!/usr/bin/env python3
"""A performance model of one persistent training step (kernels/persistent_train.cu) on one H200 SM.

It counts, per step and for the whole block, the warp-wide instructions of the two pipes that bound the step:
- MIO: shared-memory loads and stores (one warp-wide access a clock when the 32 lanes hit 32 banks or share
  addresses; the pixel table's lookups are counted as one, though lanes with different pixels in one bank
  wait for each other) and warp shuffles (one a clock);
- FMA: fused multiply-adds (four warp-wide a clock: 128 FP32 lanes), counting the lanes a tile computes for
  samples or neurons that are not there, since they take their issue slot all the same;
and takes each phase's time as the larger of the two, plus a barrier's ~40 clocks per phase. Latency that 16
warps cannot hide, bank conflicts, and the clock's boost are left out: the figures are a floor, to be tested
against `sigmanet bench` on a GPU (bench/gpu_check.sh prints both paths' step times).

Run it with no arguments for the table in bench/RESULTS.md; --sizes and --batches change the cases.
"""
import argparse
import math

CLOCK_GHZ = 1.98
FMA_PER_CLOCK = 4  # warp-wide FFMA a clock on one SM (128 lanes)
BARRIER_CLOCKS = 40
WARPS = 16
TILE = 8


def groups(n, size):
    return (n + size - 1) // size


def phase(mio, fma):
    return max(mio, fma / FMA_PER_CLOCK) + BARRIER_CLOCKS


def tiled_step(sizes, m):
    """Today's kernel: register tiles of 8 x 8, a shuffle tree per forward item, cp.async for the next batch."""
    clocks, rows = 0.0, []
    for l in range(len(sizes) - 1):  # forward: partial sums, then their sums
        n_in, n_out = sizes[l], sizes[l + 1]
        x_loads = 2 if l == 0 else 1  # a pixel and its table entry, or an activation
        sample_groups = groups(m, TILE)
        tiles = groups(n_out, TILE) * sample_groups
        slices = min(WARPS // tiles, groups(n_in, 32)) if tiles < WARPS else 1
        iterations = groups(n_in, 32)  # per tile, over all its slices
        mio = fma = 0.0
        for tile in range(tiles):
            neurons = min(TILE, n_out - tile // sample_groups * TILE)
            samples = min(TILE, m - tile % sample_groups * TILE)
            mio += iterations * (neurons + x_loads * samples)
            fma += iterations * TILE * TILE
        shuffles = tiles * slices * 62
        finish = m * n_out * (slices + 1) / 32
        clocks += phase(mio + shuffles, fma) + phase(finish, 0)
        rows.append((f"forward {n_in}->{n_out}", mio + shuffles + finish, fma))
    n_top = sizes[-1]
    error = 3 * m * n_top / 32
    clocks += phase(error, 0)
    rows.append(("output error", error, 0))
    for l in range(len(sizes) - 2, 0, -1):
        n, above = sizes[l], sizes[l + 1]
        mio = m * n / 32 * (2 * above + 2)
        fma = m * n / 32 * above
        clocks += phase(mio, fma)
        rows.append((f"hidden error {n}", mio, fma))
    mio = fma = 0.0
    for l in range(len(sizes) - 1):  # update: no barrier between the layers
        n_in, n_out = sizes[l], sizes[l + 1]
        x_loads = 2 if l == 0 else 1
        input_groups = groups(n_in, 32 * TILE)
        span = groups(n_in, input_groups)
        items = groups(n_out, TILE) * input_groups
        live_columns = span / 32  # of a lane's 8: the others' loads are predicated off
        mio += items * m * (TILE + x_loads * live_columns) + 2 * n_in * n_out / 32 + m * n_out / 32
        fma += items * m * TILE * TILE
    copy = groups(m * sizes[0], 16 * 32 * 1.0)  # cp.async: one 16-byte piece a thread
    clocks += phase(mio + copy, fma)
    rows.append(("update + next batch", mio + copy, fma))
    return clocks, rows


def untiled_step(sizes, m):
    """The first kernel (6169c81): a warp a neuron, a thread a weight, synchronous loads of the next batch."""
    clocks = 0.0
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        x_loads = 2 if l == 0 else 1
        iterations = groups(n_in, 32)
        mio = n_out * (iterations * (1 + x_loads * m) + 5 * m)
        clocks += phase(mio, n_out * iterations * m)
    clocks += phase(3 * m * sizes[-1] / 32, 0)
    for l in range(len(sizes) - 2, 0, -1):
        clocks += phase(m * sizes[l] / 32 * (2 * sizes[l + 1] + 2), m * sizes[l] / 32 * sizes[l + 1])
    mio = fma = 0.0
    for l in range(len(sizes) - 1):
        weights = sizes[l] * sizes[l + 1]
        x_loads = 2 if l == 0 else 1
        mio += weights / 32 * (m * (1 + x_loads) + 2)
        fma += weights / 32 * m
    clocks += phase(mio + m * sizes[0] / 32, fma)
    return clocks


def graph_step_us(sizes):
    """The graph path at small batches: launch-bound, 1.3-4 us a node (the arithmetic is ~1 us). A step of L
    layers is 5L + 1 nodes: the gather, L forwards, the output error, 2L - 1 SGEMMs, L - 1 hidden errors, L bias
    updates and the step counter."""
    nodes = 5 * (len(sizes) - 1) + 1
    return nodes, 1.3 * nodes, 4.0 * nodes


def us(clocks):
    return clocks / (CLOCK_GHZ * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784,30,10;784,60,10")
    parser.add_argument("--batches", default="1,10,32")
    parser.add_argument("--phases", action="store_true", help="also print each phase's counts")
    args = parser.parse_args()
    print("| network | batch | untiled kernel us | tiled kernel us | tiled epoch (50,000) ms | graph path us |")
    print("| --- | --- | --- | --- | --- | --- |")
    for text in args.sizes.split(";"):
        sizes = [int(v) for v in text.split(",")]
        for m in [int(v) for v in args.batches.split(",")]:
            tiled, rows = tiled_step(sizes, m)
            nodes, low, high = graph_step_us(sizes)
            epoch_ms = us(tiled) * math.ceil(50000 / m) / 1000
            print(f"| {'-'.join(map(str, sizes))} | {m} | {us(untiled_step(sizes, m)):.1f} | {us(tiled):.1f} | "
                  f"{epoch_ms:.0f} | {low:.0f}-{high:.0f} ({nodes} nodes) |")
            if args.phases:
                for name, mio, fma in rows:
                    print(f"|   {name} | | MIO {mio:,.0f} | FMA {fma:,.0f} warp-instructions | | |")


if __name__ == "__main__":
    main()
