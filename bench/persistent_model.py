#!/usr/bin/env python3
"""A performance model of one persistent training step (kernels/persistent_train.cu) on an H200.

It counts, per step, the warp-wide instructions of each phase (a phase ends at a barrier) and takes the phase's
time as the largest of four bounds, plus a barrier's ~40 clocks:
- MIO: shared-memory loads and stores, one warp-wide access a clock (the return path carries one 32-bit value
  a lane a clock, whatever the instruction's width; the pixel table's lookups are counted as one, though lanes
  with different pixels in one bank wait for each other), and warp shuffles, one a clock;
- FMA: fused multiply-adds, four warp-wide a clock (128 FP32 lanes), counting the lanes a tile computes for
  samples or neurons that are not there, since they take their issue slot all the same;
- issue: every instruction counted here (loads, stores, shuffles, FMAs, the adds of the shuffle tree) takes one
  of the SM's four issue slots a clock; address arithmetic and loop control are left out;
- the busiest warp: one warp issues at most one instruction a clock, so a phase lasts at least as long as the
  warp with the most work (this is what a phase with fewer work items than warps pays).
Latency that the warps cannot hide, bank conflicts and the clock's boost are left out: the figures are a floor,
to be tested against `sigmanet bench` on a GPU (bench/gpu_check.sh prints both paths' step times).

The kernel runs as one block on one SM, or as a thread-block cluster of B blocks on B SMs that split the first
layer's neurons and repeat the other layers, exchanging the first layer's activations once a step through
distributed shared memory and one cluster barrier. That barrier's cost is not known from a measurement here:
the model takes 400 to 1,000 clocks (0.2-0.5 us; an SM-to-SM round trip is a few hundred clocks) and prints
both ends. With --designs it also prints the floor of any one-SM design in FP32 (every useful FMA issued
once, W read once in the forward pass and read and written once in the update, nothing else) and every
cluster size.

Run it with no arguments for the table in bench/RESULTS.md; --sizes and --batches change the cases.
"""
import argparse
import math
from dataclasses import dataclass

CLOCK_GHZ = 1.98
FMA_PER_CLOCK = 4  # warp-wide FFMA a clock on one SM (128 lanes)
ISSUE_PER_CLOCK = 4  # one instruction a clock from each of the SM's four schedulers
BARRIER_CLOCKS = 40
WARPS = 16
TILE = 8
TREE_SHUFFLES = 62  # the 5-level shuffle tree that sums a lane's 64 tile values over the warp


@dataclass
class Phase:
    name: str
    mio: float = 0.0  # shared-memory loads and stores, shuffles
    fma: float = 0.0
    other: float = 0.0  # other counted instructions (the shuffle tree's adds)
    warp: float = 0.0  # instructions of the busiest warp

    def clocks(self):
        issue = (self.mio + self.fma + self.other) / ISSUE_PER_CLOCK
        return max(self.mio, self.fma / FMA_PER_CLOCK, issue, self.warp) + BARRIER_CLOCKS

    def bound(self):
        issue = (self.mio + self.fma + self.other) / ISSUE_PER_CLOCK
        bounds = {"MIO": self.mio, "FMA": self.fma / FMA_PER_CLOCK, "issue": issue, "one warp": self.warp}
        return max(bounds, key=bounds.get)


def groups(n, size):
    return (n + size - 1) // size


def default_slices(tiles, n_in):
    """The kernel's ForwardSplit: with fewer tiles than half the warps, a tile's inputs split until half the
    warps have a slice, never below 32 inputs a slice."""
    return min(WARPS // (2 * tiles), groups(n_in, 32)) if 2 * tiles < WARPS else 1


def forward_phases(n_in, n_out, m, x_loads, slices=None):
    """A layer's forward pass: the partial sums of the 8 x 8 register tiles, then their sums, bias and sigmoid."""
    sample_groups = groups(m, TILE)
    tiles = groups(n_out, TILE) * sample_groups
    if slices is None:
        slices = default_slices(tiles, n_in)
    iterations = groups(n_in, 32)  # a tile's 32-input rounds, over all its slices
    partial = Phase(f"forward {n_in}->{n_out}")
    busiest_item = 0.0
    for tile in range(tiles):
        neurons = min(TILE, n_out - tile // sample_groups * TILE)
        samples = min(TILE, m - tile % sample_groups * TILE)
        loads = iterations * (neurons + x_loads * samples)
        partial.mio += loads
        partial.fma += iterations * TILE * TILE
        per_slice = groups(iterations, slices) * (neurons + x_loads * samples + TILE * TILE)
        busiest_item = max(busiest_item, per_slice + 2 * TREE_SHUFFLES + 2)
    items = tiles * slices
    partial.mio += items * (TREE_SHUFFLES + 2)  # the tree's shuffles and the two stores of its sums
    partial.other += items * TREE_SHUFFLES
    partial.warp = groups(items, WARPS) * busiest_item
    finish = Phase(f"forward {n_in}->{n_out}, sums")
    finish.mio = m * n_out * (slices + 1) / 32
    finish.warp = groups(m * n_out, WARPS * 32) * (slices + 1)
    return [partial, finish]


def update_work(n_in, n_out, m, x_loads):
    """A layer's update: 8 x 8 gradient tiles (8 neurons by 8 inputs a lane), then W and b read and written.
    Returns the SM's MIO and FMA counts, the items and one item's instructions."""
    input_groups = groups(n_in, 32 * TILE)
    span = groups(n_in, input_groups)
    items = groups(n_out, TILE) * input_groups
    live_columns = span / 32  # of a lane's 8: the others' loads are predicated off
    per_item = m * (TILE + x_loads * live_columns + TILE * TILE) + 3 * TILE * live_columns
    mio = items * m * (TILE + x_loads * live_columns) + 2 * n_in * n_out / 32 + m * n_out / 32
    fma = items * m * TILE * TILE + n_in * n_out / 32
    return mio, fma, items, per_item


def tiled_step(sizes, m, first_layer_share=None, slices=None):
    """Today's kernel: register tiles of 8 x 8, a shuffle tree per forward item, cp.async for the next batch.
    With first_layer_share, one block of a cluster: it owns that many of the first layer's neurons and repeats
    every other layer, as the cluster design below does; slices then overrides the kernel's split."""
    phases = []
    for l in range(len(sizes) - 1):
        n_out = sizes[l + 1] if l > 0 or first_layer_share is None else first_layer_share
        phases += forward_phases(sizes[l], n_out, m, 2 if l == 0 else 1, slices if l == 0 else None)
    n_top = sizes[-1]
    phases.append(Phase("output error", mio=3 * m * n_top / 32, warp=3))
    for l in range(len(sizes) - 2, 0, -1):
        n, above = sizes[l], sizes[l + 1]
        if l == 1 and first_layer_share is not None:
            n = first_layer_share
        rows = m * n / 32
        phases.append(Phase(f"hidden error {n}", mio=rows * (2 * above + 2), fma=rows * above,
                            warp=groups(m * n, WARPS * 32) * 3 * above))
    update = Phase("update + next batch")
    warp_load = [0.0] * WARPS
    first_warp = 0
    for l in range(len(sizes) - 1):  # no barrier between the layers; a layer's items start after the last's
        n_out = sizes[l + 1] if l > 0 or first_layer_share is None else first_layer_share
        mio, fma, items, per_item = update_work(sizes[l], n_out, m, 2 if l == 0 else 1)
        update.mio += mio
        update.fma += fma
        for item in range(items):
            warp_load[(first_warp + item) % WARPS] += per_item
        first_warp = (first_warp + items) % WARPS
    update.warp = max(warp_load)
    update.mio += groups(m * sizes[0], 16 * 32)  # cp.async: one 16-byte piece a thread
    phases.append(update)
    return sum(p.clocks() for p in phases), phases


def untiled_step(sizes, m):
    """The first kernel (6169c81): a warp a neuron, a thread a weight, synchronous loads of the next batch."""
    clocks = 0.0
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        x_loads = 2 if l == 0 else 1
        iterations = groups(n_in, 32)
        mio = n_out * (iterations * (1 + x_loads * m) + 5 * m)
        clocks += Phase("", mio=mio, fma=n_out * iterations * m).clocks()
    clocks += Phase("", mio=3 * m * sizes[-1] / 32).clocks()
    for l in range(len(sizes) - 2, 0, -1):
        clocks += Phase("", mio=m * sizes[l] / 32 * (2 * sizes[l + 1] + 2), fma=m * sizes[l] / 32 * sizes[l + 1]).clocks()
    update = Phase("")
    for l in range(len(sizes) - 1):
        weights = sizes[l] * sizes[l + 1]
        x_loads = 2 if l == 0 else 1
        update.mio += weights / 32 * (m * (1 + x_loads) + 2)
        update.fma += weights / 32 * m
    update.mio += m * sizes[0] / 32
    return clocks + update.clocks()


def one_sm_floor(sizes, m):
    """Any one-SM FP32 design: every useful FMA once (forward, hidden errors, update), W read in the forward
    pass and read and written in the update, each an issue slot; a barrier per forward layer and per error
    layer, one for the update. Inputs, errors, reductions and the sigmoid cost nothing here."""
    weights = sum(sizes[l] * sizes[l + 1] for l in range(len(sizes) - 1))
    hidden = sum(sizes[l] * sizes[l + 1] for l in range(1, len(sizes) - 1))
    fma = (2 * weights + hidden) * m / 32
    w_traffic = 3 * weights / 32
    barriers = (len(sizes) - 1) + (len(sizes) - 1) + 1
    return (fma + w_traffic) / ISSUE_PER_CLOCK + barriers * BARRIER_CLOCKS


CLUSTER_BARRIER_CLOCKS = (400, 1000)  # assumed, not measured


def cluster_step(sizes, m, blocks, cluster_barrier_clocks):
    """A cluster of `blocks` blocks, one an SM: block r owns a share of the first layer's neurons (its rows of W
    and b, its sums, errors and update) and repeats every other layer in full, the same arithmetic in every
    block; after the first layer's forward pass each block stores its share of the activations into every
    block's shared memory (m x n1 stores a block, against the barrier's cost nothing), and one cluster barrier
    a step, in place of that layer's second block barrier, lets all of them read it. (A double buffer by step
    parity keeps the next step's stores off this step's reads with no second barrier.) The largest share
    bounds the step."""
    if blocks == 1:
        return tiled_step(sizes, m)[0]
    share = groups(sizes[1], blocks)
    return tiled_step(sizes, m, share)[0] - BARRIER_CLOCKS + cluster_barrier_clocks


def cluster_blocks(sizes):
    """The kernel's cluster size (kernels::persistent_cluster_blocks, fit aside): about 8 first-layer neurons a
    block, a power of two, at most 8."""
    blocks = 1
    while blocks < 8 and groups(sizes[1], blocks) > TILE:
        blocks *= 2
    return blocks


def graph_step_us(sizes):
    """The graph path at small batches: launch-bound, 1.3-4 us a node (the arithmetic is ~1 us). A step of L
    layers is 5L + 1 nodes: the gather, L forwards, the output error, 2L - 1 SGEMMs, L - 1 hidden errors, L bias
    updates and the step counter."""
    nodes = 5 * (len(sizes) - 1) + 1
    return nodes, 1.3 * nodes, 4.0 * nodes


def us(clocks):
    return clocks / (CLOCK_GHZ * 1000)


SGEMM_TFLOPS = 50.0  # FP32 SGEMM at large sizes, about 75% of an H200's 66.9 TFLOP/s (TF32 stays off)
MEMORY_TBPS = 4.0  # what an elementwise kernel gets of the H200's 4.8 TB/s
NODE_US = (1.3, 4.0)  # a dependent graph node's launch and drain, as above


def graph_nodes_large_batch(sizes, m):
    """The graph path's step at a large batch, node by node: (name, microseconds of work). The forward pass is
    an SGEMM and the bias + sigmoid epilogue per layer; each hidden error an SGEMM (W^T delta) and its epilogue;
    the update an SGEMM (beta = decay) and `bias_update` per layer, whose blocks take 32 biases each, so a
    layer of n biases reads its errors with n / 32 of the 132 SMs."""
    def gemm(n_in, n_out):
        return 2.0 * m * n_in * n_out / (SGEMM_TFLOPS * 1e6)

    def stream(nbytes, sms=132):
        return nbytes / (MEMORY_TBPS * 1e6 * min(1.0, sms / 132))

    nodes = [("gather (uint8 in, float out)", stream(m * sizes[0] * 5))]
    layers = len(sizes) - 1
    for l in range(layers):
        nodes.append((f"forward SGEMM {sizes[l]}->{sizes[l + 1]}", gemm(sizes[l], sizes[l + 1])))
        nodes.append((f"bias + sigmoid {sizes[l + 1]}", stream(m * sizes[l + 1] * 8)))
    nodes.append(("output error", stream(m * sizes[-1] * 12)))
    for l in range(layers - 1, 0, -1):
        nodes.append((f"hidden SGEMM {sizes[l + 1]}->{sizes[l]}", gemm(sizes[l], sizes[l + 1])))
        nodes.append((f"hidden error {sizes[l]}", stream(m * sizes[l] * 12)))
    for l in range(layers):
        nodes.append((f"update SGEMM {sizes[l]}x{sizes[l + 1]}", gemm(sizes[l], sizes[l + 1])))
        nodes.append((f"bias_update {sizes[l + 1]}", stream(m * sizes[l + 1] * 4, sms=max(1, sizes[l + 1] // 32))))
    nodes.append(("step counter", 0.0))
    return nodes


def print_large_batch(sizes, m, train=50000):
    nodes = graph_nodes_large_batch(sizes, m)
    work = sum(t for _, t in nodes)
    full, rest = divmod(train, m)
    print(f"\n{'-'.join(map(str, sizes))} at batch {m} on the graph path, one step ({len(nodes)} nodes, "
          f"each plus {NODE_US[0]}-{NODE_US[1]} us of launch):")
    print("| node | work, us | share of the step's work |")
    print("| --- | --- | --- |")
    for name, t in nodes:
        print(f"| {name} | {t:.1f} | {100 * t / work:.1f}% |")
    low, high = (work + len(nodes) * n for n in NODE_US)
    partial = sum(t for _, t in graph_nodes_large_batch(sizes, rest)) if rest else 0.0
    epoch = [(full * step + (partial + len(nodes) * n if rest else 0.0)) / 1000 for step, n in
             ((low, NODE_US[0]), (high, NODE_US[1]))]
    print(f"| step | {low:.0f}-{high:.0f} | work {work:.0f} us |")
    print(f"| epoch of {train:,} ({full} steps + one of {rest}) | {epoch[0]:.1f}-{epoch[1]:.1f} ms | |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784,30,10;784,60,10")
    parser.add_argument("--batches", default="1,10,32")
    parser.add_argument("--phases", action="store_true", help="also print each phase's counts")
    parser.add_argument("--designs", action="store_true",
                        help="also print the one-SM floor and thread-block clusters of 2, 4 and 8 blocks")
    parser.add_argument("--large", action="store_true",
                        help="also print the graph path's step of 784-1024-1024-10 at batch 4096, node by node")
    args = parser.parse_args()
    cases = [([int(v) for v in text.split(",")], int(m)) for text in args.sizes.split(";")
             for m in args.batches.split(",")]
    print("| network | batch | first kernel, us | one block, us | cluster | cluster, us | cluster epoch (50,000), ms "
          "| graph path, us |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for sizes, m in cases:
        tiled, phases = tiled_step(sizes, m)
        nodes, low, high = graph_step_us(sizes)
        blocks = cluster_blocks(sizes)
        fast, slow = (cluster_step(sizes, m, blocks, c) for c in CLUSTER_BARRIER_CLOCKS)
        steps = math.ceil(50000 / m)
        print(f"| {'-'.join(map(str, sizes))} | {m} | {us(untiled_step(sizes, m)):.1f} | {us(tiled):.1f} | {blocks} | "
              f"{us(fast):.1f}-{us(slow):.1f} | {us(fast) * steps / 1000:.1f}-{us(slow) * steps / 1000:.1f} | "
              f"{low:.0f}-{high:.0f} ({nodes} nodes) |")
        if args.phases:
            for p in phases:
                print(f"|   {p.name} | | MIO {p.mio:,.0f} | FMA {p.fma:,.0f} | busiest warp {p.warp:,.0f} | "
                      f"{p.bound()}, {us(p.clocks()):.2f} us |")
    if args.designs:
        print()
        print("| network | batch | tiled kernel, one SM, us | floor of any one-SM design, us | "
              "cluster of 2, us | cluster of 4, us | cluster of 8, us |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for sizes, m in cases:
            row = f"| {'-'.join(map(str, sizes))} | {m} | {us(tiled_step(sizes, m)[0]):.1f} | " \
                  f"{us(one_sm_floor(sizes, m)):.1f} |"
            for blocks in (2, 4, 8):
                fast, slow = (us(cluster_step(sizes, m, blocks, c)) for c in CLUSTER_BARRIER_CLOCKS)
                row += f" {fast:.1f}-{slow:.1f} |"
            print(row)
    if args.large:
        print_large_batch([784, 1024, 1024, 10], 4096)


if __name__ == "__main__":
    main()
