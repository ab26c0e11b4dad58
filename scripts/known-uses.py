#!/usr/bin/env python3
"""Regenerates `node/src/graph/known_uses.rs`: what a `use` of some widely used libraries
defines in the module that uses it, for projects that do not index those libraries'
source (a Mix project's `deps/` is git-ignored, so `use Ecto.Repo` would define nothing).

For each library below, a probe module that `use`s it is indexed with the library's
source by `aiex index`, and the symbol graph is asked, through `aiex symbols def --json`,
which functions the `use` defines in the probe (every name some quote of the library
defines is tried). What the graph answers is written as the table, so the table is what
Aiex itself reads from the source.

    scripts/known-uses.py AIEX SOURCES > node/src/graph/known_uses.rs

AIEX is an `aiex` binary; SOURCES a directory holding the libraries' repositories
(`ecto/`, `phoenix/`, `plug/`, ... as cloned from GitHub; see LIBRARIES).
"""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (module used, the `use` a probe module makes, the repositories whose lib/ it needs).
# The versions these were read from are in the generated file.
LIBRARIES = [
    ("Ecto.Repo", "use Ecto.Repo, otp_app: :probe, adapter: Ecto.Adapters.Postgres", ["ecto"]),
    ("Ecto.Migration", "use Ecto.Migration", ["ecto_sql", "ecto"]),
    ("Phoenix.Endpoint", "use Phoenix.Endpoint, otp_app: :probe", ["phoenix", "plug"]),
    ("Phoenix.Router", "use Phoenix.Router", ["phoenix", "plug"]),
    ("Phoenix.Controller", "use Phoenix.Controller, formats: [:html, :json]", ["phoenix", "plug"]),
    ("Phoenix.Channel", "use Phoenix.Channel", ["phoenix", "plug"]),
    ("Phoenix.Socket", "use Phoenix.Socket", ["phoenix", "plug"]),
    ("Phoenix.LiveView", "use Phoenix.LiveView", ["phoenix_live_view", "phoenix", "plug"]),
    ("Phoenix.LiveComponent", "use Phoenix.LiveComponent", ["phoenix_live_view", "phoenix", "plug"]),
    ("Plug.Builder", "use Plug.Builder", ["plug"]),
    ("Plug.Router", "use Plug.Router", ["plug"]),
    ("GenStage", "use GenStage", ["gen_stage"]),
    ("ConsumerSupervisor", "use ConsumerSupervisor", ["gen_stage"]),
    ("GenStateMachine", "use GenStateMachine", ["gen_state_machine"]),
    ("Broadway", "use Broadway", ["broadway"]),
    ("Oban.Worker", "use Oban.Worker", ["oban"]),
    ("Swoosh.Mailer", "use Swoosh.Mailer, otp_app: :probe", ["swoosh"]),
    ("HTTPoison.Base", "use HTTPoison.Base", ["httpoison"]),
    ("Tesla", "use Tesla", ["tesla"]),
    ("Waffle.Definition", "use Waffle.Definition", ["waffle"]),
    ("Cloak.Vault", "use Cloak.Vault, otp_app: :probe", ["cloak"]),
    ("ExMachina", "use ExMachina", ["ex_machina"]),
    ("ExMachina.Ecto", "use ExMachina.Ecto, repo: Probe.Repo", ["ex_machina"]),
    ("Nebulex.Cache", "use Nebulex.Cache, otp_app: :probe, adapter: Nebulex.Adapters.Local", ["nebulex"]),
    ("Guardian", "use Guardian, otp_app: :probe", ["guardian"]),
    ("Commanded.Application", "use Commanded.Application, otp_app: :probe", ["commanded"]),
    ("Commanded.Commands.Router", "use Commanded.Commands.Router", ["commanded"]),
    ("Commanded.Event.Handler", "use Commanded.Event.Handler, application: Probe.App, name: \"probe\"", ["commanded"]),
    ("Phoenix.Presence", "use Phoenix.Presence, otp_app: :probe, pubsub_server: Probe.PubSub", ["phoenix", "phoenix_pubsub", "plug"]),
    ("Phoenix.Tracker", "use Phoenix.Tracker", ["phoenix_pubsub"]),
    ("Joken.Config", "use Joken.Config", ["joken"]),
    ("Scrivener", "use Scrivener, page_size: 10", ["scrivener"]),
    ("PromEx", "use PromEx, otp_app: :probe", ["prom_ex"]),
    ("Hammer", "use Hammer, backend: :ets", ["hammer"]),
    ("Protobuf", "use Protobuf, syntax: :proto3", ["protobuf"]),
    ("Splode.Error", "use Splode.Error, fields: [:field], class: :invalid", ["splode"]),
    ("Splode.ErrorClass", "use Splode.ErrorClass, class: :invalid", ["splode"]),
    ("Spark.Options.Validator", "use Spark.Options.Validator, schema: [name: [type: :atom]]", ["spark"]),
    ("Bamboo.Mailer", "use Bamboo.Mailer, otp_app: :probe", ["bamboo"]),
]

# Quotes a `use` reaches through a call the graph does not follow: a repo's
# `__before_compile__` runs its adapter's, and every Ecto SQL adapter's runs this one
# (`query/3`, `to_sql/3`...). (module used, repository, file, quoting function)
EXTRA_QUOTES = [
    ("Ecto.Repo", "ecto_sql", "lib/ecto/adapters/sql.ex", "Ecto.Adapters.SQL.__before_compile__"),
    # `use Hammer, backend: :ets` runs `@before_compile Hammer.ETS`, a module it computes
    # from the option.
    ("Hammer", "hammer", "lib/hammer/ets.ex", "Hammer.ETS.__before_compile__"),
]

# What a quote defines under a name it computes, or in a quote the graph does not reach,
# written here from the library's source (module used, head, arities):
# - `use ExMachina.Ecto` runs `use ExMachina.EctoStrategy`, whose `ExMachina.Strategy`
#   quote defines `def unquote(function_name)(…)` with `function_name: :insert`
#   (ex_machina/lib/ex_machina/strategy.ex);
# - Tesla's builder defines each HTTP verb, and its `!` form, with and without a client
#   and options (tesla/lib/tesla/builder.ex, `def unquote(name(method, safe))(…)`).
NAMED_AT_EXPANSION = [
    # `use Protobuf` runs `@before_compile Protobuf.DSL`, which unquotes the `defstruct`
    # that `Protobuf.DSL.gen_defstruct/1` quotes (protobuf/lib/protobuf/dsl.ex).
    ("Protobuf", "def __struct__()", (0,)),
    ("Protobuf", "def __struct__(kv)", (1,)),
    ("ExMachina.Ecto", "def insert(factory_name)", (1,)),
    ("ExMachina.Ecto", "def insert(factory_name, attrs)", (2,)),
    ("ExMachina.Ecto", "def insert(factory_name, attrs, opts)", (3,)),
    ("ExMachina.Ecto", "def insert_pair(factory_name, attrs \\\\ %{})", (1, 2)),
    ("ExMachina.Ecto", "def insert_pair(factory_name, attrs, opts)", (3,)),
    ("ExMachina.Ecto", "def insert_list(number_of_records, factory_name, attrs \\\\ %{})", (2, 3)),
    ("ExMachina.Ecto", "def insert_list(number_of_records, factory_name, attrs, opts)", (4,)),
] + [
    ("Tesla", f"def {verb}{bang}(client, url, opts)", (1, 2, 3))
    for verb in ("head", "get", "delete", "trace", "options")
    for bang in ("", "!")
] + [
    ("Tesla", f"def {verb}{bang}(client, url, body, opts)", (2, 3, 4))
    for verb in ("post", "put", "patch", "query")
    for bang in ("", "!")
]


def run(*args):
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


@functools.cache
def quoted_names(aiex, lib):
    """Every name a quote in the library's files defines (read once per library)."""
    names = set()
    for path, _, files in os.walk(lib):
        for name in files:
            if not name.endswith(".ex"):
                continue
            for chunk in json.loads(run(aiex, "chunk", "--json", os.path.join(path, name))):
                for d in chunk.get("defines", []):
                    names.update(q["name"] for q in d.get("quoted_defs", []))
    return names


def quoted_by(aiex, path, function):
    """What the quotes of `function` (`Mod.fun`) in the file at `path` define."""
    found = {}
    for chunk in json.loads(run(aiex, "chunk", "--json", path)):
        for d in chunk.get("defines", []):
            if f"{d['module']}.{d['name']}" != function:
                continue
            for q in d.get("quoted_defs", []):
                if q.get("visibility") == "public":
                    found[(q["name"], tuple(q["arities"]))] = q["signature"]
    if not found:
        sys.exit(f"{function} in {path} quotes no definition")
    return found


def defined(aiex, sources, used, line, repos):
    work = tempfile.mkdtemp(prefix="aiex-known-uses-")
    try:
        # And what the standard library's `use`s define (a quote's `use GenServer`).
        names = {"child_spec", "stop", "__using__"}
        for repo in repos:
            lib = os.path.join(sources, repo, "lib")
            shutil.copytree(lib, os.path.join(work, "src", repo))
            names |= quoted_names(aiex, lib)
        os.makedirs(os.path.join(work, "src", "probe"))
        with open(os.path.join(work, "src", "probe", "probe.ex"), "w") as f:
            f.write(f"defmodule Probe.Used do\n  {line}\nend\n")
        data = os.path.join(work, "data")
        run(aiex, "index", os.path.join(work, "src"), "--data-dir", data, "--json")
        found = {}
        for name in sorted(names):
            out = subprocess.run(
                [aiex, "symbols", "def", f"Probe.Used.{name}", "--offline", "--data-dir", data, "--json"],
                capture_output=True, text=True, check=False,
            )
            if out.returncode != 0:
                continue
            for d in json.loads(out.stdout):
                # Public ones, by this `use` or a `use` its quote makes (`use
                # Phoenix.Controller` runs `use Phoenix.Controller.Pipeline`).
                # Heads with names or patterns computed at expansion
                # (`def __global__?(unquote(prefix))`) are left out.
                public = not d["signature"].startswith(("defp ", "defmacrop ")) and not any(
                    w in d["signature"] for w in ("unquote(", "var!(")
                )
                if d.get("module") == "Probe.Used" and d.get("generated_by") and public:
                    found[(name, tuple(d["arities"]))] = d["signature"]
        return found
    finally:
        shutil.rmtree(work)


def version(sources, repo):
    """The version a library's mix.exs declares."""
    with open(os.path.join(sources, repo, "mix.exs")) as f:
        text = f.read()
    found = re.search(r'(?:@version|version:)\s+"([^"]+)"', text)
    return found.group(1) if found else "?"


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    aiex, sources = sys.argv[1], sys.argv[2]
    print("//! Generated by `scripts/known-uses.py`: do not edit by hand.")
    print("//!")
    print("//! What a `use` of these libraries defines in the module that uses it, read by Aiex")
    print("//! from their source (see [`super::known_use`]).")
    print()
    print("/// (module used, name, head as written (for what `defstruct` or `defexception`")
    print("/// implies, that line), arities, whether the graph cannot read it from the")
    print("/// library's source: named at expansion, or in a quote it does not follow)")
    print("#[rustfmt::skip]")
    print("pub(super) const KNOWN_LIBRARY_USES: &[(&str, &str, &str, &[u32], bool)] = &[")
    for used, line, repos in LIBRARIES:
        found = {k: (v, False) for k, v in defined(aiex, sources, used, line, repos).items()}
        for named_used, signature, arities in NAMED_AT_EXPANSION:
            if named_used == used:
                found[(signature.split()[1].split("(")[0], arities)] = (signature, True)
        for extra_used, repo, path, function in EXTRA_QUOTES:
            if extra_used == used:
                for key, signature in quoted_by(aiex, os.path.join(sources, repo, path), function).items():
                    found[key] = (signature, True)
                if repo not in repos:
                    repos = repos + [repo]
        # The `aiex` that probes already has a table: where it defines a function beyond
        # what the source says, the probe sees that too (`hit/4` beside Hammer's
        # `hit/3..4`). The arities the table gives a name are the table's alone.
        beyond = {}
        for (name, arities), (_, b) in found.items():
            if b:
                beyond.setdefault(name, set()).update(arities)
        found = {
            (name, arities): v
            for (name, arities), v in found.items()
            if v[1] or not set(arities) <= beyond.get(name, set())
        }
        if not found:
            sys.exit(f"{used}: the probe defines nothing; is {repos} the library's source?")
        versions = ", ".join(f"{r} {version(sources, r)}" for r in repos)
        print(f"    // {used} ({versions}): `{line.splitlines()[0]}`")
        for (name, arities), (signature, beyond) in sorted(found.items()):
            ar = ", ".join(str(a) for a in arities)
            flag = "true" if beyond else "false"
            print(f"    ({rust_str(used)}, {rust_str(name)}, {rust_str(signature)}, &[{ar}], {flag}),")
    print("];")


if __name__ == "__main__":
    main()
