# SPDX-License-Identifier: GPL-2.0
"""Runs loader/sipka.bash's _sipka as bash would on a command line: what it
offers. Shared by tests/docs/test_options.py and tests/e2e/test_completion.py."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETION = os.path.join(ROOT, "loader", "sipka.bash")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def completions(lines):
    """Runs _sipka for each command line in LINES (lists of words, the last
    being the word completed); returns what it offers for each."""
    script = ["source %s" % BASH_COMPLETION, "source %s" % COMPLETION,
              'complete_for() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; '
              'COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _sipka 2>/dev/null; echo "=> ${COMPREPLY[*]}"; }']
    for words in lines:
        script.append("complete_for " + " ".join("'%s'" % w for w in words))
    p = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, timeout=60,
                       cwd=ROOT)
    out = [line[3:].split() for line in p.stdout.splitlines() if line.startswith("=>")]
    if len(out) != len(lines):
        raise AssertionError("completion script: %s" % p.stderr)
    return out
