defmodule Inventory.PricingTest do
  use ExUnit.Case, async: true
  use ExUnitProperties

  alias Inventory.{Item, Priceable, Pricing}

  doctest Inventory.Pricing

  setup do
    {:ok, kite} = Item.new(sku: "TOY-0001", name: "Kite", price_cents: 1_299)
    %{kite: kite}
  end

  describe "line_total/3" do
    test "multiplies without discounts" do
      assert Pricing.line_total(250, 4) == 1_000
    end

    test "applies discounts in order" do
      # 10% off 2000 is 1800, then 500 off leaves 1300
      assert Pricing.line_total(1_000, 2, [{:percent, 10}, {:fixed, 500}]) == 1_300
    end

    test "bulk discounts only kick in from the minimum quantity" do
      assert Pricing.line_total(100, 9, [{:bulk, 10, 20}]) == 900
      assert Pricing.line_total(100, 10, [{:bulk, 10, 20}]) == 800
    end
  end

  describe "Inventory.Priceable" do
    test "is implemented for items and plain maps", %{kite: kite} do
      assert Priceable.unit_price(kite) == 1_299
      assert Priceable.unit_price(%{price_cents: 450}) == 450
      assert Priceable.unit_price(%{"price_cents" => 75}) == 75
      assert_raise ArgumentError, fn -> Priceable.unit_price(%{price: 1}) end
    end

    test "order_total/2 mixes items and maps", %{kite: kite} do
      lines = [{kite, 2}, {%{price_cents: 402}, 1}]
      assert Pricing.order_total(lines) == 3_000
      assert Pricing.order_total(lines, [{:percent, 50}]) == 1_500
    end
  end

  test "format_cents/2 pads the fraction and keeps the sign" do
    assert Pricing.format_cents(1_299) == "$12.99"
    assert Pricing.format_cents(5, symbol: "") == "0.05"
    assert Pricing.format_cents(-250, symbol: "€") == "-€2.50"
  end

  property "discounts never raise a total or push it below zero" do
    check all unit_price <- non_negative_integer(),
              quantity <- positive_integer(),
              pct <- integer(0..100),
              off <- non_negative_integer() do
      total = Pricing.line_total(unit_price, quantity, [{:percent, pct}, {:fixed, off}])

      assert total >= 0
      assert total <= unit_price * quantity
    end
  end
end
