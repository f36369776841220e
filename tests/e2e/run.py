#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs the real-kernel tests (tests/e2e/test_*.py, or the modules named on
the command line) and ends with "e2e: N passed, N failed, N skipped"."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0
        self.started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self.started = time.monotonic()

    def _line(self, word, test, detail=""):
        # A module skipped or failed as a whole has an id with no class part.
        print("%-4s %s (%.1fs)%s" % (word, test.id().split(".", 1)[-1],
                                     time.monotonic() - self.started, detail), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line("FAIL", test, "\n" + self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._line("FAIL", test, "\n" + self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        # unittest counts a failed subtest, but says nothing of it by itself.
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._line("FAIL", subtest, "\n" + self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line("skip", test, ": " + reason)


def main():
    loader = unittest.TestLoader()
    if len(sys.argv) > 1:
        suite = loader.loadTestsFromNames([os.path.basename(n).removesuffix(".py") for n in sys.argv[1:]])
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = Result()
    suite.run(result)
    failed = len(result.failures) + len(result.errors)
    print("e2e: %d passed, %d failed, %d skipped" % (result.passed, failed, len(result.skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
