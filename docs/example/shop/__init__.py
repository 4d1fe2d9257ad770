"""A small aiohttp-style service with the seven asyncio pitfalls in it: try `asyncsense check docs/example`."""
