"""check_readme_examples: every C program in examples/ is quoted whole in README.md, in the ```c block after
its marker line '<!-- examples/NAME.c ... -->', so that the README's examples are the ones ctest builds and
runs and cannot rot. Fix a failure by copying the file into its block again.
Usage: check_readme_examples.py SOURCE_DIR"""
import os
import re
import sys

src = sys.argv[1]
readme = open(os.path.join(src, "README.md")).read()
failures = 0
names = sorted(n for n in os.listdir(os.path.join(src, "examples")) if n.endswith(".c"))
for name in names:
    code = open(os.path.join(src, "examples", name)).read()
    blocks = re.findall(r"<!-- examples/" + re.escape(name) + r"[^\n]*-->\n```c\n(.*?)```\n", readme, re.S)
    if len(blocks) != 1:
        print(f"FAIL: README.md has {len(blocks)} blocks marked '<!-- examples/{name} ... -->', expected one")
        failures += 1
    elif blocks[0] != code:
        print(f"FAIL: README.md's copy of examples/{name} differs from the file: copy the file into its block again")
        failures += 1
    else:
        print(f"README.md quotes examples/{name} exactly ({code.count(chr(10))} lines)")
sys.exit(1 if failures or not names else 0)
