#!/usr/bin/env python3
"""Where callers call: for each function a project's repository map lists, every caller
`aiex symbols callers --offline --json` gives, and whether it has call lines.

    bench/callsites.py AIEX_BINARY DATA_DIR [DATA_DIR...]

Each DATA_DIR is an offline index (`aiex --data-dir DIR index PROJECT`). Prints, per
project and in all: callers, those with call lines, those without because a `use`
writes the calling function (shown at the using module), the others without, and the
call lines whose code does not name what is called (a `use`, a message sent).
"""
import collections
import json
import re
import subprocess
import sys

SENDS = {
    "handle_call": ("call",),
    "handle_cast": ("cast",),
    "handle_info": ("send",),
    "init": ("start", "plug", "forward", "pipe_through", "get", "post"),
    "call": ("plug", "forward", "pipe_through", "get", "post"),
    "exception": ("raise",),
    "__struct__": ("%", "struct("),
    "mount": ("live",),
}


def functions(aiex, data):
    out = subprocess.run(
        [aiex, "--data-dir", data, "symbols", "map", "--offline", "--tokens", "3000", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    module, found = None, set()
    for line in json.loads(out)["map"].splitlines():
        if re.match(r"^  [A-Z]", line):
            module = line.strip()
        m = re.match(r"^\s+\d+: (?:def|defmacro) ([a-z_][a-zA-Z0-9_?!]*)", line)
        if m and module:
            found.add(f"{module}.{m.group(1)}")
    return sorted(found)


def names_callee(symbol, text):
    module, name = symbol.rsplit(".", 1)
    if name == "__using__":
        return module.rsplit(".", 1)[-1] in text
    return name in text or any(w in text for w in SENDS.get(name, ()))


def main():
    aiex, datas = sys.argv[1], sys.argv[2:]
    total = collections.Counter()
    for data in datas:
        counts = collections.Counter()
        for symbol in functions(aiex, data):
            r = subprocess.run(
                [aiex, "--data-dir", data, "symbols", "callers", "--offline", "--json", symbol],
                capture_output=True, text=True,
            )
            if r.returncode:
                continue
            for c in json.loads(r.stdout):
                counts["callers"] += 1
                if c["call_lines"]:
                    counts["with call lines"] += 1
                    if not names_callee(symbol, c["call_text"] or ""):
                        counts["call text not naming the callee"] += 1
                elif c["generated_by"]:
                    counts["written by a use (shown at the module)"] += 1
                else:
                    counts["without call lines"] += 1
                    print(f"  no call line: {symbol} in {c['path']}:{c['start_line']}")
        print(data, dict(counts))
        total.update(counts)
    print("all", dict(total))


if __name__ == "__main__":
    main()
