# SPDX-License-Identifier: GPL-2.0
"""The documentation against the code, without root and without a build:
every relative link and anchor resolves, and each fact the docs repeat from
one of the code's tables says what the table says (the pins, the counters,
the metrics, the environment, the capabilities). The examples of real output
are checked against a real sipka by tests/e2e/test_doc_examples.py.

Run from the top of the tree: /usr/bin/python3 -m unittest discover -s tests/docs"""
import glob
import os
import re
import shutil
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "man", "sipka.8")
MARKDOWN = ["README.md", "HACKING.md"] + sorted(os.path.relpath(p, ROOT)
                                               for p in glob.glob(os.path.join(ROOT, "doc", "*.md")))
OPERATIONS = os.path.join(ROOT, "doc", "operations.md")
DESIGN = os.path.join(ROOT, "doc", "design.md")
README = os.path.join(ROOT, "README.md")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# The C side: the tables are found by name wherever they live in loader/.

def c_sources(*dirs):
    """{path: text} of the .c and .h files of DIRS (relative to the top)."""
    return {p: read(p) for d in dirs for p in sorted(glob.glob(os.path.join(ROOT, d, "*.[ch]")))}


def c_table(name, dirs=("loader",)):
    """The initializer of the array NAME[] = { ... }; or NAME[SIZE] (its one definition)."""
    found = []
    for path, text in c_sources(*dirs).items():
        for m in re.finditer(r"\b%s\[[A-Z_0-9]*\]\s*=\s*\{(.*?)\n\};" % re.escape(name), text, re.S):
            found.append(m.group(1))
    if len(found) != 1:
        raise AssertionError("%d definitions of %s[] in %s" % (len(found), name, ", ".join(dirs)))
    return found[0]


def c_string_macros():
    """{MACRO: "string"} of every #define of a string literal in include/ and loader/."""
    macros = {}
    for text in c_sources("include", "loader").values():
        for m in re.finditer(r'^#define\s+(\w+)\s+"([^"]*)"', text, re.M):
            macros[m.group(1)] = m.group(2)
    return macros


def c_string(expr, macros):
    """A string literal, or a macro naming one."""
    expr = expr.strip()
    if expr.startswith('"'):
        return expr.strip('"')
    if expr not in macros:
        raise AssertionError("%s: not a string macro of include/ or loader/" % expr)
    return macros[expr]


def pin_names():
    """The first field of each row of pin_specs[], resolved: the pins' names."""
    macros = c_string_macros()
    rows = re.findall(r"\{\s*([A-Z_][A-Z0-9_]*|\"[^\"]*\")\s*,", c_table("pin_specs"))
    return [c_string(r, macros) for r in rows]


def link_prefix():
    return c_string("SIPKA_PIN_LINK_PREFIX", c_string_macros())


def counter_json_names():
    """The JSON name of each row of counters[] (its second string), in order."""
    return re.findall(r'\{\s*"[A-Z_]+"\s*,\s*"([a-z_]+)"', c_table("counters"))


def struct_fields(name, header="include/sipka.h"):
    m = re.search(r"struct %s \{(.*?)\n\};" % re.escape(name), read(os.path.join(ROOT, header)), re.S)
    if not m:
        raise AssertionError("no struct %s in %s" % (name, header))
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return re.findall(r"^\s*__u64\s+(\w+);", body, re.M)


def getenv_names():
    names = set()
    for text in c_sources("loader").values():
        names |= set(re.findall(r'\b(?:secure_)?getenv\s*\(\s*"(\w+)"\s*\)', text))
    return names


def capabilities():
    """The capabilities the loader checks for (has_cap(..., CAP_X))."""
    caps = set()
    for text in c_sources("loader").values():
        caps |= set(re.findall(r"\bhas_cap\s*\([^,()]*,\s*(CAP_\w+)\s*\)", text))
    return caps


def metric_names():
    """The Prometheus metrics the loader writes: its "sipka_..." literals and
    '# HELP sipka_...' lines, less the names of BPF objects (the program's and
    maps' names, which share the prefix)."""
    names, objects = set(), set()
    for text in c_sources("bpf").values():
        objects |= set(re.findall(r'\b(sipka_\w+)\s+SEC\("\.maps"\)', text))
        objects |= set(re.findall(r'SEC\("[^"]*"\)\s*\n\s*int\s+(sipka_\w+)\s*\(', text))
    for text in c_sources("loader").values():
        names |= set(re.findall(r'"(sipka_[a-z_]+)"', text))
        names |= set(re.findall(r"# HELP (sipka_[a-z_]+)", text))
        objects |= set(re.findall(r'bpf_map_create\s*\([^,]+,\s*"(sipka_\w+)"', text))
    return names - objects


# The man page.

def man_section(title):
    """The roff lines of .SH TITLE, up to the next .SH."""
    lines, out, inside = read(MAN).splitlines(), [], False
    for line in lines:
        if line.startswith(".SH"):
            inside = line[3:].strip().strip('"') == title
            continue
        if inside:
            out.append(line)
    if not out:
        raise AssertionError("man page: no .SH %s" % title)
    return out


def man_tags(lines):
    """The bold word of each .TP item's tag: ".B NAME" gives NAME, ".BI link\\- ID" gives "link-"."""
    tags = []
    for i, line in enumerate(lines[:-1]):
        if line == ".TP":
            m = re.match(r"\.BI?\s+(\S+)", lines[i + 1])
            if m:
                tags.append(m.group(1).replace("\\-", "-"))
    return tags


def man_pins():
    """The items between .RS and .RE of FILES: the pin dir's entries."""
    files = man_section("FILES")
    try:
        start, end = files.index(".RS"), files.index(".RE")
    except ValueError:
        raise AssertionError("man page: FILES lists no pins (.RS ... .RE under the pin dir)")
    return man_tags(files[start:end])


# Markdown.

def strip_code(text):
    """TEXT without fenced code blocks (their lines become empty, so line numbers stay)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else line)
    return "\n".join(out)


def slug(heading):
    """GitHub's anchor of a heading."""
    s = heading.strip().lower().replace("`", "")
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    for line in strip_code(read(path)).splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else "%s-%d" % (s, n))
    return out


def md_section(path, title):
    """The text under the heading TITLE of PATH, up to the next heading of its level or above."""
    text = read(path)
    m = re.search(r"^(#+) %s\n(.*?)(?=^#{1,%d} |\Z)" % (re.escape(title), 6), text, re.M | re.S)
    if not m:
        raise AssertionError("%s: no section '%s'" % (os.path.relpath(path, ROOT), title))
    level = len(m.group(1))
    body = re.split(r"^#{1,%d} " % level, text[m.start(2):], maxsplit=1, flags=re.M)[0]
    return body


def table_first_column(text):
    """The backquoted names in the first column of TEXT's table rows."""
    names = []
    for line in text.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([^`]+)`", line.split(" | ")[0])
    return names


class Links(unittest.TestCase):
    """Every relative link of the Markdown files, and its anchor, resolves."""

    LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)")

    def broken(self, name):
        path = os.path.join(ROOT, name)
        text = re.sub(r"`[^`\n]*`", "", strip_code(read(path)))
        wrong = []
        for target in self.LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            if not os.path.exists(dest):
                wrong.append("%s: %s: no such file" % (name, target))
            elif anchor and not dest.endswith(".md"):
                wrong.append("%s: %s: an anchor into a file that is not Markdown" % (name, target))
            elif anchor and anchor not in anchors(dest):
                wrong.append("%s: %s: no heading '#%s' in %s" % (name, target, anchor,
                                                                  os.path.relpath(dest, ROOT)))
        return wrong

    def test_every_relative_link_and_anchor_resolves(self):
        wrong = []
        for name in MARKDOWN:
            wrong += self.broken(name)
        self.assertEqual(wrong, [])

    def test_the_files_are_found(self):
        for name in ("README.md", "HACKING.md", "doc/operations.md", "doc/pbx.md", "doc/design.md",
                     "doc/validation.md"):
            self.assertIn(name, MARKDOWN)

    def test_doc_paths_named_in_text_exist(self):
        """'doc/x.md#anchor' written as text (in code, or a man page) also resolves."""
        wrong = []
        for name in MARKDOWN + ["man/sipka.8"]:
            for file, anchor in re.findall(r"\b(doc/[\w.-]+\.md)(?:#([\w-]+))?", read(os.path.join(ROOT, name))):
                dest = os.path.join(ROOT, file)
                if not os.path.exists(dest):
                    wrong.append("%s: %s: no such file" % (name, file))
                elif anchor and anchor not in anchors(dest):
                    wrong.append("%s: %s#%s: no such heading" % (name, file, anchor))
        self.assertEqual(wrong, [])

    def test_the_slugs_are_githubs(self):
        self.assertEqual(slug("sipka's state in the kernel"), "sipkas-state-in-the-kernel")
        self.assertEqual(slug("Finding the PBX's cgroup"), "finding-the-pbxs-cgroup")
        self.assertEqual(slug("The maps, read and edited with `bpftool`"), "the-maps-read-and-edited-with-bpftool")


class Pins(unittest.TestCase):
    def test_man_files_lists_the_pins_of_pin_specs(self):
        code = pin_names()
        self.assertIn("config", code)
        self.assertEqual(sorted(man_pins()), sorted(code + [link_prefix()]))


class Counters(unittest.TestCase):
    def setUp(self):
        self.fields = struct_fields("sipka_counters")
        self.assertIn("armed", self.fields)

    def test_the_stats_table_is_the_struct(self):
        self.assertEqual(counter_json_names(), self.fields)

    def test_the_operators_guide_documents_each_counter(self):
        documented = table_first_column(md_section(OPERATIONS, "Counters"))
        self.assertEqual(documented, self.fields)

    def test_the_stats_maps_layout_is_the_struct(self):
        m = re.search(r"A `stats` value is .*? in this order:\s*(.*?)\.", read(DESIGN), re.S)
        self.assertIsNotNone(m, "design.md: no stats value layout")
        self.assertEqual(re.findall(r"`(\w+)`", m.group(1)), self.fields)


class Metrics(unittest.TestCase):
    def setUp(self):
        self.code = metric_names()
        self.assertIn("sipka_up", self.code)
        self.assertIn("sipka_connections_armed_total", self.code)

    def test_the_man_page_names_every_metric(self):
        man = set()
        for line in man_section("METRICS"):
            man |= set(re.findall(r"^\.(?:B|BR|IR|I)\s+(sipka_[a-z_]+)", line))
        self.assertEqual(sorted(man), sorted(self.code))

    def test_the_operators_guide_names_every_metric(self):
        text = md_section(OPERATIONS, "Monitoring")
        documented = set()
        for line in text.splitlines():
            if line.startswith("| `"):
                documented |= set(re.findall(r"`(sipka_[a-z_]+)", line.split(" | ")[0]))
        self.assertEqual(sorted(documented), sorted(self.code))


class Environment(unittest.TestCase):
    def test_man_environment_lists_every_getenv(self):
        code = getenv_names()
        self.assertIn("SIPKA_LOCK_WAIT", code)
        self.assertEqual(sorted(man_tags(man_section("ENVIRONMENT"))), sorted(code))


class ExitStatus(unittest.TestCase):
    def test_man_exit_status_lists_every_exit_code(self):
        codes = re.findall(r"^#define EXIT_[A-Z_]+\s+(\d+)", read(os.path.join(ROOT, "loader", "exitcode.h")), re.M)
        self.assertIn("5", codes)
        self.assertEqual(man_tags(man_section("EXIT STATUS")), sorted(codes, key=int))


class Capabilities(unittest.TestCase):
    def test_requirements_name_every_capability_checked(self):
        code = capabilities()
        self.assertIn("CAP_PERFMON", code)
        documented = set(re.findall(r"`(CAP_\w+)`", md_section(README, "Requirements")))
        self.assertEqual(sorted(documented), sorted(code))


class Manual(unittest.TestCase):
    @unittest.skipUnless(shutil.which("groff"), "needs groff")
    def test_man_page_renders_without_warnings(self):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main()
