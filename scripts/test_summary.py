#!/usr/bin/env python3
"""Prints one line, "N passed, N failed, N skipped", for a meson test run.

Each meson test is a Criterion binary or a network test script, each holding
many checks; this counts the checks, from Criterion's synthesis line or the
scripts' own "N passed, N failed" line. A test that printed neither (it crashed
or timed out) counts as one failure, a skipped one as one skip."""
import json
import re
import sys

CRITERION = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
SCRIPT = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", re.M)

passed = failed = skipped = 0
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        output = (test.get("stdout") or "") + (test.get("stderr") or "")
        criterion = CRITERION.findall(output)
        script = SCRIPT.findall(output)
        if test["result"] == "SKIP":
            skipped += 1
        elif criterion:
            tested, passing, failing, crashing = map(int, criterion[-1])
            passed += passing
            failed += failing + crashing
            if test["result"] != "OK" and failing + crashing == 0:
                failed += 1
        elif script:
            p, f, s = script[-1]
            passed += int(p)
            failed += int(f)
            skipped += int(s or 0)
            if test["result"] != "OK" and int(f) == 0:
                failed += 1
        else:
            failed += test["result"] != "OK"
            passed += test["result"] == "OK"
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
