"""Factories that build real rows: users with tokens, deployed content, API helpers."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from service.policy import add_user


@dataclass
class Actor:
    """A user with a real bearer token and a test client to act as them."""
    name: str
    token: str
    client: object

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers={**self.headers, **kw.pop("headers", {})},
                                **kw)


class Users:
    def __init__(self, client):
        self.client = client
        self.made = {}

    def make(self, name, groups=(), authority=None, client=False) -> Actor:
        user, token = add_user(name, groups, authority or {}, client=client)
        actor = Actor(name, token, self.client)
        self.made[name] = actor
        return actor


@pytest.fixture
def users(client):
    return Users(client)


@pytest.fixture
def deployed(app, config):
    """The shipped retail content, deployed as on first start."""
    from service.usecases.deployments import deploy_shipped_content
    with app.app_context():
        return deploy_shipped_content(config)
