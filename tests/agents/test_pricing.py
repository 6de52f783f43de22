"""The price table: shipped, overridden, matched by pattern, handed to Inspect."""

from __future__ import annotations

import pytest
from inspect_ai.model import ModelUsage

from rdbench.agents.pricing import load_prices, price_for, usage_cost
from rdbench.errors import UserError


def test_shipped_table_is_valid_and_prices_local_models_at_zero():
    table = load_prices()
    assert table["anthropic/claude-sonnet-4-5"]["output"] == 15.0
    assert price_for("rdbench-local/smollm2-135m", table)["input"] == 0.0
    assert price_for("ollama/llama3.1:8b", table)["output"] == 0.0
    assert price_for("somebody/unknown-model", table) is None
    for prices in table.values():
        assert set(prices) == {"input", "output", "input_cache_read", "input_cache_write"}


def test_override_file_wins_and_cache_prices_default_to_input(tmp_path):
    override = tmp_path / "p.yaml"
    override.write_text(
        "anthropic/claude-sonnet-4-5: {input: 1.0, output: 2.0}\n"
        "'ollama/*': {input: 0.5, output: 0.5}\n"
    )
    table = load_prices(override)
    assert table["anthropic/claude-sonnet-4-5"] == {
        "input": 1.0, "output": 2.0, "input_cache_read": 1.0, "input_cache_write": 1.0
    }
    assert price_for("ollama/llama3.1", table)["input"] == 0.5
    assert table["openai/gpt-4.1"]["input"] == 2.0  # the rest of the shipped table stays


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("m/x: {input: 1}\n", "needs 'input' and 'output'"),
        ("m/x: {input: 1, output: -2}\n", "output must be >= 0"),
        ("m/x: {input: 1, output: 2, discount: 0.5}\n", "unknown field(s) discount"),
        ("- just a list\n", "expected a mapping"),
        ("m/x: {input: [1\n", "not valid YAML"),
    ],
)
def test_bad_price_files(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_prices(path)


def test_usage_cost_prices_every_token_kind():
    prices = {"input": 3.0, "output": 15.0, "input_cache_read": 0.3, "input_cache_write": 3.75}
    usage = ModelUsage(
        input_tokens=1_000_000, output_tokens=100_000, total_tokens=1_100_000,
        input_tokens_cache_read=2_000_000, input_tokens_cache_write=400_000,
    )
    assert usage_cost(usage, prices) == pytest.approx(3.0 + 1.5 + 0.6 + 1.5)
    assert usage_cost({"input_tokens": 1_000_000}, prices) == pytest.approx(3.0)
