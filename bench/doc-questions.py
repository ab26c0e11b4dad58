#!/usr/bin/env python3
"""Questions made of documentation: how often a project's own doc sentences find what they
document, compared across builds of `aiex`.

For every public documented function and macro, and every documented nested module, of a
Mix project (outside test/), the first sentence of its doc (four words or more) is asked as
a question of an index of that project; a hit is the definition it documents (any arity)
or the module's header. Prints recall@1 and recall@5 per kind and build, then the questions
whose top-1 or top-5 outcome differs between the first two builds.

    aiex index PROJECT --data-dir DATA
    bench/doc-questions.py PROJECT DATA OLD/aiex NEW/aiex [--sample 100]

The project's own words favour lexical matches, so this measures ranking changes between
builds rather than natural-language search in general (bench/eval does that).
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys


def documented(aiex, root):
    """(question, expected symbol or symbol prefix, kind) for the project's docs."""
    functions, modules = [], []
    for path, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "deps", "_build", "test")]
        for name in sorted(files):
            if not name.endswith(".ex"):
                continue
            out = subprocess.run(
                [aiex, "chunk", "--json", os.path.join(path, name)],
                capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                print(f"aiex chunk {path}/{name} failed: {out.stderr.strip()}", file=sys.stderr)
                continue
            for chunk in json.loads(out.stdout):
                doc = (chunk.get("doc") or "").strip()
                first = re.split(r"(?<=[.!?])\s|\n\n", doc)[0].replace("`", "").strip()
                if len(re.findall(r"[A-Za-z]+", first)) < 4:
                    continue
                if chunk["kind"] == "module_header" and "." in chunk["module"]:
                    modules.append((first, chunk["module"]))
                elif chunk["kind"] in ("function", "macro") and chunk.get("defines"):
                    d = chunk["defines"][0]
                    if d.get("visibility") == "public":
                        functions.append((first, f"{d['module']}.{d['name']}/"))
    return functions, modules


def rank(aiex, data, question, want):
    out = subprocess.run(
        [aiex, "search", "--offline", "--data-dir", data, "--json", "--limit", "10", "--", question],
        capture_output=True, text=True, check=True,
    )
    for i, hit in enumerate(json.loads(out.stdout)["hits"]):
        symbol = hit["symbol"]
        if symbol == want or (want.endswith("/") and symbol.startswith(want)):
            return i + 1
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("project")
    p.add_argument("data", help="an index of the project (aiex index PROJECT --data-dir DATA)")
    p.add_argument("builds", nargs="+", help="aiex binaries to compare")
    p.add_argument("--sample", type=int, default=100, help="questions per kind, at most")
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()
    random.seed(args.seed)
    functions, modules = documented(args.builds[0], args.project)
    for label, items in (("functions", functions), ("modules", modules)):
        sample = random.sample(items, min(args.sample, len(items)))
        if not sample:
            continue
        ranks = []
        for build in args.builds:
            r = [rank(build, args.data, q, want) for q, want in sample]
            ranks.append(r)
            at = lambda k: sum(1 for x in r if x is not None and x <= k) / len(r)
            print(f"{label:9} {build}: {len(r)} questions, recall@1 {at(1):.2f}, recall@5 {at(5):.2f}")
        if len(ranks) >= 2:
            for (q, want), a, b in zip(sample, ranks[0], ranks[1]):
                top = lambda x, k: x is not None and x <= k
                if top(a, 1) != top(b, 1) or top(a, 5) != top(b, 5):
                    print(f"  {a or '-'} -> {b or '-'}  {want}  | {q[:90]}")


if __name__ == "__main__":
    main()
