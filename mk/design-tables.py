# SPDX-License-Identifier: Apache-2.0
# mk/design-tables.py: rewrite each <!-- table:NAME --> block of DESIGN.md with what
# build/tables NAME prints from the code (make tables). Usage: design-tables.py DESIGN.md TOOL
import re, subprocess, sys
p = sys.argv[1]; tool = sys.argv[2]
s = open(p).read()
def fill(m):
    out = subprocess.run([tool, m.group(1)], capture_output=True, text=True, check=True).stdout
    return "<!-- table:%s -->\n%s<!-- end table -->" % (m.group(1), out)
s = re.sub(r"<!-- table:([\w-]+) -->\n.*?<!-- end table -->", fill, s, flags=re.S)
open(p, "w").write(s)
