defprotocol Inventory.Priceable do
  @moduledoc """
  Anything that has a unit price expressed in integer cents.

  Implemented for `Inventory.Item` and for plain maps carrying a
  `:price_cents` (or `"price_cents"`) key, e.g. decoded JSON.
  """

  @doc "Returns the unit price in cents."
  @spec unit_price(t()) :: non_neg_integer()
  def unit_price(priceable)
end

defimpl Inventory.Priceable, for: Inventory.Item do
  def unit_price(%Inventory.Item{price_cents: cents}), do: cents
end

defimpl Inventory.Priceable, for: Map do
  def unit_price(%{price_cents: cents}) when is_integer(cents) and cents >= 0, do: cents
  def unit_price(%{"price_cents" => cents}) when is_integer(cents) and cents >= 0, do: cents

  def unit_price(map) do
    raise ArgumentError, "expected a map with a non-negative :price_cents, got: #{inspect(map)}"
  end
end

defmodule Inventory.Pricing do
  @moduledoc """
  Price arithmetic on integer cents.

  Discounts are applied in the order given and a total never drops below
  zero. Percentages are whole numbers between 0 and 100 and are rounded half
  up to the nearest cent.
  """

  alias Inventory.Priceable

  @type cents :: non_neg_integer()
  @type discount ::
          {:percent, 0..100}
          | {:fixed, cents()}
          | {:bulk, min_quantity :: pos_integer(), 0..100}

  @doc "Guard that accepts non-negative integer amounts of cents."
  defguard is_cents(value) when is_integer(value) and value >= 0

  @doc "Guard that accepts whole percentages from 0 to 100."
  defguard is_percentage(value) when is_integer(value) and value >= 0 and value <= 100

  @doc """
  Applies a single discount to an amount.

  Bulk discounts need a quantity; they are ignored here and handled by
  `line_total/3`.

  ## Examples

      iex> Inventory.Pricing.apply_discount(1000, {:percent, 15})
      850
      iex> Inventory.Pricing.apply_discount(500, {:fixed, 800})
      0

  """
  @spec apply_discount(cents(), discount()) :: cents()
  def apply_discount(amount, {:percent, pct}) when is_cents(amount) and is_percentage(pct) do
    amount - percent_of(amount, pct)
  end

  def apply_discount(amount, {:fixed, off}) when is_cents(amount) and is_cents(off) do
    max(amount - off, 0)
  end

  def apply_discount(amount, {:bulk, _min_quantity, _pct}) when is_cents(amount), do: amount

  @doc """
  Total for `quantity` units at `unit_price` after applying `discounts`.

  A `{:bulk, min_quantity, pct}` discount only applies when at least
  `min_quantity` units are bought.
  """
  @spec line_total(cents(), pos_integer(), [discount()]) :: cents()
  def line_total(unit_price, quantity, discounts \\ [])
      when is_cents(unit_price) and is_integer(quantity) and quantity > 0 do
    Enum.reduce(discounts, unit_price * quantity, fn
      {:bulk, min_quantity, pct}, acc when quantity >= min_quantity ->
        apply_discount(acc, {:percent, pct})

      discount, acc ->
        apply_discount(acc, discount)
    end)
  end

  @doc """
  Totals an order made of `{priceable, quantity}` lines, then applies the
  order-level `discounts` to the sum.
  """
  @spec order_total([{item, pos_integer()}], [discount()]) :: cents()
        when item: Priceable.t()
  def order_total(lines, discounts \\ []) when is_list(lines) do
    subtotal =
      lines
      |> Enum.map(fn {priceable, quantity} ->
        priceable |> Priceable.unit_price() |> line_total(quantity)
      end)
      |> Enum.sum()

    Enum.reduce(discounts, subtotal, &apply_discount(&2, &1))
  end

  @doc """
  Formats cents as a decimal string, e.g. `1299` becomes `"$12.99"`.

  Pass `symbol: ""` to get a bare number (useful for CSV output).
  """
  @spec format_cents(integer(), keyword()) :: String.t()
  def format_cents(cents, opts \\ []) when is_integer(cents) do
    symbol = Keyword.get(opts, :symbol, "$")
    sign = if cents < 0, do: "-", else: ""
    whole = cents |> abs() |> div(100)
    fraction = cents |> abs() |> rem(100) |> Integer.to_string() |> String.pad_leading(2, "0")

    "#{sign}#{symbol}#{whole}.#{fraction}"
  end

  defp percent_of(amount, pct), do: div(amount * pct + 50, 100)
end
