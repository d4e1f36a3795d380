#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/05-docs.t: the documents stay true to the tree: every *.md cites only files of
# the repository (no machine path, no document kept elsewhere), every section of DESIGN.md
# that a document or a source comment names by title exists, and the tables DESIGN.md
# carries are the ones the code prints (build/tables, mk/tables.c). No daemon.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
exec python3 - "$ROOT" "${BUILD:-$ROOT/build}" <<'PY'
import glob, os, re, sys

root, build = sys.argv[1], sys.argv[2]
SKIP_DIRS = {".git", "build", "build-san"}

def files(pred):
    for d, subs, names in os.walk(root):
        subs[:] = sorted(s for s in subs if s not in SKIP_DIRS and not s.startswith("build"))
        for n in sorted(names):
            if pred(n):
                yield os.path.join(d, n)

def rel(p):
    return os.path.relpath(p, root)

def read(p):
    with open(p, encoding="utf-8", errors="replace") as f:
        return f.read()

mds = list(files(lambda n: n.endswith(".md")))
results = []

def check(name, problems):
    results.append((name, problems))

# 1. No machine path and no document that lives outside the repository.
FORBIDDEN = [(re.compile(r"/work/"), "a machine path (/work/...)"),
             (re.compile(r"\.\./shared"), "a document outside the repository (../shared)"),
             (re.compile(r"\bPROTOCOL\.md\b"), "PROTOCOL.md, not in the repository"),
             (re.compile(r"\bERRORS\.md\b"), "ERRORS.md, not in the repository")]
bad = []
for p in mds:
    for i, line in enumerate(read(p).split("\n"), 1):
        for rx, why in FORBIDDEN:
            if rx.search(line):
                bad.append("%s:%d: %s" % (rel(p), i, why))
check("the documents cite nothing outside the repository", bad)

# 2. Every repository path a document names exists (<...> and * are wildcards).
TOP = "supervisor|worker|wire|common|client|selftest|bench|mk|etc|\\.ci"
PATH = re.compile(r"(?<![\w/$.~-])((?:%s)/[A-Za-z0-9_.<>*/-]*)" % TOP)
bad = []
for p in mds:
    for i, line in enumerate(read(p).split("\n"), 1):
        for m in PATH.finditer(line):
            path = m.group(1).rstrip(".,;:)")
            pattern = re.sub(r"<[^>/]*>", "*", path)
            if not glob.glob(os.path.join(root, pattern)):
                bad.append("%s:%d: %s does not exist" % (rel(p), i, path))
check("every path the documents name exists", bad)

# 3. Every end-to-end suite named by its file name exists.
SUITE = re.compile(r"(?<![\w/-])(\d\d-[a-z0-9-]+\.t)\b")
suites = set(os.listdir(os.path.join(root, "selftest", "e2e")))
bad = []
for p in mds:
    for i, line in enumerate(read(p).split("\n"), 1):
        for m in SUITE.finditer(line):
            if m.group(1) not in suites:
                bad.append("%s:%d: selftest/e2e/%s does not exist" % (rel(p), i, m.group(1)))
check("every end-to-end suite the documents name exists", bad)

# 4. Markdown links: the file exists, and an anchor names one of its headings.
def slug(h):
    h = re.sub(r"[`*_]", "", h.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", h))

def headings(p):
    return [re.sub(r"^#+\s*", "", l).strip() for l in read(p).split("\n") if re.match(r"#{1,6}\s", l)]

LINK = re.compile(r"\]\(([^)\s]+)\)")
bad = []
for p in mds:
    for i, line in enumerate(read(p).split("\n"), 1):
        for m in LINK.finditer(line):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):
                continue
            f, _, anchor = target.partition("#")
            fp = os.path.normpath(os.path.join(os.path.dirname(p), f)) if f else p
            if not os.path.exists(fp):
                bad.append("%s:%d: link to %s: no such file" % (rel(p), i, f))
            elif anchor and anchor not in [slug(h) for h in headings(fp)]:
                bad.append("%s:%d: link to %s: no heading #%s" % (rel(p), i, target, anchor))
check("every link of the documents leads somewhere", bad)

# 5. A section of DESIGN.md cited by its title in double quotes after "DESIGN.md, " (in the
# documents and in the code's comments): one of its headings starts with that title.
design = os.path.join(root, "DESIGN.md")
titles = [h.lower() for h in headings(design)] if os.path.exists(design) else []
CITE = re.compile(r"DESIGN(?:\.md)?,\s*\"([^\"]+)\"")
SRC = (".md", ".c", ".h", ".py", ".t", ".sh", ".proto", ".conf", "Makefile")
bad = []
for p in files(lambda n: n.endswith(SRC)):
    if rel(p) == "selftest/e2e/05-docs.t":
        continue
    text = read(p)
    for m in CITE.finditer(text):
        t = re.sub(r"\s+", " ", m.group(1)).strip().lower()
        if not any(h.startswith(t) for h in titles):
            line = text.count("\n", 0, m.start()) + 1
            bad.append("%s:%d: DESIGN.md has no section \"%s\"" % (rel(p), line, m.group(1)))
check("every DESIGN.md section cited by title exists", bad)

# 6. The tables DESIGN.md carries are the code's: each `<!-- table:NAME -->` block, once, closed
# by `<!-- end table -->`, holds exactly what `tables NAME` (mk/tables.c) prints from the code.
import subprocess
tool = os.path.join(build, "tables")
text = read(design) if os.path.exists(design) else ""
bad = []
try:
    names = subprocess.run([tool, "--list"], capture_output=True, text=True, check=True).stdout.split()
except (OSError, subprocess.CalledProcessError):
    names = []
    bad.append("%s: cannot run it (build it: make unit)" % tool)
for name in names:
    start = "<!-- table:%s -->" % name
    n = text.count(start)
    if n != 1:
        bad.append("DESIGN.md: %s appears %d times, not once" % (start, n))
        continue
    after = text[text.index(start) + len(start):]
    end = after.find("<!-- end table -->")
    if end < 0 or "<!-- table:" in after[:end]:
        bad.append("DESIGN.md: %s is not closed by <!-- end table -->" % start)
        continue
    want = subprocess.run([tool, name], capture_output=True, text=True, check=True).stdout
    if after[:end].strip("\n") != want.strip("\n"):
        bad.append("DESIGN.md: the %s table differs from the code's (run make tables)" % name)
for m in re.finditer(r"<!-- table:([\w-]+) -->", text):
    if names and m.group(1) not in names:
        bad.append("DESIGN.md: table %s is not one the code prints" % m.group(1))
check("DESIGN.md's tables are the code's", bad)

print("1..%d" % len(results))
failed = 0
for n, (name, problems) in enumerate(results, 1):
    if problems:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for x in problems:
            print("# %s" % x)
    else:
        print("ok %d - %s" % (n, name))
sys.exit(1 if failed else 0)
PY
