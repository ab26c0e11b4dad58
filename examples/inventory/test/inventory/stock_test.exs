defmodule Inventory.StockTest do
  use ExUnit.Case, async: true

  alias Inventory.Reservation.InsufficientStockError
  alias Inventory.Stock

  setup do
    initial = %{"TOY-0001" => 10, "KIT-0042" => 2}
    stock = start_supervised!({Stock, name: nil, initial: initial, sweep_interval: :infinity})
    %{stock: stock}
  end

  describe "restock/3" do
    test "adds units to a known SKU", %{stock: stock} do
      :ok = Stock.restock(stock, "TOY-0001", 5)
      assert Stock.available(stock, "TOY-0001") == 15
    end

    test "starts tracking an unknown SKU", %{stock: stock} do
      assert Stock.available(stock, "NEW-0001") == 0
      Stock.restock(stock, "NEW-0001", 3)
      assert Stock.available(stock, "NEW-0001") == 3
    end
  end

  describe "reserve/4 and release/2" do
    test "reserving lowers availability until released", %{stock: stock} do
      assert {:ok, reservation} = Stock.reserve(stock, "TOY-0001", 4)
      assert Stock.available(stock, "TOY-0001") == 6
      assert %{"TOY-0001" => %{on_hand: 10, reserved: 4}} = Stock.snapshot(stock)

      assert :ok = Stock.release(stock, reservation.id)
      assert Stock.available(stock, "TOY-0001") == 10
      assert {:error, :not_found} = Stock.release(stock, reservation.id)
    end

    test "refuses to reserve more than is available", %{stock: stock} do
      assert {:error, %InsufficientStockError{requested: 3, available: 2}} =
               Stock.reserve(stock, "KIT-0042", 3)

      assert Stock.available(stock, "KIT-0042") == 2
    end

    test "reserve!/4 raises with a readable message", %{stock: stock} do
      assert_raise InsufficientStockError, ~r/only 2 available/, fn ->
        Stock.reserve!(stock, "KIT-0042", 5)
      end
    end
  end

  describe "expiry" do
    test "expired reservations are swept back into stock", %{stock: stock} do
      {:ok, _short} = Stock.reserve(stock, "TOY-0001", 3, ttl: 0)
      {:ok, _long} = Stock.reserve(stock, "TOY-0001", 2, ttl: 3600)
      assert Stock.available(stock, "TOY-0001") == 5

      send(stock, :sweep_expired)

      assert Stock.available(stock, "TOY-0001") == 8
    end
  end

  test "Inventory.reserve_order/3 is all or nothing", %{stock: stock} do
    assert {:error, %InsufficientStockError{sku: "KIT-0042"}} =
             Inventory.reserve_order(stock, [{"TOY-0001", 4}, {"KIT-0042", 9}])

    assert Stock.available(stock, "TOY-0001") == 10

    assert {:ok, [_toy, _kit]} =
             Inventory.reserve_order(stock, [{"TOY-0001", 4}, {"KIT-0042", 2}])
    assert Stock.available(stock, "KIT-0042") == 0
  end
end
