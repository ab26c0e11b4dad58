# Writes the calls the Elixir compiler sees in each standard-library function, read from
# the debug info of the compiled modules (their code after macro expansion): for every
# function and macro, each call of a function (of its own module, another, or Erlang's), as
# `Caller.fun/arity<TAB>Callee.fun/arity`, once; a call the compiler inlined into an
# Erlang function is written as the Elixir one it was (`Map.put/3`, not `:maps.put/3`).
# `graph-check --calls` (bench/README.md, "The symbol graph against the compiler")
# compares Aiex's symbol graph with it.
#
#     apt-get install -y elixir
#     elixir scripts/elixir-calls.exs > /tmp/elixir-1.14-calls.tsv

apps = [:elixir, :eex, :ex_unit, :iex, :logger, :mix]
Enum.each(apps, &Application.load/1)

# The function written in the source for a call the compiler inlined or rewrote into an
# Erlang one (`:maps.put(k, v, map)` was `Map.put(map, k, v)`, `:erlang.is_list(x)` was
# `is_list(x)`, `Kernel.is_list/1`).
as_written = fn mod, fun, args ->
  case :elixir_rewrite.erl_to_ex(mod, fun, args) do
    {m, f, a} -> {m, f, length(a)}
    {m, f, a, _} -> {m, f, length(a)}
    false -> {mod, fun, length(args)}
  end
end

# The calls in a definition's clauses (`{meta, args, guards, body}`, after expansion):
# remote calls `Mod.fun(args)` and captures `&Mod.fun/arity`, and calls of the module's
# own definitions (`local`: a set of `{name, arity}`), as `{module, fun, arity}`.
calls = fn module, clauses, local ->
  ast = Enum.map(clauses, fn {_meta, args, guards, body} -> [args, guards, body] end)

  {_, found} =
    Macro.prewalk(ast, MapSet.new(), fn
      {{:., _, [mod, fun]}, _, args} = node, acc
      when is_atom(mod) and is_atom(fun) and is_list(args) ->
        {node, MapSet.put(acc, as_written.(mod, fun, args))}

      # A capture is one call; its inside (`Mod.fun` with no arguments) is not another.
      {:&, _, [{:/, _, [{{:., _, [mod, fun]}, _, []}, arity]}]}, acc
      when is_atom(mod) and is_atom(fun) and is_integer(arity) ->
        {:capture, MapSet.put(acc, {mod, fun, arity})}

      {:&, _, [{:/, _, [{fun, _, ctx}, arity]}]}, acc
      when is_atom(fun) and is_atom(ctx) and is_integer(arity) ->
        {:capture, if(MapSet.member?(local, {fun, arity}), do: MapSet.put(acc, {module, fun, arity}), else: acc)}

      {fun, _, args} = node, acc when is_atom(fun) and is_list(args) ->
        {node, if(MapSet.member?(local, {fun, length(args)}), do: MapSet.put(acc, {module, fun, length(args)}), else: acc)}

      node, acc ->
        {node, acc}
    end)

  found
end

elixir_module? = fn mod -> String.starts_with?(Atom.to_string(mod), "Elixir.") end

rows =
  for app <- apps,
      module <- Application.spec(app, :modules),
      elixir_module?.(module),
      beam = :code.which(module),
      is_list(beam),
      {:ok, {_, [debug_info: {:debug_info_v1, backend, data}]}} <-
        [:beam_lib.chunks(beam, [:debug_info])],
      {:ok, %{definitions: defs}} <- [backend.debug_info(:elixir_v1, module, data, [])],
      local = MapSet.new(defs, fn {name_arity, _, _, _} -> name_arity end),
      {{name, arity}, _kind, _meta, clauses} <- defs,
      {mod, fun, n} <- calls.(module, clauses, local) do
    "#{inspect(module)}.#{name}/#{arity}\t#{inspect(mod)}.#{fun}/#{n}"
  end

IO.puts(rows |> Enum.uniq() |> Enum.sort() |> Enum.join("\n"))
