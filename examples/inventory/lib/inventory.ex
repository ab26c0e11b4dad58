defmodule Inventory do
  @moduledoc """
  Public entry point for the inventory library.

  Most functions delegate to the module that owns the behaviour:

    * `Inventory.Item` - validated catalogue items
    * `Inventory.Stock` - the process holding quantities and reservations
    * `Inventory.Pricing` - discounts and totals in integer cents
    * `Inventory.Report` - CSV stock reports
  """

  alias Inventory.{Item, Pricing, Report, Stock}

  @doc "Builds a validated item. See `Inventory.Item.new/1`."
  defdelegate new_item(attrs), to: Item, as: :new

  @doc "Adds units of a SKU to the stock. See `Inventory.Stock.restock/3`."
  defdelegate restock(server, sku, quantity), to: Stock

  @doc "Reserves units for a limited time. See `Inventory.Stock.reserve/4`."
  defdelegate reserve(server, sku, quantity, opts \\ []), to: Stock

  @doc "Cancels a reservation. See `Inventory.Stock.release/2`."
  defdelegate release(server, reservation_id), to: Stock

  @doc "Price of a single order line. See `Inventory.Pricing.line_total/3`."
  defdelegate line_total(unit_price, quantity, discounts \\ []), to: Pricing

  @doc "Renders a CSV stock report. See `Inventory.Report.to_csv/3`."
  defdelegate to_csv(items, snapshot, opts \\ []), to: Report

  @doc """
  Reserves every `{sku, quantity}` line of an order or none of them.

  If any line cannot be reserved, the reservations already taken for the
  order are released and the first error is returned.
  """
  @spec reserve_order(Stock.server(), [{Item.sku(), pos_integer()}], keyword()) ::
          {:ok, [Inventory.Reservation.t()]} | {:error, term()}
  def reserve_order(server, lines, opts \\ []) when is_list(lines) do
    lines
    |> Enum.reduce_while({:ok, []}, fn {sku, quantity}, {:ok, taken} ->
      case Stock.reserve(server, sku, quantity, opts) do
        {:ok, reservation} -> {:cont, {:ok, [reservation | taken]}}
        {:error, reason} -> {:halt, {:error, reason, taken}}
      end
    end)
    |> case do
      {:ok, taken} ->
        {:ok, Enum.reverse(taken)}

      {:error, reason, taken} ->
        Enum.each(taken, &Stock.release(server, &1.id))
        {:error, reason}
    end
  end
end
