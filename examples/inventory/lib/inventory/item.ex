defmodule Inventory.Item do
  @moduledoc """
  A catalogue item identified by its SKU.

  SKUs look like `"TOY-0001"`: three upper-case letters, a dash and four
  digits. Prices are kept as integer cents so that no rounding ever happens
  while items move through the system.
  """

  @enforce_keys [:sku, :name, :price_cents]
  defstruct [:sku, :name, :price_cents, category: :general, tags: []]

  @type sku :: String.t()
  @type category :: :general | :perishable | :hazardous | :digital
  @type t :: %__MODULE__{
          sku: sku(),
          name: String.t(),
          price_cents: non_neg_integer(),
          category: category(),
          tags: [String.t()]
        }

  @categories [:general, :perishable, :hazardous, :digital]
  @max_name_length 120

  @doc """
  Builds a validated item from a map or keyword list of attributes.

  Required keys are `:sku`, `:name` and `:price_cents`; `:category` defaults
  to `:general` and `:tags` to an empty list. SKUs are upper-cased and tags
  are trimmed, down-cased and de-duplicated.

  ## Examples

      iex> {:ok, item} = Inventory.Item.new(sku: "toy-0001", name: "Kite", price_cents: 1299)
      iex> {item.sku, item.category}
      {"TOY-0001", :general}

  """
  @spec new(map() | keyword()) :: {:ok, t()} | {:error, term()}
  def new(attrs) when is_list(attrs), do: attrs |> Map.new() |> new()

  def new(%{} = attrs) do
    with {:ok, sku} <- validate_sku(Map.get(attrs, :sku)),
         {:ok, name} <- validate_name(Map.get(attrs, :name)),
         {:ok, price} <- validate_price(Map.get(attrs, :price_cents)),
         {:ok, category} <- validate_category(Map.get(attrs, :category, :general)) do
      {:ok,
       %__MODULE__{
         sku: sku,
         name: name,
         price_cents: price,
         category: category,
         tags: attrs |> Map.get(:tags, []) |> normalize_tags()
       }}
    end
  end

  @doc """
  Human-readable label for an item.

  The `:short` format (the default) is `"SKU name"`; `:long` also shows the
  category and the formatted unit price.
  """
  @spec label(t(), :short | :long) :: String.t()
  def label(item, format \\ :short)

  def label(%__MODULE__{sku: sku, name: name}, :short), do: "#{sku} #{name}"

  def label(%__MODULE__{} = item, :long) do
    price = Inventory.Pricing.format_cents(item.price_cents)
    "#{item.sku} #{item.name} [#{item.category}] #{price}"
  end

  defp validate_sku(sku) when is_binary(sku) do
    sku = sku |> String.trim() |> String.upcase()

    if Regex.match?(~r/^[A-Z]{3}-\d{4}$/, sku) do
      {:ok, sku}
    else
      {:error, {:invalid_sku, sku}}
    end
  end

  defp validate_sku(other), do: {:error, {:invalid_sku, other}}

  defp validate_name(name) when is_binary(name) do
    case String.trim(name) do
      "" -> {:error, :blank_name}
      trimmed when byte_size(trimmed) > @max_name_length -> {:error, :name_too_long}
      trimmed -> {:ok, trimmed}
    end
  end

  defp validate_name(_other), do: {:error, :blank_name}

  defp validate_price(cents) when is_integer(cents) and cents >= 0, do: {:ok, cents}
  defp validate_price(other), do: {:error, {:invalid_price, other}}

  defp validate_category(category) when category in @categories, do: {:ok, category}
  defp validate_category(other), do: {:error, {:unknown_category, other}}

  defp normalize_tags(tags) when is_list(tags) do
    tags
    |> Enum.map(&(&1 |> to_string() |> String.trim() |> String.downcase()))
    |> Enum.reject(&(&1 == ""))
    |> Enum.uniq()
  end

  defp normalize_tags(_other), do: []
end
