# Writes what the Elixir compiler says each standard-library module exports: every public
# function and macro by name and arity, whether it and its module are documented (`doc`,
# `none`: no doc written, `hidden`: `@doc false` or `@moduledoc false`, `absent`: not in
# the docs), and the source file it was compiled from. tests/tests/search_stdlib.rs checks Aiex's symbol graph against it.
#
# Run with the Elixir whose source Aiex indexes in the tests (1.14, Debian bookworm's
# `elixir` package, the same version as scripts/fetch-elixir-corpus.sh unpacks):
#
#     apt-get install -y elixir
#     elixir scripts/elixir-exports.exs > tests/data/elixir-1.14-exports.tsv

apps = [:elixir, :eex, :ex_unit, :iex, :logger, :mix]

for app <- apps do
  case Application.load(app) do
    :ok -> :ok
    {:error, {:already_loaded, ^app}} -> :ok
    other -> raise "cannot load #{app}: #{inspect(other)}"
  end
end

# The source path from the application's directory on (`lib/elixir/lib/enum.ex`).
relative = fn source ->
  case Regex.run(~r{/(lib/(?:elixir|eex|ex_unit|iex|logger|mix)/.*)$}, source) do
    [_, path] -> path
    nil -> source
  end
end

doc_status = fn
  nil -> "absent"
  :hidden -> "hidden"
  :none -> "none"
  _ -> "doc"
end

rows =
  for app <- apps,
      module <- Enum.sort(Application.spec(app, :modules)),
      Code.ensure_loaded?(module),
      function_exported?(module, :__info__, 1),
      source = to_string(module.module_info(:compile)[:source] || ""),
      String.ends_with?(source, ".ex"),
      {moduledoc, docs} =
        (case Code.fetch_docs(module) do
           {:docs_v1, _, _, _, moduledoc, _, entries} ->
             {moduledoc, Map.new(entries, fn {{k, n, a}, _, _, d, _} -> {{k, n, a}, d} end)}

           _ ->
             {nil, %{}}
         end),
      {kind, exports} <- [function: module.__info__(:functions), macro: module.__info__(:macros)],
      {name, arity} <- exports do
    Enum.join(
      [
        inspect(module),
        kind,
        name,
        arity,
        doc_status.(Map.get(docs, {kind, name, arity})),
        doc_status.(moduledoc),
        relative.(source)
      ],
      "\t"
    )
  end

IO.puts("# Elixir #{System.version()}: module, kind, name, arity, doc, moduledoc, source")
IO.puts(rows |> Enum.sort() |> Enum.join("\n"))
