#!/usr/bin/env python3
"""abi_layout test: the layout dump of the built header equals the committed tests/abi/layout.json,
and the dump covers every public struct of lem.h field by field (a struct or field added to the
header but not to layout_dump.c fails here).

Usage: check_layout.py LAYOUT_DUMP_BINARY LEM_H COMMITTED_LAYOUT_JSON
"""
import json
import re
import subprocess
import sys


def header_structs(path):
    text = open(path, encoding="utf-8").read()
    structs = {}
    for name, body in re.findall(r"typedef struct (lem_\w+) \{(.*?)\} \1;", text, re.S):
        fields = []
        for line in re.sub(r"/\*.*?\*/", "", body, flags=re.S).splitlines():
            m = re.match(r".*?(\w+);\s*$", line.strip())
            if m:
                fields.append(m.group(1))
        structs[name] = fields
    return structs


def main():
    binary, header, committed = sys.argv[1:4]
    run = subprocess.run([binary], capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stderr, end="")
        print("layout dump failed: a public struct has an implicit padding hole")
        return 1
    dumped = json.loads(run.stdout)
    errors = []
    declared = header_structs(header)
    for name, fields in declared.items():
        if name not in dumped["structs"]:
            errors.append(f"{name} is in lem.h but not in tests/abi/layout_dump.c")
            continue
        listed = [f["name"] for f in dumped["structs"][name]["fields"]]
        if listed != fields:
            errors.append(f"{name}: lem.h fields {fields} but layout_dump.c lists {listed}")
    for name in dumped["structs"]:
        if name not in declared:
            errors.append(f"{name} is dumped but not declared in lem.h")
    expected = json.load(open(committed, encoding="utf-8"))
    if dumped != expected:
        errors.append("the layout differs from the committed tests/abi/layout.json:")
        for name in sorted(set(dumped["structs"]) | set(expected["structs"])):
            a, b = expected["structs"].get(name), dumped["structs"].get(name)
            if a != b:
                errors.append(f"  {name}: committed {a}\n  {name}: built     {b}")
        if dumped.get("abi_version") != expected.get("abi_version"):
            errors.append(f"  abi_version {expected.get('abi_version')} -> {dumped.get('abi_version')}")
        errors.append("appending a field changes the layout: regenerate layout.json with the dump binary "
                      "(tools/update_abi_baseline.sh) after checking the change is append-only")
    for e in errors:
        print(e)
    print(f"abi_layout: {len(declared)} structs, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
