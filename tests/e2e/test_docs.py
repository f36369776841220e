# SPDX-License-Identifier: GPL-2.0
"""One source for each command's options: 'sipka CMD --help'. The man page's
section for the command and the bash completion must say the same; and a
short option means one thing in every command."""
import os
import re
import subprocess
import unittest

from harness import ROOT, SIPKA, Env, cgroup2_mount, need_root, run, unique

MAN = os.path.join(ROOT, "man", "sipka.8")
COMPLETION = os.path.join(ROOT, "loader", "sipka.bash")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
# An option line of --help: "  -c, --cgroup PATH  ..." or "  --pin-dir DIR  ...".
OPTION_LINE = re.compile(r"^ {2,}(?:(-[A-Za-z]), )?(--[a-z][a-z-]*)(?: ([A-Z][^ ]*))?(?: {2,}|$)")
GLOBALS = {"--pin-dir", "--json", "--verbose", "--help", "--version"}


def sipka_help(*words):
    return run(SIPKA, *words, "--help").stdout


def help_options(text):
    """{long: (short or None, takes a value)} from --help's option lines."""
    opts = {}
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            opts[m.group(2)] = (m.group(1), m.group(3) is not None)
    return opts


def commands():
    """Every command and config subcommand, as 'sipka --help' and 'sipka config
    --help' list them: ["attach", ..., "config set", ...]."""
    text = run(SIPKA, "--help").stdout
    block = text.split("Commands", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in block.splitlines()[1:] if line.strip()]
    keys = []
    for name in names:
        if name == "help":
            continue
        keys.append(name)
        if name == "config":
            usage = sipka_help("config").splitlines()[0].split(" config ", 1)[1]
            keys += ["config " + alt.split()[0] for alt in usage.split("|")]
    return keys


def man_text():
    with open(MAN) as f:
        return f.read()


def man_sections():
    """{'.SS' title: its roff lines} for the COMMANDS section and GLOBAL OPTIONS."""
    sections, title = {}, None
    for line in man_text().splitlines():
        if line.startswith(".SH"):
            title = "GLOBAL OPTIONS" if "GLOBAL OPTIONS" in line else None
            if title:
                sections[title] = []
            continue
        if line.startswith(".SS"):
            title = line[3:].strip().strip('"')
            sections[title] = []
            continue
        if title:
            sections[title].append(line)
    return sections


def man_options(lines):
    """{long: (short or None, takes a value)} from the tags of a section's .TP items."""
    opts = {}
    for i, line in enumerate(lines[:-1]):
        if line != ".TP":
            continue
        tag = lines[i + 1].replace("\\-", "-")
        longs = re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", tag)
        if not longs:
            continue
        short = re.findall(r"(?<![\w-])(-[A-Za-z])\b", tag)
        # The value: a word in italics (\fIPATH\fR, or .BI's second word).
        value = "\\fI" in tag or tag.startswith(".BI")
        opts[longs[0]] = (short[0] if short else None, value)
    return opts


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


@unittest.skipUnless(os.path.exists(BASH_COMPLETION), "needs bash-completion")
class OneSource(unittest.TestCase):
    """--help is the source; the man page and the completion are checked against it."""

    @classmethod
    def setUpClass(cls):
        cls.keys = commands()
        cls.help = {k: help_options(sipka_help(*k.split())) for k in cls.keys}

    def test_every_command_is_found(self):
        for k in ("attach", "load", "detach", "status", "config", "config show", "config set", "config del",
                  "config load", "stats", "events"):
            self.assertIn(k, self.keys)
        self.assertIn("--cgroup", self.help["attach"])
        self.assertIn("--reset-events", self.help["config set"])

    # Each test lists every disagreement at once (tests/run shows one failure per test).
    def test_man_page_has_each_commands_options(self):
        sections, wrong = man_sections(), []
        for k in self.keys:
            if k not in sections:
                wrong.append("man page: no '.SS %s' section" % k)
            elif man_options(sections[k]) != self.help[k]:
                wrong.append("%s: man %s, --help %s" % (k, man_options(sections[k]), self.help[k]))
        self.assertEqual(wrong, [])

    def test_man_page_has_the_global_options(self):
        top = help_options(run(SIPKA, "--help").stdout)
        self.assertEqual(set(top), GLOBALS)
        self.assertEqual(man_options(man_sections()["GLOBAL OPTIONS"]), top)

    def test_usage_line_names_every_option(self):
        wrong = []
        for k in self.keys:
            usage = sipka_help(*k.split()).splitlines()[0]
            wrong += ["%s: %s not in '%s'" % (k, opt, usage) for opt in self.help[k] if opt not in usage]
        self.assertEqual(wrong, [])

    def test_completion_offers_each_commands_options(self):
        keys = self.keys
        got = completions([["sipka"] + k.split() + ["-"] for k in keys])
        wrong = ["%s: completion %s, --help %s" % (k, sorted(offered), sorted(list(self.help[k]) + ["--help"]))
                 for k, offered in zip(keys, got) if sorted(offered) != sorted(list(self.help[k]) + ["--help"])]
        self.assertEqual(wrong, [])

    def test_completion_knows_which_options_take_a_value(self):
        """After an option without a value, '-' completes options again; after
        one with a value it does not; the short form completes as the long."""
        cases, lines = [], []
        for k in self.keys:
            for long, (short, value) in self.help[k].items():
                for form in filter(None, (long, short)):
                    cases.append((k, form, value))
                    lines.append(["sipka"] + k.split() + [form, "-"])
                if short:
                    cases.append((k, (long, short), None))
                    lines += [["sipka"] + k.split() + [long, ""], ["sipka"] + k.split() + [short, ""]]
        got, wrong = iter(completions(lines)), []
        for k, form, value in cases:
            if value is None:
                if next(got) != next(got):
                    wrong.append("%s: %s completes unlike %s" % ((k,) + form))
            elif ("--help" in next(got)) != (not value):
                wrong.append("%s %s: completion treats it as %s a value" % (k, form, "without" if value else "with"))
        self.assertEqual(wrong, [])

    def test_a_short_option_means_one_thing_everywhere(self):
        meaning = {}
        for k, opts in self.help.items():
            for long, (short, _) in opts.items():
                if short:
                    meaning.setdefault(short, set()).add(long)
        clashes = {s: sorted(longs) for s, longs in meaning.items() if len(longs) > 1}
        self.assertEqual(clashes, {})

    def test_agreed_short_options(self):
        agreed = {"--new-only": "-N", "--name": "-n", "--config": "-C", "--follow": "-f",
                  "--prometheus": "-P", "--probes": "-p", "--output": "-o", "--watch": "-w", "--cgroup": "-c"}
        wrong = ["%s %s: %s, agreed %s" % (k, long, short, agreed[long])
                 for k, opts in self.help.items() for long, (short, _) in opts.items()
                 if long in agreed and short != agreed[long]]
        self.assertEqual(wrong, [])


@unittest.skipUnless(os.path.exists(BASH_COMPLETION), "needs bash-completion")
class Completion(unittest.TestCase):
    def test_the_reported_cases(self):
        events_f, attach_n, prefix, help_cmd = completions([
            ["sipka", "events", "-f", ""], ["sipka", "attach", "-N", "-"], ["sipka", "att", "--"],
            ["sipka", "help", "conf"]])
        self.assertEqual(events_f, [], "-f is --follow: no file names")
        attach = list(help_options(sipka_help("attach"))) + ["--help"]
        self.assertIn("--config", attach)
        self.assertEqual(attach_n, attach, "-N takes no value: options again")
        self.assertEqual(prefix, attach, "att is attach")
        self.assertEqual(help_cmd, ["config"])

    def test_cgroup_completes_directories_under_the_cgroup2_mount(self):
        need_root()
        mount = cgroup2_mount()
        name = unique("sipka-comp-")
        cg = os.path.join(mount, name)
        os.mkdir(cg)
        try:
            absolute, relative, short = completions([
                ["sipka", "attach", "--cgroup", cg[:-2]], ["sipka", "attach", "--cgroup", name[:-2]],
                ["sipka", "detach", "-c", name]])
        finally:
            os.rmdir(cg)
        self.assertEqual(absolute, [cg + "/"])
        self.assertEqual(relative, [name + "/"])
        self.assertEqual(short, [name + "/"])


class LivePorts(Env):
    def setUp(self):
        need_root()
        super().setUp()

    def test_config_del_offers_the_live_rule_ports(self):
        if not os.path.exists(BASH_COMPLETION):
            self.skipTest("needs bash-completion")
        not_loaded = completions([[SIPKA, "--pin-dir", self.pin_dir, "config", "del", ""]])[0]
        self.assertEqual(not_loaded, [], "quietly nothing when sipka cannot say")
        self.attach()
        self.sipka("config", "set", "5070", "--name", "ws")
        d, d5, s, after_port = completions([
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", ""],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", "507"],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "set", ""],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", "5060", ""]])
        self.assertEqual(d, ["5060", "5061", "5070"])
        self.assertEqual(d5, ["5070"])
        self.assertEqual(s, ["5060", "5061", "5070"])
        self.assertEqual(after_port, [])


def setUpModule():
    if not os.path.exists(SIPKA):
        raise unittest.SkipTest("build sipka first")
