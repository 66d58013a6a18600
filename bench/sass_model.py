#!/usr/bin/env python3
"""The persistent kernel's speed, counted from its compiled code (SASS for sm_90).

    python3 bench/sass_model.py DIR [--case 784,30,10:10 ...] [--blocks N] [--json FILE] [--phases] [--runs R]

DIR is a build for sm_90 (the carried gpu-carry/ folder, or any CMake build with CMAKE_CUDA_ARCHITECTURES=90):
the script finds the persistent kernel's SASS in its `sigmanet` executable (or its objects), disassembles it with
the line table (the kernels are built with -lineinfo), and walks it for one training step as each warp of each
block of the cluster executes it. The kernel's source marks every loop and every branch whose outcome depends on
the network, the batch or the warp with a `// model: NAME` comment; this script knows each NAME's trip count or
outcome from the same work split as the kernel (trip_count and taken below), and refuses a compiled loop it
cannot name. A barrier marked `// model: phase NAME` ends a phase.

For each phase it counts, from the instructions the walk issues:
- issue: the instructions each of the SM's four schedulers issues (warp w on scheduler w % 4), one a clock;
- shared memory: wavefronts through the SM's shared-memory pipe, one a clock (a 32-, 64- or 128-bit access by
  32 lanes is 1, 2 or 4 wavefronts, 1 when every lane reads one address: its register is warp-uniform by a
  dataflow over the SASS; shuffles and shared atomics one each); bank conflicts are not counted (the kernel's
  layout avoids them);
- special functions: MUFU instructions, each taking a scheduler's SFU for kMufuClocks;
- the longest dependent chain: each warp's instructions issued in order, one a clock, each waiting for its
  operands with the latencies below; the slowest warp's time.
A phase takes the largest of these plus a barrier's kBarrierClocks; the step takes the sum of its phases (the
slowest block of the cluster in each), plus the exchange's latency between the blocks of a cluster. Clocks are
turned into time at an H100's boost clock, 1.98 GHz.

The latencies and rates are assumptions from published microbenchmarks of Hopper and NVIDIA's documentation,
not measurements of this project (there has been no GPU to measure on): a GPU run of `sigmanet bench` tests them.
The last line is `persistent 784-30-10 b10: N.NN us/step (SASS model)`.

With --runs R it also counts, for each case, a launch of R runs side by side (persistent_train_runs: the kernel
compiled for many runs, a cluster a run): one cluster's step from that kernel's SASS, times the waves in which the
R clusters run (ceil(R / the clusters an H100 holds at once, MAX_ACTIVE_CLUSTERS)), checked against the L2's
bandwidth for every cluster's pixels, records and labels of a step; and says how that compares with one run.
"""
import argparse
import dataclasses
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

CLOCK_GHZ = 1.98
THREADS = 512  # kPersistentThreads
WARPS = THREADS // 32
SCHEDULERS = 4
BARRIER_CLOCKS = 24  # from the last warp's arrival at a block barrier to every warp's next issue
EXCHANGE_CLOCKS = 250  # an st.async's trip to another SM and its mbarrier's completion seen by the waiter
MUFU_CLOCKS = 8  # a warp's MUFU on its scheduler's 4 SFU lanes
LATENCY = {  # clocks from issue to a dependent instruction's issue
    "alu": 4, "mufu": 18, "conv": 6, "dfma": 8, "lds": 23, "shfl": 23, "ldg": 300, "ldc": 12, "s2r": 20,
    "atoms": 30, "syncs": 30, "ldl": 30,
}
KERNEL = "persistent_train_kernel"
SMS = 132  # an H100 SXM's SMs
# Clusters of N blocks an H100 SXM holds at once: a cluster's blocks share a GPC, and its 132 SMs sit in GPCs of
# 16 or 18, so 4 clusters of 4 or 2 of 8 fit a GPC (cudaOccupancyMaxActiveClusters on the GPU says; an assumption
# until one has).
MAX_ACTIVE_CLUSTERS = {1: 132, 2: 66, 3: 40, 4: 32, 5: 24, 6: 16, 7: 16, 8: 16}
L2_BYTES_PER_CLOCK = 5.5e12 / (CLOCK_GHZ * 1e9)  # an H100's L2 read bandwidth, about 5.5 TB/s
SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels")
DEFAULT_CASES = ["784,30,10:1", "784,30,10:10", "784,30,10:32", "784,100,10:10"]


# ---------------------------------------------------------------------------------------------------------------
# The kernel's work split, as kernels/persistent_train.cu computes it.

def sample_tile(m):
    return 1 if m <= 1 else 2 if m <= 2 else 4 if m <= 4 else 10 if m <= 10 else 16 if m <= 16 else 32


def copy_piece(n0):
    return 16 if n0 % 16 == 0 else 8 if n0 % 8 == 0 else 4 if n0 % 4 == 0 else 1


def groups_of(n, size):
    return (n + size - 1) // size


def input_share(n0, blocks, rank):
    piece = copy_piece(n0)
    units = n0 // piece
    u0, u1 = rank * units // blocks, (rank + 1) * units // blocks
    first = u0 * piece
    count = n0 - first if rank + 1 == blocks else (u1 - u0) * piece
    return first, count


def cluster_blocks(sizes):
    """persistent_cluster_blocks on a device with clusters, before the fit (the fit never binds for these)."""
    n0, n1 = sizes[0], sizes[1]
    slots = WARPS // groups_of(n1, 32)
    units = n0 // copy_piece(n0)
    blocks = 1
    while blocks < 8 and units >= 2 * blocks and units // (2 * blocks) * copy_piece(n0) // 4 >= slots:
        blocks *= 2
    return blocks


@dataclasses.dataclass
class Case:
    sizes: list
    m: int
    blocks: int

    @property
    def name(self):
        return "-".join(map(str, self.sizes)) + f" b{self.m}"


class Warp:
    """One warp of one block: what its tagged loops and branches do in one step."""

    def __init__(self, case, rank, warp, softmax=False):
        self.case, self.rank, self.warp, self.softmax = case, rank, warp, softmax
        sizes, m = case.sizes, case.m
        self.layers = len(sizes) - 1
        self.n1 = sizes[1]
        self.neuron_groups = groups_of(self.n1, 32)
        self.slots = WARPS // self.neuron_groups
        _, self.columns = input_share(sizes[0], case.blocks, rank)
        self.column_groups = groups_of(self.columns, 4)
        self.quads = groups_of(self.n1, 4)
        self.exchange_samples = 1 if self.quads >= 32 else 32 // self.quads

    def strided(self, n):
        """Iterations of `for (o = t; o < n; o += THREADS)` in which some lane of this warp is active."""
        first = 32 * self.warp
        return 0 if n <= first else groups_of(n - first, THREADS)

    def terms(self, over, outer):
        """The terms of a dot or sum call tagged `// model: over NAME`."""
        sizes = self.case.sizes
        upper = 1 + outer.get("upper layers", 0)
        hidden = self.layers - 1 - outer.get("hidden layers", 0)
        table = {"slots": self.slots, "blocks": self.case.blocks, "inputs": sizes[upper],
                 "above": sizes[hidden + 1], "samples": self.case.m}
        if over not in table:
            raise ModelError(f"no term count for a call tagged 'over {over}'")
        return table[over]

    def trip_count(self, tag, outer, over=None):
        """Iterations of the loop tagged `tag`; outer: the iteration numbers of the tagged loops around it; over:
        the call's term count tag, for the loops of dot and sum."""
        if tag in ("by 4", "rest"):
            if over is None:
                raise ModelError(f"a loop tagged '{tag}' called from a line with no 'over' tag")
            n = self.terms(over, outer)
            return n // 4 if tag == "by 4" else n % 4
        sizes, m, w = self.case.sizes, self.case.m, self
        upper = 1 + outer.get("upper layers", 0)  # the layer l of the upper-layer loops
        hidden = self.layers - 1 - outer.get("hidden layers", 0)
        layer = outer.get("all layers", 0)
        piece = copy_piece(sizes[0])
        slot = self.warp // self.neuron_groups
        lanes = lambda n: groups_of(n, 32)  # a loop over n by the lanes: the first lane's iterations
        rows = lambda n: len(range(self.warp, n, WARPS))  # a loop over n by the warps
        table = {
            "copy": lambda: w.strided(m * (w.columns // piece if piece > 1 else w.columns)),
            "sample rows": lambda: rows(m),
            "column groups": lambda: lanes(w.column_groups),
            "first neurons": lambda: lanes(w.n1),
            "upper neurons": lambda: lanes(sizes[upper + 1]),
            "top neurons": lambda: lanes(sizes[-1]),
            "hidden neurons": lambda: lanes(sizes[hidden]),
            "weight rows": lambda: rows(sizes[upper + 1]),
            "weight columns": lambda: lanes(sizes[upper]),
            "forward columns": lambda: len(range(slot, w.column_groups, w.slots)),
            "update columns": lambda: len(range(slot, w.column_groups, w.slots)),
            "wait": lambda: 1,
            "upper layers": lambda: self.layers - 1,
            "softmax": lambda: w.strided(m),
            "row": lambda: sizes[-1],
            "hidden layers": lambda: self.layers - 1,
            "row end": lambda: w.columns % 4,
            "exchange rows": lambda: len(range(self.warp * w.exchange_samples, m, WARPS * w.exchange_samples)),
            "exchange quads": lambda: groups_of(w.quads, 32),
            "slots": lambda: w.slots,
            "blocks": lambda: self.case.blocks,
        }
        if tag not in table:
            raise ModelError(f"no trip count for the loop tagged '{tag}'")
        return table[tag]()

    def taken(self, tag):
        """Whether the body of the branch tagged `tag` runs in this warp."""
        table = {
            "first-layer warps": self.warp < self.neuron_groups * self.slots,
            "bias warps": self.warp < self.neuron_groups,
            "single block": self.case.blocks == 1,
            "more": True,
            "softmax": self.softmax,
            "plain copy": copy_piece(self.case.sizes[0]) == 1,
            "whole group": True,
            "never": False,
        }
        if tag not in table:
            raise ModelError(f"no outcome for the branch tagged '{tag}'")
        return table[tag]


class ModelError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# Finding and reading the SASS.

def find_tool(name):
    """cuobjdump or nvdisasm: on PATH, in the CUDA toolkit, or from the PyPI wheels nvidia-cuda-cuobjdump and
    nvidia-cuda-nvdisasm (nvidia/cu13/bin in site-packages)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ["/usr/local/cuda/bin", os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin")]:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations if spec else []) or []:
        for candidate in glob.glob(os.path.join(root, "*", "bin", name)):
            return candidate
    raise ModelError(f"{name} not found: install the PyPI wheels nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm")


def sm90_cubins(path, cuobjdump, workdir):
    """The sm_90 cubins embedded in an executable or object file (or the file itself, if it is one)."""
    if path.endswith(".cubin"):
        return [path]
    listed = subprocess.run([cuobjdump, "-lelf", path], capture_output=True, text=True)
    names = [line.split(":", 1)[1].strip() for line in listed.stdout.splitlines() if line.startswith("ELF file")]
    cubins = []
    for name in names:
        if "sm_90" not in name:
            continue
        subprocess.run([cuobjdump, "-xelf", name, os.path.abspath(path)], cwd=workdir, capture_output=True,
                       check=True)
        cubins.append(os.path.join(workdir, name))
    return cubins


def kernel_sass(build, tile, many=False):
    """The SASS text, with the line table inlined, of the persistent kernel for sample tile `tile` (of one run, or
    with `many`, of a launch of many runs)."""
    cuobjdump, nvdisasm = find_tool("cuobjdump"), find_tool("nvdisasm")
    candidates = [build] if os.path.isfile(build) else (
        [os.path.join(build, "sigmanet")] +
        sorted(glob.glob(os.path.join(build, "**", "persistent_train.cu.o"), recursive=True)))
    with tempfile.TemporaryDirectory() as workdir:
        for candidate in candidates:
            if not os.path.isfile(candidate):
                continue
            for cubin in sm90_cubins(candidate, cuobjdump, workdir):
                text = subprocess.run([nvdisasm, "-c", "-gi", cubin], capture_output=True, text=True).stdout
                functions = split_functions(text)
                for name, body in functions.items():
                    if KERNEL in name and f"ILi{tile}ELb{int(many)}E" in name:
                        return body
    raise ModelError(f"no sm_90 SASS of {KERNEL}<{tile}, {str(many).lower()}> in {build} "
                     "(build with CMAKE_CUDA_ARCHITECTURES=90)")


def split_functions(text):
    functions, name, body = {}, None, []
    for line in text.splitlines():
        header = re.match(r"\s*\.text\.(\S+):", line)
        if header:
            if name:
                functions[name] = "\n".join(body)
            name, body = header.group(1), []
        elif name:
            body.append(line)
    if name:
        functions[name] = "\n".join(body)
    return functions


@dataclasses.dataclass
class Instr:
    addr: int
    pred: str  # "" or "@P0", "@!P1", ...
    op: str  # the full opcode, e.g. "LDS.128"
    operands: str
    frames: list  # (file basename, line), innermost first
    target: int = None  # a branch's target address

    @property
    def base(self):
        return self.op.split(".")[0]


FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def parse(text):
    # nvdisasm -gi puts one or more `//##` lines before an instruction whose line changes: the source line and
    # the lines it is inlined at. They hold for every instruction up to the next such lines.
    instrs, labels, pending, frames, fresh = [], {}, [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//##"):
            found = [(os.path.basename(f), int(l)) for f, l in FRAME.findall(stripped)]
            frames = (frames if fresh else []) + [f for f in found if f not in frames or not fresh]
            fresh = True
            continue
        fresh = False
        label = re.match(r"^(\.L_x_\d+):", stripped)
        if label:
            pending.append(label.group(1))
            continue
        m = re.match(r"/\*([0-9a-f]+)\*/\s+(@!?U?P[T0-9]+\s+)?([A-Z0-9_.]+)\s*(.*?)\s*;", stripped)
        if not m:
            continue
        addr = int(m.group(1), 16)
        for name in pending:
            labels[name] = addr
        pending = []
        instrs.append(Instr(addr, (m.group(2) or "").strip(), m.group(3), m.group(4), list(frames)))
    for ins in instrs:
        target = re.search(r"`\((\.L_x_\d+)\)", ins.operands)
        if target:
            ins.target = labels[target.group(1)]
    return instrs


# ---------------------------------------------------------------------------------------------------------------
# Tags in the sources.

def brace_block(lines, start):
    """(first line, last line), 1-based, of the braces opened on line `start` (0-based index)."""
    depth, opened = 0, False
    for k in range(start, len(lines)):
        for ch in lines[k].split("//")[0]:
            if ch == "{":
                depth, opened = depth + 1, True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return start + 1, k + 1
    return start + 1, start + 1


def source_tags():
    """{(file basename, line): (kind, name)}: 'loop'/'branch' tags, and 'phase' for barriers. A tagged branch
    also records the lines of its body and of its else part: BRANCH_BODIES[(file, line)] = (then, else)."""
    tags = {}
    for path in glob.glob(os.path.join(SOURCE_DIR, "*")):
        with open(path, encoding="utf-8") as f:
            text = f.read().split("\n")
        for index, line in enumerate(text):
            number = index + 1
            if "{" in line.split("//")[0] and re.match(r"\s*(\}\s*else\s*)?if \(", line) and "// model:" in line:
                first, last = brace_block(text, index)
                then = (first + 1, last)
                rest = text[last - 1] if last - 1 < len(text) else ""
                other = brace_block(text, last - 1) if re.search(r"\}\s*else\s*\{", rest) else None
                BRANCH_BODIES[(os.path.basename(path), number)] = (then, (other[0] + 1, other[1]) if other else None)
        for number, line in enumerate(text, 1):
                m = re.search(r"// model: ([a-z][a-z0-9 -]*[a-z0-9])", line)
                if not m:
                    continue
                name = m.group(1)
                if name.startswith("phase "):
                    tags[(os.path.basename(path), number)] = ("phase", name[len("phase "):])
                elif name.startswith("over "):  # a call of dot or sum: how many terms
                    tags[(os.path.basename(path), number)] = ("over", name[len("over "):])
                elif re.match(r"\s*for \(", line):
                    tags[(os.path.basename(path), number)] = ("loop", name)
                elif re.match(r"\s*(\}\s*else\s*)?if \(", line) or "atomicMin" in line:
                    tags[(os.path.basename(path), number)] = ("branch", name)
                else:
                    tags[(os.path.basename(path), number)] = ("loop", name)  # a while loop's condition
    return tags


BRANCH_BODIES = {}


def tag_of(ins, tags, kinds):
    for frame in ins.frames:
        tag = tags.get(frame)
        if tag and tag[0] in kinds:
            return tag[1], frame
    return None, None


# ---------------------------------------------------------------------------------------------------------------
# Control flow: basic blocks and loops.

ENDS_BLOCK = {"BRA", "EXIT", "RET", "BRX", "JMP", "BREAK"}


class Program:
    def __init__(self, instrs, tags):
        self.instrs, self.tags = instrs, tags
        self.index = {ins.addr: i for i, ins in enumerate(instrs)}
        # Natural loops: a back edge (a branch to an earlier address) and every instruction between its target
        # and it (the kernel's loops are structured, so that range is the loop).
        self.loops = []
        for i, ins in enumerate(instrs):
            if ins.base == "BRA" and ins.target is not None and ins.target <= ins.addr:
                name, _ = tag_of(ins, tags, {"loop"})
                self.loops.append((self.index[ins.target], i, name))

    def loop_ending_at(self, i):
        for head, tail, name in self.loops:
            if tail == i:
                return head, tail, name
        return None

    def loops_around(self, i):
        return [(h, t, n) for h, t, n in self.loops if h <= i <= t]


# ---------------------------------------------------------------------------------------------------------------
# Which registers hold the same value in every lane of a warp (a load from such an address is a broadcast).

REG = re.compile(r"\b(U?R\d+|U?P\d+)\b")


def registers_written(ins):
    """The registers an instruction writes: its first operand, widened by the access's size."""
    if ins.base in {"ST", "STS", "STG", "STL", "STAS", "BRA", "EXIT", "BAR", "RED", "LDGSTS", "CALL", "RET", "BSSY",
                    "BSYNC", "WARPSYNC", "NOP", "MEMBAR", "CCTL", "DEPBAR", "LDGDEPBAR", "BPT", "YIELD", "BREAK",
                    "UCGABAR_ARV", "UCGABAR_WAIT", "ERRBAR", "FENCE"}:
        return []
    operands = [o.strip() for o in ins.operands.split(",")]
    first = operands[1] if ins.base == "SHFL" else operands[0]  # SHFL's first operand is its predicate
    regs = [r for r in REG.findall(first)]
    if not regs:
        return []
    reg = regs[0]
    width = 4 if ".128" in ins.op else 2 if (".64" in ins.op or ".WIDE" in ins.op) else 1
    if reg[0] in "UR" and reg.lstrip("U")[0] == "R":
        prefix = "UR" if reg.startswith("UR") else "R"
        n = int(reg[len(prefix):])
        return [f"{prefix}{n + k}" for k in range(width)]
    return [reg]


def registers_read(ins):
    parts = ins.operands.split(",")
    written = registers_written(ins)
    reads = [r for part in (parts[1:] if written else parts) for r in REG.findall(part)]
    if ins.pred:
        reads += REG.findall(ins.pred)
    # A 64-bit address [R4.64] reads R4 and R5.
    for r in REG.findall(" ".join(re.findall(r"\[([^\]]*)\]", ins.operands))):
        if r.startswith("R") and ".64" in ins.operands:
            reads.append(f"R{int(r[1:]) + 1}")
    return [r for r in reads if r not in ("RZ", "PT", "URZ", "UPT")]


def uniform_registers(prog):
    """For each instruction, the set of R registers known warp-uniform before it (a forward dataflow over the
    code, iterated to a fixed point around loops). Uniform: constants, uniform registers, kernel parameters, a
    value shuffled from one lane to all (SHFL.IDX ... RZ, 0x1f) and whatever is computed from uniform values only."""
    instrs = prog.instrs
    n = len(instrs)
    successors = [[] for _ in range(n)]
    for i, ins in enumerate(instrs):
        if ins.base in ("EXIT", "RET") and not ins.pred:
            continue
        if ins.target is not None and ins.base == "BRA":
            successors[i].append(prog.index[ins.target])
            if not ins.pred:
                continue
        if i + 1 < n:
            successors[i].append(i + 1)
    state = [None] * n  # uniform set before instruction i; None: not reached yet
    state[0] = frozenset()
    work = [0]
    while work:
        i = work.pop()
        ins, before = instrs[i], state[i]
        after = set(before)
        written = [r for r in registers_written(ins) if r[0] in "RP"]
        if written:
            reads = [r for r in registers_read(ins) if r[0] in "RP"]
            uniform = all(r in before for r in reads)
            if ins.base in ("LD", "LDG", "LDL", "ATOMS", "ATOM", "SHFL", "CS2R", "SYNCS"):
                uniform = False
            if ins.base == "S2R":  # the thread's and lane's numbers differ across a warp; the block's do not
                uniform = not re.search(r"SR_(TID|LANEID|LTMASK|LEMASK|GTMASK|GEMASK|CLOCK)", ins.operands)
            if ins.base == "SHFL" and ".IDX" in ins.op and re.search(r",\s*RZ,\s*0x1f$", ins.operands):
                uniform = True
            if ins.base in ("LDS", "LDC") and uniform:
                uniform = True  # one address for every lane: every lane loads the same value
            for r in written:
                (after.add if uniform else after.discard)(r)
        after = frozenset(after)
        for j in successors[i]:
            merged = after if state[j] is None else state[j] & after
            if merged != state[j]:
                state[j] = merged
                work.append(j)
    return state


# ---------------------------------------------------------------------------------------------------------------
# One step of one warp: the instructions it issues, in order.

def walk_step(prog, warp_model):
    """The instruction indices one warp issues in one iteration of the step loop, with the phase each ends."""
    instrs, tags = prog.instrs, prog.tags
    step = [(h, t) for h, t, name in prog.loops if name == "step"]
    if len(step) != 1:
        raise ModelError(f"expected one loop tagged 'step', found {len(step)}")
    head, tail = step[0]
    path = []
    counters = {}  # loop (head, tail) -> (iteration, trip count)
    i = head
    guard = 0
    while True:
        guard += 1
        if guard > 5_000_000:
            raise ModelError("the walk does not end: a loop's trip count or a branch is wrong")
        ins = instrs[i]
        path.append(i)
        if i == tail:
            return path
        if ins.base == "EXIT" and not ins.pred:
            return path
        if ins.base != "BRA" or ins.target is None:
            i += 1
            continue
        j = prog.index[ins.target]
        loop = prog.loop_ending_at(i)
        if loop:  # a back edge: take it while the loop has iterations left
            lh, lt, name = loop
            if name is None:
                raise ModelError(f"a loop at {ins.addr:#x} ({frames_text(ins)}) has no '// model:' tag")
            outer = outer_iterations(prog, counters, lh)
            it, trips = counters.get((lh, lt), (0, None))
            if trips is None:
                trips = warp_model.trip_count(name, outer, over_of(prog, ins))
            if not ins.pred or it + 1 < trips:
                if it + 1 < trips or not ins.pred:
                    counters[(lh, lt)] = (it + 1, trips)
                    i = j
                    continue
            counters.pop((lh, lt), None)
            i += 1
            continue
        if not ins.pred:  # an unconditional forward branch
            i = j
            continue
        i = forward_branch(prog, warp_model, counters, i, j)


def over_of(prog, ins):
    name, _ = tag_of(ins, prog.tags, {"over"})
    return name


def outer_iterations(prog, counters, head):
    """{tag: iteration} of the active loops enclosing the instruction at index `head`."""
    outer = {}
    for (lh, lt), (it, _) in counters.items():
        if lh <= head <= lt:
            name = next(n for h, t, n in prog.loops if (h, t) == (lh, lt))
            outer[name] = it
    return outer


def forward_branch(prog, warp_model, counters, i, j):
    """The next instruction after a conditional forward branch at i to j."""
    ins = prog.instrs[i]
    loop_tag, _ = tag_of(ins, prog.tags, {"loop"})
    if loop_tag:
        # A loop's guard or exit: taken when the loop has no iteration (left) to run. The loop it belongs to
        # is the one with that tag whose body the branch skips.
        for lh, lt, name in prog.loops:
            if name != loop_tag or not (j > lt and (i < lh or lh <= i <= lt)):
                continue
            if i < lh:
                trips = warp_model.trip_count(name, outer_iterations(prog, counters, lh), over_of(prog, ins))
                counters[(lh, lt)] = (0, trips)
                return j if trips == 0 else i + 1
            it, trips = counters.get((lh, lt), (0, None))
            if trips is None:
                trips = warp_model.trip_count(name, outer_iterations(prog, counters, lh), over_of(prog, ins))
                counters[(lh, lt)] = (it, trips)
            return j if it >= trips else i + 1
    branch_tag, frame = tag_of(ins, prog.tags, {"branch"})
    if branch_tag:
        runs = warp_model.taken(branch_tag)
        bodies = BRANCH_BODIES.get(frame)
        if not bodies:  # a predicated call or statement: the branch jumps over it
            return j if not runs else i + 1
        # Which side is the body: the one whose code comes more from the body's lines than the else part's.
        lean = lambda k: body_lean(prog, k, frame[0], bodies)
        body_is_target = lean(j) > lean(i + 1)
        return (j if runs else i + 1) if body_is_target else (j if not runs else i + 1)
    return i + 1  # untagged: the fall-through (the body runs, or the rare path is not taken)


def body_lean(prog, k, source, bodies, look=24):
    """How much the code from instruction k on (the next `look` instructions, following unconditional branches)
    comes from the lines of the then-body rather than the else part (line tables blur a branch's first
    instructions, so one is not enough)."""
    then, other = bodies
    score, seen = 0, 0
    while seen < look and k < len(prog.instrs):
        ins = prog.instrs[k]
        for f, line in ins.frames:
            if f != source:
                continue
            score += 1 if then[0] <= line <= then[1] else -1 if other and other[0] <= line <= other[1] else 0
        seen += 1
        k = prog.index[ins.target] if ins.base == "BRA" and not ins.pred and ins.target is not None else k + 1
    return score


def frames_text(ins):
    return " <- ".join(f"{f}:{l}" for f, l in ins.frames) or "no line"


# ---------------------------------------------------------------------------------------------------------------
# Counting a phase.

def latency_class(ins):
    b = ins.base
    if b in ("MUFU",):
        return "mufu"
    if b in ("I2F", "F2I", "F2F", "I2FP", "F2FP", "FRND"):
        return "conv"
    if b in ("DFMA", "DADD", "DMUL", "DSETP"):
        return "dfma"
    if b in ("LDS", "LDSM"):
        return "lds"
    if b == "SHFL":
        return "shfl"
    if b in ("LDG", "LD", "ATOM", "ATOMG", "RED"):
        return "ldg"
    if b == "LDL":
        return "ldl"
    if b in ("LDC", "ULDC"):
        return "ldc"
    if b in ("S2R", "S2UR", "CS2R"):
        return "s2r"
    if b == "ATOMS":
        return "atoms"
    if b == "SYNCS":
        return "syncs"
    return "alu"


def wavefronts(ins, uniform):
    b = ins.base
    if b in ("SHFL", "ATOMS"):
        return 1
    if b not in ("LDS", "STS"):
        return 0
    width = 16 if ".128" in ins.op else 8 if ".64" in ins.op else 4
    address = re.findall(r"\[([^\]]*)\]", ins.operands)
    regs = REG.findall(address[0]) if address else []
    if b == "LDS" and all(r.startswith("UR") or r in uniform for r in regs):
        return 1  # a broadcast
    return width * 32 // 128


@dataclasses.dataclass
class PhaseCount:
    name: str
    issue: list = dataclasses.field(default_factory=lambda: [0] * SCHEDULERS)
    wavefronts: int = 0
    mufu: list = dataclasses.field(default_factory=lambda: [0] * SCHEDULERS)
    chain: int = 0  # the slowest warp's in-order time
    barriers: int = 0
    ffma: int = 0
    exchange: bool = False

    def clocks(self):
        bound = max(max(self.issue), self.wavefronts, max(self.mufu) * MUFU_CLOCKS, self.chain)
        return bound + BARRIER_CLOCKS * self.barriers + (EXCHANGE_CLOCKS if self.exchange else 0)

    def bound(self):
        bounds = {"issue": max(self.issue), "shared memory": self.wavefronts,
                  "SFU": max(self.mufu) * MUFU_CLOCKS, "dependent chain": self.chain}
        return max(bounds, key=bounds.get)


def phase_of(ins, tags):
    name, _ = tag_of(ins, tags, {"phase"})
    return name


def phase_segments(prog, path):
    """The walk cut at each tagged barrier (and at the exchange's wait): [(phase name, indices, ends how)].
    What follows the last barrier (the step counter, the loop's branch) runs before the next step's first one."""
    segments, current = [], []
    for i in path:
        ins = prog.instrs[i]
        current.append(i)
        if ins.base == "SYNCS" and "TRYWAIT" in ins.op:
            segments.append(("send", current, "exchange"))
            current = []
        elif ins.base == "BAR":
            name = phase_of(ins, prog.tags)
            if name:
                segments.append((name, current, "barrier"))
                current = []
    if not segments:
        raise ModelError("no barrier tagged '// model: phase NAME' in the step loop")
    first_name, first, how = segments[0]
    segments[0] = (first_name, current + first, how)
    return segments


def count_step(prog, uniform, case, rank, softmax):
    """PhaseCount per phase for one block of the cluster, in the order the phases run."""
    phases, order = {}, []
    for warp in range(WARPS):
        sched = warp % SCHEDULERS
        for name, indices, how in phase_segments(prog, walk_step(prog, Warp(case, rank, warp, softmax))):
            if name not in phases:
                phases[name] = PhaseCount(name, barriers=int(how == "barrier"), exchange=how == "exchange")
                order.append(name)
            p = phases[name]
            ready, t = defaultdict(int), 0
            for k in indices:
                x = prog.instrs[k]
                p.issue[sched] += 1
                p.wavefronts += wavefronts(x, uniform[k])
                p.mufu[sched] += x.base == "MUFU"
                p.ffma += x.base == "FFMA"
                start = max([t] + [ready[r] for r in registers_read(x)])
                for r in registers_written(x):
                    ready[r] = start + LATENCY[latency_class(x)]
                t = start + 1
            p.chain = max(p.chain, t)
    return [phases[n] for n in order]


# ---------------------------------------------------------------------------------------------------------------

def model_case(build, case, softmax=False, many=False, sass_cache={}):
    key = (sample_tile(case.m), many)
    if key not in sass_cache:
        text = kernel_sass(build, *key)
        instrs = parse(text)
        prog = Program(instrs, source_tags())
        sass_cache[key] = (prog, uniform_registers(prog))
    prog, uniform = sass_cache[key]
    per_rank = [count_step(prog, uniform, case, rank, softmax) for rank in range(case.blocks)]
    names = [p.name for p in per_rank[0]]
    phases = []
    for k, name in enumerate(names):
        slowest = max((r[k] for r in per_rank), key=lambda p: p.clocks())
        phases.append(slowest)
    clocks = sum(p.clocks() for p in phases)
    return phases, clocks


def model_runs(build, case, runs):
    """A launch of `runs` runs of case side by side: (clocks a step of all of them, waves, the L2's clocks for
    their step's data, the one cluster's clocks)."""
    _, cluster_clocks = model_case(build, case, many=True)
    resident = MAX_ACTIVE_CLUSTERS[case.blocks]
    waves = -(-runs // resident)
    # Every cluster reads its batch's pixels (each block its share), records (4 bytes) and labels once a step.
    l2_clocks = runs * case.m * (case.sizes[0] + 4 + 1) / L2_BYTES_PER_CLOCK
    return waves * max(cluster_clocks, l2_clocks / waves), waves, l2_clocks, cluster_clocks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build", help="a build for sm_90 (gpu-carry/, or a CMake build folder), or an ELF or cubin")
    parser.add_argument("--case", action="append", help="SIZES:BATCH, e.g. 784,30,10:10 (repeatable)")
    parser.add_argument("--blocks", type=int, help="the cluster's size (default: the kernel's rule)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--phases", action="store_true", help="print each case's table per phase")
    parser.add_argument("--runs", type=int, help="also count a launch of this many runs side by side")
    parser.add_argument("--check", metavar="RESULTS",
                        help="fail (exit 1) when the 784-30-10 b10 figure is more than 10%% over the one this file "
                             "records (its line 'persistent 784-30-10 b10: N.NN us/step (SASS model)')")
    args = parser.parse_args()
    recorded = None
    if args.check:
        with open(args.check, encoding="utf-8") as f:
            found = re.findall(r"persistent 784-30-10 b10: ([0-9.]+) us/step \(SASS model\)", f.read())
        if not found:
            print(f"sass_model: {args.check} records no 'persistent 784-30-10 b10: N.NN us/step (SASS model)'",
                  file=sys.stderr)
            return 2
        recorded = float(found[-1])
    results = []
    try:
        for spec in args.case or DEFAULT_CASES:
            sizes_text, m_text = spec.split(":")
            sizes = [int(s) for s in sizes_text.split(",")]
            case = Case(sizes, int(m_text), args.blocks or cluster_blocks(sizes))
            phases, clocks = model_case(args.build, case)
            results.append((case, phases, clocks))
        side_by_side = [(case, clocks, model_runs(args.build, case, args.runs))
                        for case, _, clocks in results] if args.runs else []
    except ModelError as e:
        print(f"sass_model: {e}", file=sys.stderr)
        return 2
    print(f"{'case':<18} {'blocks':>6} {'clocks':>7} {'us/step':>8} {'FFMA/warp-instr':>16}")
    for case, phases, clocks in results:
        ffma = sum(p.ffma for p in phases)
        issued = sum(sum(p.issue) for p in phases)
        print(f"{case.name:<18} {case.blocks:>6} {clocks:>7} {clocks / CLOCK_GHZ / 1000:>8.2f} "
              f"{ffma / max(issued, 1):>16.2f}")
    for case, phases, clocks in results:
        if not args.phases and case.name != "784-30-10 b10":
            continue
        print(f"\n{case.name}, cluster of {case.blocks} (the slowest block in each phase):")
        print(f"  {'phase':<20} {'issue/sched':>16} {'wavefronts':>10} {'SFU':>5} {'chain':>6} {'clocks':>7}  bound")
        for p in phases:
            print(f"  {p.name:<20} {'/'.join(map(str, p.issue)):>16} {p.wavefronts:>10} "
                  f"{max(p.mufu) * MUFU_CLOCKS:>5} {p.chain:>6} {p.clocks():>7}  {p.bound()}")
    if side_by_side:
        print(f"\n{args.runs} runs side by side, a cluster a run (one run's kernel: its step alone):")
        print(f"  {'case':<18} {'blocks':>6} {'resident':>8} {'waves':>5} {'cluster':>8} {'L2':>6} {'us/step':>8} "
              f"{'x one run':>9}")
        for case, alone, (clocks, waves, l2, cluster) in side_by_side:
            print(f"  {case.name:<18} {case.blocks:>6} {MAX_ACTIVE_CLUSTERS[case.blocks]:>8} {waves:>5} {cluster:>8} "
                  f"{l2:>6.0f} {clocks / CLOCK_GHZ / 1000:>8.2f} {clocks / alone:>9.2f}")
        for case, alone, (clocks, waves, l2, cluster) in side_by_side:
            print(f"persistent {case.name}, {args.runs} runs in clusters of {case.blocks}: "
                  f"{clocks / CLOCK_GHZ / 1000:.2f} us/step (SASS model), {clocks / alone:.2f}x one run")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"case": c.name, "blocks": c.blocks, "clocks": k, "us_per_step": k / CLOCK_GHZ / 1000,
                        "phases": [dataclasses.asdict(p) | {"clocks": p.clocks()} for p in ph]}
                       for c, ph, k in results], f, indent=1)
    status = 0
    for case, phases, clocks in results:
        if case.name != "784-30-10 b10":
            continue
        figure = clocks / CLOCK_GHZ / 1000
        if recorded is not None and figure > 1.1 * recorded:
            print(f"sass_model: 784-30-10 b10 takes {figure:.2f} us a step, more than 10% over the "
                  f"{recorded:.2f} that {args.check} records", file=sys.stderr)
            status = 1
        print(f"persistent 784-30-10 b10: {figure:.2f} us/step (SASS model)")
    return status


if __name__ == "__main__":
    sys.exit(main())
