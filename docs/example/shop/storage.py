"""Sync helpers the async handlers call: the blocking hides two calls down."""

import json
import sqlite3

import requests


def load_profile(user_id: int) -> dict:
    response = requests.get(f"https://profiles.example.com/users/{user_id}", timeout=5)
    return response.json()


def load_settings(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


class OrderRepository:
    def __init__(self, database: str) -> None:
        self.connection = sqlite3.connect(database)

    def fetch(self, order_id: int):
        return self.connection.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()

    def owner_profile(self, order_id: int) -> dict:
        return load_profile(self.fetch(order_id)[1])
