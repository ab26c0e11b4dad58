defmodule Inventory.Stock do
  @moduledoc """
  A process that tracks on-hand and reserved quantities per SKU.

  Available stock is `on_hand - reserved`. Reserving stock creates an
  `Inventory.Reservation` that is either released (the units go back to the
  pool) or expires and is swept away by a periodic `:sweep_expired` message.

  ## Options

    * `:name` - registered name, defaults to `Inventory.Stock`; pass `nil`
      to start an anonymous server
    * `:initial` - map of `sku => on_hand` to start with
    * `:sweep_interval` - milliseconds between expiry sweeps, or `:infinity`
  """

  use GenServer
  require Logger

  alias Inventory.Reservation
  alias Inventory.Reservation.InsufficientStockError

  @default_sweep_interval :timer.seconds(30)

  @type server :: GenServer.server()
  @type entry :: %{on_hand: non_neg_integer(), reserved: non_neg_integer()}
  @type snapshot :: %{String.t() => entry()}

  ## Client API

  @doc "Starts the stock server. See the module documentation for options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts \\ []) do
    {name, opts} = Keyword.pop(opts, :name, __MODULE__)
    GenServer.start_link(__MODULE__, opts, name: name)
  end

  @doc """
  Adds `quantity` units of `sku` to the on-hand stock.

  This is a cast: it returns immediately and never fails for valid input.
  """
  @spec restock(server(), String.t(), pos_integer()) :: :ok
  def restock(server, sku, quantity)
      when is_binary(sku) and is_integer(quantity) and quantity > 0 do
    GenServer.cast(server, {:restock, sku, quantity})
  end

  @doc "Returns how many units of `sku` can still be reserved."
  @spec available(server(), String.t()) :: non_neg_integer()
  def available(server, sku) when is_binary(sku) do
    GenServer.call(server, {:available, sku})
  end

  @doc """
  Reserves `quantity` units of `sku`.

  Accepts a `:ttl` option (seconds, defaults to
  `Inventory.Reservation.default_ttl/0`).
  """
  @spec reserve(server(), String.t(), pos_integer(), keyword()) ::
          {:ok, Reservation.t()} | {:error, InsufficientStockError.t()}
  def reserve(server, sku, quantity, opts \\ [])
      when is_binary(sku) and is_integer(quantity) and quantity > 0 do
    ttl = Keyword.get(opts, :ttl, Reservation.default_ttl())
    GenServer.call(server, {:reserve, sku, quantity, ttl})
  end

  @doc """
  Like `reserve/4` but returns the reservation directly and raises
  `Inventory.Reservation.InsufficientStockError` when stock is short.
  """
  @spec reserve!(server(), String.t(), pos_integer(), keyword()) :: Reservation.t()
  def reserve!(server, sku, quantity, opts \\ []) do
    case reserve(server, sku, quantity, opts) do
      {:ok, reservation} -> reservation
      {:error, %InsufficientStockError{} = error} -> raise error
    end
  end

  @doc "Cancels a reservation and returns its units to the available pool."
  @spec release(server(), Reservation.id()) :: :ok | {:error, :not_found}
  def release(server, reservation_id) do
    GenServer.call(server, {:release, reservation_id})
  end

  @doc "Returns the current `sku => %{on_hand: n, reserved: m}` map."
  @spec snapshot(server()) :: snapshot()
  def snapshot(server), do: GenServer.call(server, :snapshot)

  ## Server callbacks

  @impl true
  def init(opts) do
    stock =
      opts
      |> Keyword.get(:initial, %{})
      |> Map.new(fn {sku, on_hand} -> {sku, %{on_hand: on_hand, reserved: 0}} end)

    interval = Keyword.get(opts, :sweep_interval, @default_sweep_interval)
    schedule_sweep(interval)

    {:ok, %{stock: stock, reservations: %{}, sweep_interval: interval}}
  end

  @impl true
  def handle_call({:available, sku}, _from, state) do
    {:reply, available_units(state, sku), state}
  end

  def handle_call({:reserve, sku, quantity, ttl}, _from, state) do
    case Reservation.check_available(sku, available_units(state, sku), quantity) do
      :ok ->
        reservation = Reservation.new(sku, quantity, ttl)

        state =
          state
          |> put_in([:reservations, reservation.id], reservation)
          |> adjust(sku, :reserved, quantity)

        {:reply, {:ok, reservation}, state}

      {:error, _exception} = error ->
        {:reply, error, state}
    end
  end

  def handle_call({:release, id}, _from, state) do
    case Map.pop(state.reservations, id) do
      {nil, _reservations} ->
        {:reply, {:error, :not_found}, state}

      {%Reservation{sku: sku, quantity: quantity}, reservations} ->
        state = adjust(%{state | reservations: reservations}, sku, :reserved, -quantity)
        {:reply, :ok, state}
    end
  end

  def handle_call(:snapshot, _from, state) do
    {:reply, state.stock, state}
  end

  @impl true
  def handle_cast({:restock, sku, quantity}, state) do
    {:noreply, adjust(state, sku, :on_hand, quantity)}
  end

  @impl true
  def handle_info(:sweep_expired, state) do
    {expired, active} = Reservation.split_expired(state.reservations, DateTime.utc_now())

    state =
      Enum.reduce(expired, %{state | reservations: active}, fn reservation, acc ->
        adjust(acc, reservation.sku, :reserved, -reservation.quantity)
      end)

    if expired != [] do
      Logger.debug("expired #{length(expired)} reservation(s)")
    end

    schedule_sweep(state.sweep_interval)
    {:noreply, state}
  end

  def handle_info(message, state) do
    Logger.warning("#{inspect(__MODULE__)} ignoring unexpected message: #{inspect(message)}")
    {:noreply, state}
  end

  ## Helpers

  defp available_units(%{stock: stock}, sku) do
    case Map.fetch(stock, sku) do
      {:ok, %{on_hand: on_hand, reserved: reserved}} -> on_hand - reserved
      :error -> 0
    end
  end

  defp adjust(state, sku, field, delta) do
    update_in(state, [:stock, Access.key(sku, %{on_hand: 0, reserved: 0}), field], &(&1 + delta))
  end

  defp schedule_sweep(:infinity), do: :ok

  defp schedule_sweep(interval) when is_integer(interval) and interval > 0 do
    Process.send_after(self(), :sweep_expired, interval)
    :ok
  end
end
