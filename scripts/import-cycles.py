#!/usr/bin/env python3
"""Finds import cycles between the files of one Rust crate's `src/`.

Usage: scripts/import-cycles.py <crate>/src [--max-size N]

Every `crate::…`, `super::…` and `self::…` path in a file (in `use` items and inline in code)
is resolved to the file that defines the module it names (the longest prefix of the path that is
a module file), giving a graph of file -> file edges. The strongly connected components of that
graph with more than N files (default 2) are printed, one per line, and the script exits 1 if
there is any. Inline `mod name { … }` blocks (e.g. `mod tests`) are followed, so `super::` inside
them names the right module. Comments and string literals are ignored.

Hand-written (python3, no dependencies) because the check is ~150 lines and no packaged tool
reports file-level cycles inside one crate.
"""

import os
import re
import sys

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)(::\{)?")
INLINE_MOD_RE = re.compile(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{")


def is_ident_char(text, i):
    """Whether text[i] exists and can be part of an identifier."""
    return i >= 0 and (text[i].isalnum() or text[i] == "_")


def strip_comments_and_strings(text):
    """Blanks out comments, string and char literals (keeping newlines)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not is_ident_char(text, i - 1):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_files(src):
    """Maps each module path (a tuple of names, () for the crate root) to its file."""
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main") and (parts[-1] == "mod" or len(parts) == 1):
                parts = parts[:-1]
            files[tuple(parts)] = rel
    return files


def brace_group(text, start):
    """The text inside the `{…}` that opens at `start`, and the index after it."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    return text[start + 1:], len(text)


def split_top(text):
    """Splits a use-tree list on its top-level commas."""
    parts, depth, cur = [], 0, []
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def expand_tree(prefix, tree):
    """The paths a use-tree names below `prefix` (a list of names)."""
    tree = tree.strip()
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)?(::)?\s*(\{)?", tree)
    head = m.group(1).split("::") if m and m.group(1) else []
    if m and m.group(3):
        inner, _ = brace_group(tree, m.end(3) - 1)
        paths = [prefix + head]
        for part in split_top(inner):
            paths.extend(expand_tree(prefix + head, part))
        return paths
    return [prefix + head]


def resolve(module, kind, rest):
    """The absolute module path named by `kind::rest` written inside `module`."""
    if kind == "crate":
        return list(rest)
    base = list(module)
    if kind == "super":
        base = base[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    return base + list(rest)


def scopes(text, file_module):
    """Yields (module path, text offset range) of the file and each inline `mod x { … }`."""
    found = [(tuple(file_module), 0, len(text))]

    def walk(start, end, module):
        for m in INLINE_MOD_RE.finditer(text, start, end):
            inner_start = m.end() - 1
            _, after = brace_group(text, inner_start)
            child = module + (m.group(1),)
            found.append((child, inner_start, after))
            walk(inner_start + 1, after - 1, child)

    walk(0, len(text), tuple(file_module))
    return found


def innermost(scope_list, pos):
    best = scope_list[0]
    for module, s, e in scope_list:
        if s <= pos < e and (e - s) <= (best[2] - best[1]):
            best = (module, s, e)
    return best[0]


def edges_of(path, module, files):
    with open(path, encoding="utf-8") as f:
        text = strip_comments_and_strings(f.read())
    scope_list = scopes(text, module)
    targets = set()
    for m in PATH_RE.finditer(text):
        kind = m.group(1)
        if not m.group(2) and not m.group(3):
            continue  # `pub(crate)`, `&self`, `{self, …}`: no path
        rest = [p for p in m.group(2).split("::") if p]
        where = innermost(scope_list, m.start())
        paths = [rest]
        if m.group(3):
            inner, _ = brace_group(text, m.end() - 1)
            paths = [rest + p for part in split_top(inner) for p in expand_tree([], part)]
        for p in paths:
            absolute = resolve(where, kind, p)
            for cut in range(len(absolute), -1, -1):
                if tuple(absolute[:cut]) in files:
                    targets.add(files[tuple(absolute[:cut])])
                    break
    return targets


def strongly_connected(graph):
    """Tarjan's algorithm; returns the list of components."""
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def main(argv):
    args = argv[1:]
    max_size = 2
    if "--max-size" in args:
        i = args.index("--max-size")
        max_size = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src = args[0]
    files = module_files(src)
    graph = {}
    for module, rel in files.items():
        graph[rel] = edges_of(os.path.join(src, rel), module, files) - {rel}
    big = [c for c in strongly_connected(graph) if len(c) > max_size]
    for comp in sorted(big, key=len, reverse=True):
        print(f"cycle of {len(comp)} files: {' '.join(comp)}")
    if not big:
        print(f"{src}: no import cycle of more than {max_size} files ({len(files)} files)")
    return 1 if big else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
