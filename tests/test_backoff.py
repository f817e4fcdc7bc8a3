"""A replay waits a short random time first, up to ``dbsession.retry_jitter`` seconds."""

from __future__ import annotations

import sys

import pytest
from pyramid.config import Configurator

from pyramid_dbsession import SettingsError
from pyramid_dbsession.backoff import RetryPause
from pyramid_dbsession.settings import parse_settings

SECRET = {"dbsession.secret": "a-secret-of-thirty-two-characters-or-more", "dbsession.url": "sqlite://"}


def test_retry_pause_sleeps_a_random_fraction_of_its_bound():
    slept: list[float] = []
    RetryPause(0.2, sleep=slept.append, draw=lambda: 0.25)(object())
    assert slept == [0.05]


def test_retry_jitter_defaults_to_fifty_milliseconds():
    assert parse_settings(SECRET).retry_jitter == 0.05


@pytest.mark.parametrize("raw, value", [("0.2", 0.2), (" 1 ", 1.0), ("0", 0.0), (0.01, 0.01)])
def test_retry_jitter_reads_seconds(raw, value):
    assert parse_settings({**SECRET, "dbsession.retry_jitter": raw}).retry_jitter == value


@pytest.mark.parametrize("raw", ["-0.1", "soon", "nan", "inf", True, None])
def test_retry_jitter_refuses_anything_but_seconds(raw):
    with pytest.raises(SettingsError, match=r"^dbsession\.retry_jitter must be seconds"):
        parse_settings({**SECRET, "dbsession.retry_jitter": raw})


def registered_pauses(settings: dict[str, str]) -> list[float]:
    """The bounds of the retry pauses ``config.include('pyramid_dbsession')`` subscribed."""
    with Configurator(settings={**SECRET, **settings}) as config:
        config.include("pyramid_dbsession")
    subscribers = [
        entry["introspectable"]["subscriber"] for entry in config.registry.introspector.get_category("subscribers", [])
    ]
    return [subscriber.bound for subscriber in subscribers if isinstance(subscriber, RetryPause)]


def test_include_pauses_before_each_replay():
    assert registered_pauses({"dbsession.retry_jitter": "0.1"}) == [0.1]


def test_zero_retry_jitter_adds_no_pause():
    assert registered_pauses({"dbsession.retry_jitter": "0"}) == []


def test_include_without_pyramid_retry_adds_no_pause(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyramid_retry", None)  # as if it were not installed
    assert registered_pauses({"dbsession.retry_jitter": "0.1"}) == []
