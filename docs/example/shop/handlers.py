"""Request handlers: each one has a mistake that freezes the loop or drops work."""

import asyncio
import json
import time

import aiohttp

from .storage import OrderRepository, load_profile, load_settings


async def send_email(address: str) -> None:
    await asyncio.sleep(0.1)


async def is_ready() -> bool:
    return True


async def profile_handler(user_id: int) -> dict:
    time.sleep(0.5)  # blocking-call: the whole server stops for half a second
    return load_profile(user_id)  # blocking-call through a helper: load_profile -> requests.get


async def order_handler(repo: OrderRepository, order_id: int) -> dict:
    if is_ready():  # unawaited-coroutine: a coroutine object is always true
        send_email("ops@example.com")  # unawaited-coroutine: the email is never sent
    asyncio.create_task(send_email("audit@example.com"))  # dangling-task
    return repo.owner_profile(order_id)  # blocking-call two calls down


async def refresh_all(user_ids: list[int]) -> list:
    try:
        return await asyncio.gather(*(fetch_remote(u) for u in user_ids))  # gather-lost-exceptions
    except ConnectionError:
        return []


async def fetch_remote(user_id: int) -> str:
    session = aiohttp.ClientSession()  # unclosed-async-resource: leaks if get() raises
    async with session.get(f"https://api.example.com/{user_id}") as response:
        text = await response.text()
    await session.close()
    return text


def settings_sync() -> dict:
    return asyncio.run(load_async_settings())


async def load_async_settings() -> dict:
    return load_settings("settings.json")  # blocking-call: open + json.load


async def startup() -> dict:
    return settings_sync()  # nested-asyncio-run: asyncio.run inside a running loop


def parse_order(row: bytes) -> dict:
    return json.loads(row)


async def import_orders(rows: list[bytes]) -> list[dict]:
    orders = []
    for row in rows:  # loop-starvation: millions of rows parsed, no await
        orders.append(parse_order(row))
    return orders
