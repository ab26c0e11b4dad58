//! The small Mix project that the index and graph tests write to a temporary directory.
#![allow(dead_code)]

use std::path::Path;

pub const MIX_EXS: &str = r##"defmodule MyApp.MixProject do
  use Mix.Project

  def project do
    [app: :my_app, version: "0.1.0", elixir: "~> 1.15", deps: []]
  end
end
"##;

pub const GITIGNORE: &str = "/_build/\n/deps/\n/tmp/\nlib/my_app/scratch.ex\n";

pub const CART_EX: &str = r##"defmodule MyApp.Cart do
  @moduledoc """
  A shopping cart: the line items a customer is about to buy.
  """

  alias MyApp.Cart.Item
  alias MyApp.Pricing

  defstruct items: [], customer_id: nil

  @doc """
  Adds `quantity` units of the product `sku` to the cart, merging the quantity into an
  existing line item when the cart already holds that product.
  """
  @spec add_item(%__MODULE__{}, String.t(), pos_integer()) :: %__MODULE__{}
  def add_item(%__MODULE__{items: items} = cart, sku, quantity) when quantity > 0 do
    item = Item.new(sku, quantity)
    %{cart | items: merge_items(items, item)}
  end

  @doc """
  The total price of every line item in the cart in cents, after volume discounts.
  """
  def total(%__MODULE__{items: items}) do
    items
    |> Enum.map(&Pricing.line_price/1)
    |> Pricing.apply_discounts()
  end

  defp merge_items(items, %Item{sku: sku} = item) do
    case Enum.find_index(items, fn existing -> existing.sku == sku end) do
      nil -> items ++ [item]
      index -> List.update_at(items, index, &Item.increment(&1, item.quantity))
    end
  end

  defmodule Summary do
    @moduledoc "A printable summary of a cart for the checkout page."

    @doc """
    Renders one line per item with its product code and quantity, for the receipt.
    """
    def render(%MyApp.Cart{items: items}) do
      Enum.map_join(items, "\n", fn item -> "#{item.sku} x #{item.quantity}" end)
    end
  end
end
"##;

pub const ITEM_EX: &str = r##"defmodule MyApp.Cart.Item do
  @moduledoc "One line of a cart: a product code and a quantity."

  alias MyApp.Util

  defstruct [:sku, :quantity]

  @doc """
  Builds a line item for a product code and a positive quantity, normalising the code.
  """
  def new(sku, quantity) when is_binary(sku) and quantity > 0 do
    %__MODULE__{sku: Util.normalize_sku(sku), quantity: quantity}
  end

  @doc """
  Raises the quantity of a line item by `by` units, keeping its product code unchanged.
  """
  def increment(%__MODULE__{quantity: quantity} = item, by) when by > 0 do
    %{item | quantity: quantity + by}
  end
end
"##;

pub const PRICING_EX: &str = r##"defmodule MyApp.Pricing do
  @moduledoc "Prices line items and applies volume discounts."

  alias MyApp.Cart.Item
  alias MyApp.Catalog

  @doc """
  The price of one line item in cents: the catalog unit price times the quantity.
  """
  def line_price(%Item{sku: sku, quantity: quantity}) do
    Catalog.unit_price(sku) * quantity
  end

  @doc """
  Applies the volume discount to a list of line prices and returns the grand total.
  """
  def apply_discounts(prices) when is_list(prices) do
    subtotal = Enum.sum(prices)
    subtotal - discount(subtotal)
  end

  defp discount(subtotal) when subtotal > 10_000 do
    # Ten percent off large orders, rounded down to the cent.
    div(subtotal, 10)
  end

  defp discount(_subtotal), do: 0
end
"##;

pub const CATALOG_EX: &str = r##"defmodule MyApp.Catalog do
  @moduledoc "The product catalog: unit prices by product code."

  alias MyApp.Util

  @prices %{"APPLE" => 120, "PEAR" => 95, "MELON" => 480}

  @doc """
  Looks up the unit price of a product in cents; unknown products cost nothing.
  """
  def unit_price(sku) do
    sku = Util.normalize_sku(sku)
    Map.get(@prices, sku, 0)
  end

  @doc """
  The unit price of a product converted to another currency at the given exchange rate.
  """
  def unit_price(sku, rate) when is_number(rate) and rate > 0 do
    round(unit_price(sku) * rate)
  end

  @doc """
  Whether the product code names a product of the catalog, whatever its letter case.
  """
  def known?(sku) do
    Map.has_key?(@prices, Util.normalize_sku(sku))
  end

  @doc """
  Dumps the whole catalog as CSV lines for the legacy warehouse system, unused today.
  """
  def legacy_export do
    for {sku, price} <- @prices, into: "", do: "#{sku},#{price}\n"
  end
end
"##;

pub const UTIL_EX: &str = r##"defmodule MyApp.Util do
  @moduledoc "Small helpers shared by the catalog and the cart."

  @doc """
  Normalises a product code: trims surrounding whitespace and upcases every letter.
  """
  def normalize_sku(sku) when is_binary(sku) do
    sku
    |> String.trim()
    |> String.upcase()
  end
end
"##;

pub const CART_TEST_EXS: &str = r##"defmodule MyApp.CartTest do
  use ExUnit.Case, async: true

  alias MyApp.Cart

  test "add_item puts a new line item into an empty cart" do
    cart = Cart.add_item(%Cart{}, "apple", 2)
    assert [%{sku: "APPLE", quantity: 2}] = cart.items
  end

  test "total applies the catalog prices to every line item" do
    cart = %Cart{} |> Cart.add_item("apple", 1) |> Cart.add_item("pear", 1)
    assert Cart.total(cart) == 215
  end
end
"##;

pub const SCRATCH_EX: &str = r##"defmodule MyApp.Scratch do
  def zanzibarquux, do: :ignored
end
"##;

/// Writes the `my_app` project under `root`.
pub fn write_project(root: &Path) {
    write(root, "mix.exs", MIX_EXS);
    write(root, ".gitignore", GITIGNORE);
    write(root, "lib/my_app/cart.ex", CART_EX);
    write(root, "lib/my_app/cart/item.ex", ITEM_EX);
    write(root, "lib/my_app/pricing.ex", PRICING_EX);
    write(root, "lib/my_app/catalog.ex", CATALOG_EX);
    write(root, "lib/my_app/util.ex", UTIL_EX);
    write(root, "test/my_app/cart_test.exs", CART_TEST_EXS);
    write(root, "lib/my_app/scratch.ex", SCRATCH_EX);
    write(root, "tmp/notes.ex", SCRATCH_EX);
}

pub fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}
