#!/usr/bin/env python3
"""Checks that every project #include keeps the arrows of the architecture.

The allowed arrows are this file's own copy (docs/architecture.md draws them):

    bindings, examples (CLI)  ->  include/lem (lem.h)  ->  lib/api  ->  lib/runtime
    lib/runtime -> lib/model, lib/tokenizer;  lib/model -> lib/io, lib/compute, kernels
    lib/tokenizer -> lib/io (vocabularies stored in GGUF);  everything in lib -> lib/util
    kernels know nothing of lib/.

Developer-only CLI tools (a tensor dumper, a synthetic-model writer) may use internals, in
files of their own, listed in DEV_TOOLS below, so the boundary stays visible.

Usage: check_layers.py [REPO_ROOT]   exits 1 and lists every crossing.
"""
import re
import sys
from pathlib import Path

# Part of the tree -> the parts its files may include from (besides itself and system headers).
ALLOWED = {
    "kernels": {"kernels"},
    "lib/util": {"lib/util"},
    "lib/compute": {"lib/util"},
    "lib/io": {"lib/util", "kernels"},
    "lib/tokenizer": {"lib/util", "lib/io", "kernels"},
    "lib/model": {"lib/util", "lib/io", "lib/compute", "kernels"},
    "lib/runtime": {"lib/util", "lib/io", "lib/compute", "lib/model", "lib/tokenizer", "kernels"},
    "lib/api": {"lib/util", "lib/io", "lib/compute", "lib/model", "lib/tokenizer", "lib/runtime", "kernels",
                "include/lem"},
    "include/lem": {"include/lem"},
    "examples": {"include/lem", "examples"},
    "bindings": {"include/lem", "bindings"},
}

# Files allowed to reach below lem.h: developer tools, not user-facing commands.
DEV_TOOLS = {
    "examples/lem/cmd_tensor.cpp",
    "examples/lem/cmd_synth.cpp",
    "examples/lem/synth_vocab.cpp",
    "examples/lem/synth_vocab.hpp",
    "examples/lem/dev_tools.hpp",
}

SOURCE_SUFFIXES = {".h", ".hpp", ".c", ".cpp", ".cc", ".inc"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def part_of(path: str) -> str | None:
    for part in sorted(ALLOWED, key=len, reverse=True):
        if path == part or path.startswith(part + "/"):
            return part
    return None


def target_part(include: str, including_file: Path, root: Path) -> str | None:
    """The part of the tree an include names (quoted includes resolve like the build does)."""
    if include.startswith("lem/"):
        return "include/lem"
    first = include.split("/", 1)[0]
    if first == "kernels":
        return "kernels"
    if first in {"util", "compute", "io", "tokenizer", "model", "runtime", "api"}:
        return "lib/" + first
    # Relative to the including file's folder: the file's own part.
    local = (including_file.parent / include).resolve()
    try:
        return part_of(local.relative_to(root).as_posix())
    except ValueError:
        return None


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
    crossings = []
    checked = 0
    for top in ("kernels", "lib", "include", "examples", "bindings"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in SOURCE_SUFFIXES or not f.is_file():
                continue
            rel = f.relative_to(root).as_posix()
            if "/target/" in rel or "/build/" in rel:
                continue
            part = part_of(rel)
            if part is None or rel in DEV_TOOLS:
                continue
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                checked += 1
                target = target_part(m.group(1), f, root)
                if target is None or target == part or target in ALLOWED[part]:
                    continue
                crossings.append(f"{rel}:{n}: {part} must not include {m.group(1)} ({target})")
    for c in crossings:
        print(c)
    print(f"check_layers: {checked} includes checked, {len(crossings)} crossing(s)")
    return 1 if crossings else 0


if __name__ == "__main__":
    sys.exit(main())
