"""`cs pricing`: list, set, remove, reset and import model prices."""

from pathlib import Path
from typing import Annotated, Any

from cyclopts import App, Parameter

from .. import output
from ..db import data_home
from ..errors import ConfigError, InvalidInputError
from ..pricing import (
    load_price_book,
    price_to_dict,
    read_user_price_data,
    remove_user_price,
    save_user_price_data,
    set_user_price,
    user_price_key,
    user_pricing_path,
)
from . import JsonFlag, emit

app = App(name="pricing", help="List and change the prices AI calls are costed at.")

Rate = Annotated[str, Parameter(allow_leading_hyphen=True)]
OptionalRate = Annotated[str | None, Parameter(allow_leading_hyphen=True)]


def _path() -> Path:
    return user_pricing_path(data_home())


@app.command(name="list")
def list_prices(*, provider: str | None = None, json: JsonFlag = False) -> None:
    """List every known model price, in USD per million tokens.

    Args:
        provider: Only this provider's models.
        json: Print one JSON document on stdout.
    """
    book = load_price_book()
    models: dict[str, dict[str, Any]] = {}
    for name in sorted(book.sources):
        if provider and name != provider:
            continue
        for model, price in sorted(book.table(name).items()):
            models[model] = {
                "provider": name,
                "source": "built-in",
                **price_to_dict(price),
            }
    for key, price in sorted(book.user_prices.items()):
        owner = key.split("/", 1)[0] if "/" in key else None
        if provider and owner not in (provider, None):
            continue
        models[key] = {"provider": owner, "source": "custom", **price_to_dict(price)}
    payload = {"models": models, "refused": dict(book.refused)}
    emit(payload, json, lambda: _print_table(models))


def _print_table(models: dict[str, dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="Prices, USD per million tokens")
    for column in (
        "Model",
        "Provider",
        "Input",
        "Output",
        "Cache read",
        "Cache write",
        "Source",
    ):
        table.add_column(
            column,
            justify="left" if column in ("Model", "Provider", "Source") else "right",
        )
    for key, entry in models.items():
        table.add_row(
            key,
            entry["provider"] or "any",
            *(
                "-" if entry.get(field) is None else f"{entry[field]}"
                for field in ("input", "output", "cacheRead", "cacheWrite")
            ),
            entry["source"],
        )
    output.console().print(table)


@app.command(name="set")
def set_price(
    model: str,
    input_price: Rate,
    output_price: Rate,
    /,
    *,
    provider: str | None = None,
    cache_read: OptionalRate = None,
    cache_write: OptionalRate = None,
    cache_write_1h: Annotated[
        str | None, Parameter(name="--cache-write-1h", allow_leading_hyphen=True)
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Set a user price, in USD per million tokens; it wins over built-in prices.

    Args:
        model: The model id.
        input_price: Price of input tokens.
        output_price: Price of output tokens.
        provider: Store it as PROVIDER/MODEL, for that provider only.
        cache_read: Price of cached input tokens read (default: the input price).
        cache_write: Price of input tokens written to the cache (default: input).
        cache_write_1h: Price of tokens written to the 1-hour cache.
        json: Print one JSON document on stdout.
    """
    key = user_price_key(model, provider)
    entry = set_user_price(
        key,
        {
            "input": input_price,
            "output": output_price,
            "cacheRead": cache_read,
            "cacheWrite": cache_write,
            "cacheWrite1h": cache_write_1h,
        },
    )
    payload = {"key": key, "price": {k: float(v) for k, v in entry.items()}}
    emit(payload, json, lambda: output.write_stdout(f"Price of {key} set.\n"))


@app.command(name="remove")
def remove_price(
    model: str, *, provider: str | None = None, json: JsonFlag = False
) -> None:
    """Remove a user price; a built-in price of that model applies again.

    Args:
        model: The model id.
        provider: Remove the PROVIDER/MODEL price.
        json: Print one JSON document on stdout.
    """
    key = user_price_key(model, provider)
    if not remove_user_price(key):
        raise InvalidInputError(
            f"no user price for '{key}'", hint="See cs pricing list."
        )
    emit(
        {"removed": key},
        json,
        lambda: output.write_stdout(f"Price of {key} removed.\n"),
    )


@app.command(name="reset")
def reset_prices(*, json: JsonFlag = False) -> None:
    """Remove every user price, back to the built-in table.

    Args:
        json: Print one JSON document on stdout.
    """
    path = _path()
    removed = 0
    if path.exists():
        try:
            removed = len(read_user_price_data(path))
        except ConfigError:
            removed = 0  # a corrupt file is exactly what reset is for
        try:
            path.unlink()
        except OSError as exc:
            raise ConfigError(f"cannot remove {path}: {exc.strerror}") from None
    emit(
        {"removed": removed},
        json,
        lambda: output.write_stdout(f"Removed {removed} user price(s).\n"),
    )


@app.command(name="import")
def import_prices(file: str, *, json: JsonFlag = False) -> None:
    """Import prices from a file in LiteLLM's JSON format (USD per token).

    Args:
        file: The price file.
        json: Print one JSON document on stdout.
    """
    import json as json_module

    from ..pricefile import parse_litellm

    try:
        data = json_module.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(f"cannot read price file {file}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"{file} is not a LiteLLM price file (not a JSON object)"
        )
    entries, skipped = parse_litellm(data, label=Path(file).name)
    stored = read_user_price_data(_path())
    stored.update(entries)
    save_user_price_data(_path(), stored)
    payload = {"imported": len(entries), "skipped": skipped, "file": file}
    emit(
        payload,
        json,
        lambda: output.write_stdout(
            f"Imported {len(entries)} price(s); skipped {skipped}.\n"
        ),
    )
