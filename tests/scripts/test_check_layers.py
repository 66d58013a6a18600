#!/usr/bin/env python3
"""scripts/check-layers.py on the source tree (which must pass) and on copies of it with one include planted that
points up, one public header that includes a private one, and one include of no file (each must fail, naming the
file, the line and the include).

Usage: test_check_layers.py SOURCE_DIR
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
SCRIPT = SOURCE / "scripts" / "check-layers.py"


def run(root):
    done = subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True)
    return done.returncode, done.stdout


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.tree = pathlib.Path(self.scratch.name)
        for top in ("include", "host", "kernels"):
            shutil.copytree(SOURCE / top, self.tree / top)

    def tearDown(self):
        self.scratch.cleanup()

    def planted_fails(self, file, include, message):
        """Appends `#include "include"` to file; the check must fail with one line: file, that line, message."""
        path = self.tree / file
        lines = path.read_text().splitlines() + [f'#include "{include}"']
        path.write_text("\n".join(lines) + "\n")
        self.assertEqual(run(self.tree), (1, f"{file}:{len(lines)}: {message}\n"))

    def test_the_source_tree_points_down(self):
        self.assertEqual(run(SOURCE), (0, ""))

    def test_the_core_including_the_cli_fails(self):
        self.planted_fails("host/training/trainer.cpp", "cli/flags.hpp",
                           'includes "cli/flags.hpp" (cli); training may include: nothing else')

    def test_a_backend_including_a_report_fails(self):
        self.planted_fails("host/cpu/cpu_backend.cpp", "reports/benchmark.hpp",
                           'includes "reports/benchmark.hpp" (reports); cpu may include: training')

    def test_a_cuda_header_including_a_report_fails(self):
        self.planted_fails("host/cuda/cuda_backend.hpp", "reports/benchmark.hpp",
                           'includes "reports/benchmark.hpp" (reports); cuda may include: training, kernels, '
                           'cuda_on_demand, oracle')

    def test_a_public_header_including_a_private_one_fails(self):
        self.planted_fails("include/sigmanet/trainer.hpp", "training/number_text.hpp",
                           'a public header includes "training/number_text.hpp", which is not installed')

    def test_an_include_of_no_file_fails(self):
        self.planted_fails("host/formats/mnist.cpp", "formats/no_such_header.hpp",
                           'includes "formats/no_such_header.hpp", which is no file of the tree')

if __name__ == "__main__":
    unittest.main()
