#!/usr/bin/env python3
"""Fails when two top-level modules of a crate depend on each other, directly or through others.

A module is a file `src/<name>.rs` or a folder `src/<name>/`; it depends on another when any of its
files names `crate::<other>` (in a `use` or a path). Layers stay layers only if this graph has no
cycle, which the compiler does not check. Usage: check-module-cycles.py CRATE_SRC_DIR...
"""
import pathlib
import re
import sys

PATH = re.compile(r"\bcrate::(\w+)")
USE_GROUP = re.compile(r"\buse crate::\{([^;]*)\}", re.S)


def modules(src: pathlib.Path) -> dict[str, list[pathlib.Path]]:
    found = {}
    for entry in sorted(src.iterdir()):
        if entry.is_file() and entry.suffix == ".rs" and entry.stem not in ("lib", "main"):
            found[entry.stem] = [entry]
        elif entry.is_dir():
            found[entry.name] = sorted(entry.rglob("*.rs"))
    return found


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def graph(src: pathlib.Path) -> dict[str, set[str]]:
    mods = modules(src)
    edges = {name: set() for name in mods}
    for name, files in mods.items():
        for f in files:
            text = strip_comments(f.read_text())
            names = set(PATH.findall(text))
            for group in USE_GROUP.findall(text):
                names.update(re.findall(r"(?:^|,)\s*(\w+)", group))
            edges[name].update(n for n in names if n in mods and n != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    failed = False
    for arg in sys.argv[1:]:
        src = pathlib.Path(arg)
        edges = graph(src)
        found = cycles(edges)
        for component in found:
            failed = True
            links = [f"{a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
            print(f"{src}: modules depend on each other: {', '.join(component)} ({'; '.join(links)})")
        if not found:
            print(f"{src}: {len(edges)} modules, no dependency cycle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
