defmodule Inventory.Report do
  @moduledoc """
  CSV reports built from items and a stock snapshot.

  Rows are produced lazily with `Stream`, so large catalogues can be written
  to disk without building the whole report in memory.
  """

  import Inventory.Pricing, only: [format_cents: 2]

  alias Inventory.Item
  alias Inventory.Stock, as: Warehouse

  @columns ~w(sku name category on_hand reserved available unit_price stock_value)
  @empty_entry %{on_hand: 0, reserved: 0}

  @doc """
  Lazily builds one row per item, joining each item with its stock entry.

  Items missing from the snapshot are reported with zero stock.
  """
  @spec rows(Enumerable.t(), Warehouse.snapshot()) :: Enumerable.t()
  def rows(items, snapshot) when is_map(snapshot) do
    items
    |> Stream.map(fn %Item{} = item -> {item, Map.get(snapshot, item.sku, @empty_entry)} end)
    |> Stream.map(&to_row/1)
  end

  @doc """
  Renders the full CSV report, header included, as a string.

  Options:

    * `:separator` - single-character field separator, defaults to `","`
  """
  @spec to_csv(Enumerable.t(), Warehouse.snapshot(), keyword()) :: String.t()
  def to_csv(items, snapshot, opts \\ []) do
    separator = Keyword.get(opts, :separator, ",")

    items
    |> csv_lines(snapshot, separator)
    |> Enum.join()
  end

  @doc "Streams the CSV report into the file at `path`, line by line."
  @spec write_csv!(Path.t(), Enumerable.t(), Warehouse.snapshot()) :: :ok
  def write_csv!(path, items, snapshot) do
    items
    |> csv_lines(snapshot, ",")
    |> Stream.into(File.stream!(path))
    |> Stream.run()
  end

  @doc "Builds the CSV report from the current state of a running stock server."
  @spec from_server(Warehouse.server(), Enumerable.t(), keyword()) :: String.t()
  def from_server(server, items, opts \\ []) do
    to_csv(items, Warehouse.snapshot(server), opts)
  end

  @doc """
  Returns `{sku, available}` for items at or below `threshold` available
  units, lowest first.
  """
  @spec low_stock(Enumerable.t(), Warehouse.snapshot(), non_neg_integer()) ::
          [{Item.sku(), non_neg_integer()}]
  def low_stock(items, snapshot, threshold \\ 5) do
    items
    |> Stream.map(&{&1.sku, available(Map.get(snapshot, &1.sku, @empty_entry))})
    |> Stream.filter(fn {_sku, units} -> units <= threshold end)
    |> Enum.sort_by(&elem(&1, 1))
  end

  defp csv_lines(items, snapshot, separator) do
    [@columns]
    |> Stream.concat(rows(items, snapshot))
    |> Stream.map(&encode_line(&1, separator))
  end

  defp to_row({%Item{} = item, %{on_hand: on_hand, reserved: reserved} = entry}) do
    [
      item.sku,
      item.name,
      item.category,
      on_hand,
      reserved,
      available(entry),
      format_cents(item.price_cents, symbol: ""),
      format_cents(item.price_cents * on_hand, symbol: "")
    ]
  end

  defp available(%{on_hand: on_hand, reserved: reserved}), do: max(on_hand - reserved, 0)

  defp encode_line(fields, separator) do
    Enum.map_join(fields, separator, &escape_field(&1, separator)) <> "\n"
  end

  defp escape_field(value, separator) when is_binary(value) do
    if String.contains?(value, [separator, "\"", "\n"]) do
      "\"" <> String.replace(value, "\"", "\"\"") <> "\""
    else
      value
    end
  end

  defp escape_field(value, separator), do: value |> to_string() |> escape_field(separator)
end
