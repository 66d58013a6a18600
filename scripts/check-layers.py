#!/usr/bin/env python3
"""Layers point down: fails when a source of the library includes a header of a folder above its own.

Usage: check-layers.py [ROOT]   (ROOT: the source tree, by default this script's repository)

Each folder of host/ is a layer; the public headers belong to the layer they declare: include/sigmanet/*.hpp to
the core (training), include/sigmanet/<folder>/ to <folder>. LAYERS says which layers each may include besides its
own. A quoted include is resolved as the build resolves it ("sigmanet/...", "<folder>/...", or a file beside the
including one or in kernels/); one that resolves to none of them is an error too, so that no include goes
unchecked. A public header (include/sigmanet/) includes only public headers: it is installed, the rest is not. Prints one line per violation, `file:line: includes "x" (layer a may include: ...)`, and exits 1.
"""
import pathlib
import re
import sys

# What each layer may include besides itself: the core (training) nothing; the oracle, the formats, the CPU backend
# and the kernels only the core; the CUDA backend its kernels and the oracle it is checked against; the CUDA
# backend's checks (cuda_checks) the backend and the oracle; the factory every backend; reports and the CLI what
# they present.
LAYERS = {
    "training": [],
    "oracle": ["training"],
    "formats": ["training"],
    "cpu": ["training"],
    "cuda_on_demand": ["training"],
    "mpi": ["training"],
    "kernels": ["training"],
    "cuda": ["training", "kernels", "cuda_on_demand", "oracle"],
    "cuda_checks": ["training", "kernels", "cuda_on_demand", "oracle", "cuda"],
    "backends": ["training", "cpu", "cuda", "cuda_on_demand"],
    "reports": ["training", "formats", "cpu", "cuda", "backends"],
    "cli": ["training", "formats", "oracle", "cpu", "cuda", "cuda_checks", "cuda_on_demand", "mpi", "backends",
            "reports"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
SOURCES = (".hpp", ".cpp", ".cu", ".cuh", ".h")


def layer_of_file(root, path):
    """The layer a file of the tree belongs to, or None for files outside the layered folders."""
    rel = path.relative_to(root).parts
    if rel[0] == "include" and len(rel) >= 3 and rel[1] == "sigmanet":
        return "training" if len(rel) == 3 else rel[2]
    if rel[0] == "host" and len(rel) >= 3:
        return rel[1]
    if rel[0] == "kernels":
        return "kernels"
    return None


def layer_of_include(root, including, text, angle):
    """The layer an include names, "" for one outside the tree (a system or library header), None if unresolved."""
    first = text.split("/")[0]
    if first == "sigmanet" and (root / "include" / text).is_file():
        return layer_of_file(root, root / "include" / text)
    if angle:
        return ""
    if first in LAYERS and (root / "host" / text).is_file():
        return first
    for folder in (including.parent, root / "kernels"):
        if (folder / text).is_file():
            return layer_of_file(root, folder / text)
    return None


def check(root):
    problems = []
    files = [p for top in ("include", "host", "kernels") for p in sorted((root / top).rglob("*")) if
             p.suffix in SOURCES and p.is_file()]
    for path in files:
        layer = layer_of_file(root, path)
        if layer is None:
            continue
        if layer not in LAYERS:
            problems.append(f"{path.relative_to(root)}: folder '{layer}' has no row in the layer table")
            continue
        public = path.relative_to(root).parts[0] == "include"
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            angle, text = match.group(1) == "<", match.group(2)
            target = layer_of_include(root, path, text, angle)
            where = f"{path.relative_to(root)}:{number}"
            if target is None:
                problems.append(f'{where}: includes "{text}", which is no file of the tree')
            elif target and public and not text.startswith("sigmanet/"):
                problems.append(f'{where}: a public header includes "{text}", which is not installed')
            elif target and target != layer and target not in LAYERS[layer]:
                allowed = ", ".join(LAYERS[layer]) or "nothing else"
                problems.append(f'{where}: includes "{text}" ({target}); {layer} may include: {allowed}')
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    if not (root / "host").is_dir():
        print(f"check-layers: {root}: no host/ folder here", file=sys.stderr)
        return 2
    problems = check(root.resolve())
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} include(s) point up or out of the table", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
