defmodule Inventory.Reservation do
  @moduledoc """
  A temporary hold on a quantity of one SKU.

  Reservations expire after a time-to-live so that abandoned carts do not
  lock stock forever. Expiry is computed with plain `DateTime` arithmetic in
  UTC; the stock server sweeps expired reservations periodically.
  """

  alias Inventory.Item

  defmodule InsufficientStockError do
    @moduledoc "Raised when a reservation asks for more units than are available."
    defexception [:sku, :requested, :available]

    @type t :: %__MODULE__{
            sku: String.t(),
            requested: pos_integer(),
            available: non_neg_integer()
          }

    @impl true
    def message(%__MODULE__{sku: sku, requested: requested, available: available}) do
      "cannot reserve #{requested} x #{sku}: only #{available} available"
    end
  end

  @enforce_keys [:id, :sku, :quantity, :expires_at]
  defstruct [:id, :sku, :quantity, :expires_at]

  @type id :: pos_integer()
  @type t :: %__MODULE__{
          id: id(),
          sku: Item.sku(),
          quantity: pos_integer(),
          expires_at: DateTime.t()
        }

  @default_ttl 15 * 60

  @doc "Default time-to-live of a reservation, in seconds."
  @spec default_ttl() :: pos_integer()
  def default_ttl, do: @default_ttl

  @doc """
  Creates a reservation for `quantity` units of `sku` that expires
  `ttl_seconds` after `now`.
  """
  @spec new(Item.sku(), pos_integer(), non_neg_integer(), DateTime.t()) :: t()
  def new(sku, quantity, ttl_seconds \\ @default_ttl, now \\ DateTime.utc_now())
      when is_binary(sku) and is_integer(quantity) and quantity > 0 and
             is_integer(ttl_seconds) and ttl_seconds >= 0 do
    %__MODULE__{
      id: System.unique_integer([:positive, :monotonic]),
      sku: sku,
      quantity: quantity,
      expires_at: DateTime.add(now, ttl_seconds, :second)
    }
  end

  @doc """
  Checks that `requested` units can be taken out of `available`.

  Returns `:ok` or `{:error, %InsufficientStockError{}}` so callers can
  decide whether to raise.
  """
  @spec check_available(Item.sku(), non_neg_integer(), pos_integer()) ::
          :ok | {:error, InsufficientStockError.t()}
  def check_available(_sku, available, requested) when requested <= available, do: :ok

  def check_available(sku, available, requested) do
    {:error, %InsufficientStockError{sku: sku, requested: requested, available: available}}
  end

  @doc "Returns `true` once the reservation's expiry time has been reached."
  @spec expired?(t(), DateTime.t()) :: boolean()
  def expired?(%__MODULE__{expires_at: expires_at}, now \\ DateTime.utc_now()) do
    DateTime.compare(now, expires_at) != :lt
  end

  @doc """
  Splits a map of reservations keyed by id into the expired ones (as a list,
  oldest first) and a map of those still active.
  """
  @spec split_expired(%{id() => t()}, DateTime.t()) :: {[t()], %{id() => t()}}
  def split_expired(reservations, now \\ DateTime.utc_now()) when is_map(reservations) do
    {expired, active} =
      Enum.split_with(reservations, fn {_id, reservation} -> expired?(reservation, now) end)

    expired =
      expired
      |> Enum.map(&elem(&1, 1))
      |> Enum.sort_by(& &1.expires_at, DateTime)

    {expired, Map.new(active)}
  end

  @doc "Looks up several reservations by id, skipping unknown ids."
  @spec fetch_many(%{id() => t()}, [id()]) :: [t()]
  def fetch_many(reservations, ids) when is_map(reservations) and is_list(ids) do
    ids
    |> Enum.map(&Map.get(reservations, &1))
    |> Enum.reject(&is_nil/1)
  end
end
