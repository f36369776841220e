# SPDX-License-Identifier: GPL-2.0
"""One source for each command's options: its table in loader/ (struct opt:
long name, short letter, value, default, help), read here through the
binary's dump of it, 'sipka -j help'. Parsing and --help are made from the
tables. The man page (roff prose, richer than --help) and the bash completion
(a script that must work without running sipka) are written by hand, and
checked here against the tables: the man page's SYNOPSIS line and option
items of each command, the defaults it states, the completion's lists.
Needs no root: python3 -m unittest discover -s tests/docs (make check-docs)."""
import json
import os
import re
import shlex
import subprocess
import unittest

from completion import BASH_COMPLETION, COMPLETION, ROOT, completions

SIPKA = os.path.abspath(os.environ.get("SIPKA") or os.path.join(ROOT, "sipka"))
MAN = os.path.join(ROOT, "man", "sipka.8")
# An option as --help and the man page's tags print it: "-c, --cgroup PATH",
# "--cgroup-of PID|self", "-r, --reset-events[=no]".
OPTION = r"(?:(-[A-Za-z]), )?(--[a-z][a-z-]*)(?:\[=([^\]\s]+)\]| ([A-Z][^\s]*))?"
HELP_LINE = re.compile(r"^  (?:    )?" + OPTION + r"(?: {2,}|$)")
TAG = re.compile("^" + OPTION + "$")


def sipka(*args):
    p = subprocess.run([SIPKA, *args], capture_output=True, text=True, timeout=60)
    if p.returncode:
        raise AssertionError("sipka %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def setUpModule():
    if not os.path.exists(SIPKA):
        raise unittest.SkipTest("build sipka first")


def option(short, long, optional_value, value):
    """(long, (short, value, optional)): how the tables' dump says an option."""
    return long, (short, optional_value or value, optional_value is not None)


def table(options):
    """{long: (short or None, value name or None, optional)} of a dumped table."""
    return {o["long"]: (o["short"], o["value"], o["optional"]) for o in options}


def takes_value(spec):
    """The next word is the option's value (not for an optional one)."""
    return spec[1] is not None and not spec[2]


def help_options(text):
    """{long: (short, value, optional)} from the option lines of a --help."""
    return dict(option(*m.groups()) for m in map(HELP_LINE.match, text.splitlines()) if m)


def roff(line):
    """What a roff line prints: a font macro's words (an alternating one's
    joined without spaces), escapes resolved; None for other requests."""
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace("\\ ", " ")
    line = line.replace("\\(en", "-").replace("\\(mu", "x").replace("\\(aq", "'")
    if not line.startswith("."):
        return line
    macro, _, rest = line[1:].partition(" ")
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if macro in ("B", "I"):
        return " ".join(words)
    if macro in ("BR", "RB", "IR", "RI", "BI", "IB"):
        return "".join(words)
    return None


def man_lines():
    with open(MAN) as f:
        return f.read().splitlines()


def man_synopsis():
    """The SYNOPSIS as printed, a string per line: "sipka attach [-c|--cgroup PATH | ...]"."""
    out, cur, inside = [], [], False
    for line in man_lines():
        if line.startswith(".SH"):
            if inside:
                break
            inside = "SYNOPSIS" in line
        elif inside and line in (".br", ".PP"):
            out.append(" ".join(cur))
            cur = []
        elif inside and roff(line):
            cur.append(roff(line))
    return out + [" ".join(cur)] if cur else out


def man_sections():
    """{'.SS' title: its roff lines} for the COMMANDS section and GLOBAL OPTIONS."""
    sections, title = {}, None
    for line in man_lines():
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


def man_items(lines):
    """{long: (short, value, optional)} and {long: its text} from a section's .TP items."""
    opts, texts, current = {}, {}, None
    for i, line in enumerate(lines):
        if line == ".TP" and i + 1 < len(lines):
            m = TAG.match(roff(lines[i + 1]) or "")
            current = m and m.group(2)
            if current:
                opts[current] = option(*m.groups())[1]
                texts[current] = ""
        elif line.startswith((".PP", ".SS", ".SH")):
            current = None
        elif current and i and lines[i - 1] != ".TP" and roff(line):
            texts[current] += " " + roff(line)
    return opts, texts


def completion_lists():
    """{key: {long: (short, takes a value)}} from _sipka_options in the
    completion ('' for the global options), and its commands and subcommands."""
    with open(COMPLETION) as f:
        text = f.read()
    lists = {quoted or bare: entries for quoted, bare, entries in
             re.findall(r"^\t(?:'([^']+)'|([a-z]+))\) echo '([^']*)' ;;$", text, re.M)}
    lists[""] = re.search(r"^\techo '(--pin-dir[^']*)'$", text, re.M).group(1)
    parsed = {}
    for key, entries in lists.items():
        parsed[key] = {}
        for entry in entries.split():
            long, short = entry.rstrip(":").split("=")
            parsed[key][long] = (short or None, entry.endswith(":"))
    commands = re.search(r"local commands='([^']*)'", text).group(1).split()
    subs = re.search(r"local subs='([^']*)'", text).group(1).split()
    return parsed, commands, subs


class Dump(unittest.TestCase):
    """The tables, read from 'sipka -j help'."""

    @classmethod
    def setUpClass(cls):
        cls.dump = json.loads(sipka("-j", "help"))
        cls.commands = {}
        for c in cls.dump["commands"]:
            cls.commands[c["name"]] = c
            for s in c.get("subcommands", []):
                cls.commands[s["name"]] = s
        # Every command and config subcommand but 'help', as in the man page's COMMANDS.
        cls.keys = [k for k in cls.commands if k != "help"]
        cls.opts = {k: table(cls.commands[k]["options"]) for k in cls.keys}
        cls.globals = table(cls.dump["global_options"])


class Tables(Dump):
    """The tables themselves, and --help written from them."""

    def test_every_command_is_found(self):
        for k in ("attach", "load", "detach", "status", "config", "config show", "config set", "config del",
                  "config load", "config check", "stats", "events", "connections", "check"):
            self.assertIn(k, self.keys)
        self.assertIn("--cgroup", self.opts["attach"])
        self.assertIn("--reset-events", self.opts["config set"])
        self.assertEqual(set(self.globals), {"--pin-dir", "--json", "--verbose", "--help", "--version"})

    def test_help_lists_the_table(self):
        wrong = []
        for k in self.keys:
            text = sipka(*k.split(), "--help")
            if help_options(text) != self.opts[k]:
                wrong.append("%s: --help %s, table %s" % (k, help_options(text), self.opts[k]))
            flat = " ".join(text.split())
            wrong += ["%s %s: --help does not say '(default %s)'" % (k, o["long"], o["default"])
                      for o in self.commands[k]["options"]
                      if o["default"] and "(default %s)" % o["default"] not in flat]
        top = sipka("--help")
        if help_options(top) != self.globals:
            wrong.append("sipka --help: %s, table %s" % (help_options(top), self.globals))
        self.assertEqual(wrong, [])

    def test_defaults_are_the_codes(self):
        """The defaults printed are the constants the code uses."""
        consts = {}
        for header in ("include/sipka.h", "loader/conf.h"):
            with open(os.path.join(ROOT, header)) as f:
                consts.update(re.findall(r"^#define (SIPKA_\w+)\s+(\d+|\"[^\"]*\")", f.read(), re.M))
        defaults = {o["long"]: o["default"] for o in self.commands["config set"]["options"]}
        self.assertEqual((defaults["--time"], defaults["--intvl"], defaults["--probes"]),
                         (consts["SIPKA_DEFAULT_TIME"], consts["SIPKA_DEFAULT_INTVL"], consts["SIPKA_DEFAULT_PROBES"]))
        self.assertEqual('"%s"' % self.dump["global_options"][0]["default"], consts["SIPKA_PIN_DIR_DEFAULT"])
        for k in ("attach", "load"):
            self.assertEqual([o["default"] for o in self.commands[k]["options"] if o["long"] == "--max-connections"],
                             [consts["SIPKA_CONNS_DEFAULT"]])

    def test_usage_line_names_every_option(self):
        wrong = []
        for k in self.keys:
            usage = sipka(*k.split(), "--help").splitlines()[0]
            self.assertEqual(usage, "Usage: sipka [GLOBAL OPTIONS] " + self.commands[k]["usage"])
            wrong += ["%s: %s not in '%s'" % (k, opt, usage) for opt in self.opts[k] if opt not in usage]
        self.assertEqual(wrong, [])

    def test_a_short_option_means_one_thing_everywhere(self):
        meaning = {}
        for opts in list(self.opts.values()) + [self.globals]:
            for long, (short, _, _) in opts.items():
                if short:
                    meaning.setdefault(short, set()).add(long)
        clashes = {s: sorted(longs) for s, longs in meaning.items() if len(longs) > 1}
        self.assertEqual(clashes, {})

    def test_agreed_short_options(self):
        agreed = {"--new-only": "-N", "--name": "-n", "--config": "-C", "--follow": "-f",
                  "--prometheus": "-P", "--probes": "-p", "--output": "-o", "--watch": "-w", "--cgroup": "-c"}
        wrong = ["%s %s: %s, agreed %s" % (k, long, spec[0], agreed[long])
                 for k, opts in self.opts.items() for long, spec in opts.items()
                 if long in agreed and spec[0] != agreed[long]]
        self.assertEqual(wrong, [])


class ManPage(Dump):
    """man/sipka.8 against the tables."""

    # Each test lists every disagreement at once (tests/run shows one failure per test).
    def test_man_page_has_each_commands_options(self):
        sections, wrong = man_sections(), []
        for k in self.keys:
            if k not in sections:
                wrong.append("man page: no '.SS %s' section" % k)
            elif man_items(sections[k])[0] != self.opts[k]:
                wrong.append("%s: man %s, table %s" % (k, man_items(sections[k])[0], self.opts[k]))
        self.assertEqual(wrong, [])

    def test_man_page_has_the_global_options(self):
        self.assertEqual(man_items(man_sections()["GLOBAL OPTIONS"])[0], self.globals)

    def test_man_page_states_each_default(self):
        sections, wrong = man_sections(), []
        cases = [(k, sections.get(k, []), self.commands[k]["options"]) for k in self.keys]
        cases.append(("GLOBAL OPTIONS", sections["GLOBAL OPTIONS"], self.dump["global_options"]))
        for k, lines, options in cases:
            texts = man_items(lines)[1]
            for o in options:
                d = o["default"] and re.escape(o["default"])
                if d and not re.search(r"default:? %s\b|\b%s \(the default\)" % (d, d), texts.get(o["long"], "")):
                    wrong.append("%s %s: the man page does not say its default is %s" % (k, o["long"], o["default"]))
        self.assertEqual(wrong, [])

    def test_synopsis_is_each_usage_line(self):
        """Each command's SYNOPSIS line is its usage line, with the short forms."""
        lines, wrong = man_synopsis(), []
        for name in sorted(self.commands, key=len, reverse=True):
            c = self.commands[name]
            if c.get("subcommands"):
                continue        # config: its subcommands have the lines
            mine = [line for line in lines if line == "sipka " + name or line.startswith("sipka %s " % name)]
            if not mine:
                wrong.append("SYNOPSIS: no line for 'sipka %s'" % name)
                continue
            lines.remove(mine[0])
            if re.sub(r"-[A-Za-z]\|", "", mine[0]) != "sipka " + c["usage"]:
                wrong.append("SYNOPSIS: '%s', usage: 'sipka %s'" % (mine[0], c["usage"]))
            shorts = dict((long, short) for short, long in re.findall(r"(-[A-Za-z])\|(--[a-z-]+)", mine[0]))
            want = {o["long"]: o["short"] for o in c["options"] if o["short"]}
            if shorts != want:
                wrong.append("SYNOPSIS of %s: short options %s, table %s" % (name, shorts, want))
        self.assertEqual(wrong, [])
        # What is left: sipka itself, with the global options that set something.
        self.assertEqual(len(lines), 1, lines)
        shown = dict((long, (short, value)) for short, long, value in
                     re.findall(r"\[(?:(-[A-Za-z])\|)?(--[a-z-]+)(?: ([A-Z]+))?\]", lines[0]))
        want = {long: (spec[0] or "", spec[1] or "") for long, spec in self.globals.items()
                if long not in ("--help", "--version")}
        self.assertEqual(shown, want)


class CompletionLists(Dump):
    """loader/sipka.bash's lists against the tables."""

    def test_completion_lists_each_commands_options(self):
        lists, _, _ = completion_lists()
        wrong = []
        for k in self.keys:
            want = {long: (spec[0], takes_value(spec)) for long, spec in self.opts[k].items()}
            if lists.get(k, {}) != want:
                wrong.append("%s: completion %s, table %s" % (k, lists.get(k, {}), want))
        want = {long: (spec[0], takes_value(spec)) for long, spec in self.globals.items() if long != "--help"}
        if lists[""] != want:
            wrong.append("global options: completion %s, table %s" % (lists[""], want))
        self.assertEqual(wrong, [])

    def test_completion_knows_every_command(self):
        _, commands, subs = completion_lists()
        self.assertEqual(commands, [c["name"] for c in self.dump["commands"]])
        self.assertEqual(subs, [s["name"].split()[1] for s in self.commands["config"]["subcommands"]])


@unittest.skipUnless(os.path.exists(BASH_COMPLETION), "needs bash-completion")
class Completion(Dump):
    """What the completion offers, run as bash runs it."""

    def test_completion_offers_each_commands_options(self):
        got = completions([["sipka"] + k.split() + ["-"] for k in self.keys])
        wrong = ["%s: completion %s, table %s" % (k, sorted(offered), sorted(list(self.opts[k]) + ["--help"]))
                 for k, offered in zip(self.keys, got) if sorted(offered) != sorted(list(self.opts[k]) + ["--help"])]
        self.assertEqual(wrong, [])

    def test_completion_knows_which_options_take_a_value(self):
        """After an option without a value, '-' completes options again; after
        one with a value it does not; the short form completes as the long."""
        cases, lines = [], []
        for k in self.keys:
            for long, spec in self.opts[k].items():
                short, value = spec[0], takes_value(spec)
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

    def test_the_reported_cases(self):
        events_f, attach_n, prefix, help_cmd = completions([
            ["sipka", "events", "-f", ""], ["sipka", "attach", "-N", "-"], ["sipka", "att", "--"],
            ["sipka", "help", "conf"]])
        self.assertEqual(events_f, [], "-f is --follow: no file names")
        attach = list(self.opts["attach"]) + ["--help"]
        self.assertIn("--config", attach)
        self.assertEqual(attach_n, attach, "-N takes no value: options again")
        self.assertEqual(prefix, attach, "att is attach")
        self.assertEqual(help_cmd, ["config"])
