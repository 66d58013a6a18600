#!/usr/bin/python3
"""The closing summary of scripts/test-all.sh, from the JUnit files its ctest runs wrote.

usage: ctest_summary.py BUILD=FILE.xml [BUILD=FILE.xml ...]

The same test runs in several builds (the default, the CPU-only and the sanitizer build), so a count of runs is
not a count of tests. This prints, for each skipped test, why it was skipped (grouped by reason), then one line:
how many distinct tests passed, and how many runs there were in all, per build.

Exit status: 0, or 1 when a run failed.
"""
import collections
import sys
import xml.etree.ElementTree as ET


def skip_reason(case):
    """The reason GTEST_SKIP() gave: the line after "...: Skipped" in the test's output."""
    out = case.findtext("system-out") or ""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.endswith(": Skipped") and i + 1 < len(lines) and lines[i + 1].strip():
            return lines[i + 1].strip()
    return "no reason given"


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    passed_anywhere = set()
    per_build = []
    failed = 0
    for argument in sys.argv[1:]:
        build, _, path = argument.partition("=")
        counts = collections.Counter()
        skipped = collections.defaultdict(list)
        for case in ET.parse(path).getroot().iter("testcase"):
            name, status = case.get("name"), case.get("status")
            if status == "run":
                counts["passed"] += 1
                passed_anywhere.add(name)
            elif status == "notrun" or case.find("skipped") is not None:
                counts["skipped"] += 1
                skipped[skip_reason(case)].append(name)
            else:
                counts["failed"] += 1
        failed += counts["failed"]
        per_build.append((build, counts))
        for reason, names in sorted(skipped.items(), key=lambda item: -len(item[1])):
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            print(f"skipped in the {build}: {len(names)} ({reason}): {shown}")
    runs = sum(sum(c.values()) for _, c in per_build)
    builds = "; ".join(
        f"{build}: {c['passed']} passed" + (f", {c['skipped']} skipped" if c["skipped"] else "") +
        (f", {c['failed']} FAILED" if c["failed"] else "") for build, c in per_build)
    print(f"ctest: {len(passed_anywhere)} distinct tests passed, in {runs} runs ({builds})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
