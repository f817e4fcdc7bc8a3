"""Settings are read once and refused loudly when wrong."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_appsettings

from pyramid_dbsession import DBSessionFactory
from pyramid_dbsession.codec import JSONSerializer, PickleSerializer
from pyramid_dbsession.errors import SettingsError
from pyramid_dbsession.plan import Policy
from pyramid_dbsession.settings import FOLLOW_TIMEOUT, parse_settings, settings_from_options
from pyramid_dbsession.wsgi import SessionMiddleware

SECRET = "settings-test-secret-long-enough-to-sign"
OLD_SECRET = "settings-test-older-secret-that-still-verifies"
PASSPHRASE = "correct horse battery staple and then some"
BASE = {"dbsession.url": "sqlite://", "dbsession.secret": SECRET}


class UpperSerializer:
    """A serializer named by dotted path in a test."""

    def dumps(self, obj):
        return repr(obj).encode()

    def loads(self, data):
        return eval(data)  # only ever fed its own output in the test


def parse(**extra):
    return parse_settings({**BASE, **{f"dbsession.{key}": value for key, value in extra.items()}})


def include(**extra):
    """Include the add-on with ``BASE`` and ``extra`` settings, named without their prefix."""
    config = Configurator(settings={**BASE, **{f"dbsession.{key}": value for key, value in extra.items()}})
    config.include("pyramid_dbsession")


def test_defaults_match_the_readme():
    settings = parse()
    assert (settings.cookie_name, settings.cookie_path, settings.cookie_domain) == ("session", "/", None)
    assert (settings.cookie_secure, settings.cookie_httponly, settings.cookie_samesite) == ("auto", True, "Lax")
    assert settings.cookie_max_age is FOLLOW_TIMEOUT
    assert (settings.timeout, settings.reissue_time, settings.absolute_timeout) == (1209600, 120960, None)
    assert settings.detect_changes is True and settings.create_table is False
    assert isinstance(settings.serializer, PickleSerializer)
    assert settings.max_size == 1048576
    assert settings.sqlite_wal is True and settings.synchronous_commit is True


def test_merge_conflicts_is_on_by_default_and_reaches_the_plan_policy():
    policies = [Policy.from_settings(parse()), Policy.from_settings(parse(merge_conflicts="off"))]
    assert [policy.merge_conflicts for policy in policies] == [True, False]


def test_reissue_time_defaults_to_a_tenth_of_the_timeout():
    assert parse(timeout="3600").reissue_time == 360


def test_secrets_one_per_line_are_kept_in_order():
    assert parse(secret=f"\n{SECRET}\n\n   {OLD_SECRET}  \n").secrets == (SECRET, OLD_SECRET)


def test_secret_lines_of_an_ini_value_are_the_secrets(tmp_path):
    ini = tmp_path / "app.ini"
    ini.write_text(
        "[app:main]\nuse = egg:pyramid_dbsession\ndbsession.url = sqlite://\n"
        f"dbsession.secret =\n    {PASSPHRASE}\n    {OLD_SECRET}\n"
    )
    assert parse_settings(get_appsettings(str(ini))).secrets == (PASSPHRASE, OLD_SECRET)


def test_secret_passphrase_with_spaces_is_one_secret():
    assert parse(secret=PASSPHRASE).secrets == (PASSPHRASE,)


@pytest.mark.parametrize("secrets", [[SECRET, PASSPHRASE], (SECRET, PASSPHRASE)], ids=["list", "tuple"])
def test_secret_list_from_python_keeps_each_item_as_one_secret(secrets):
    assert settings_from_options("sqlite://", secrets, {}).secrets == (SECRET, PASSPHRASE)


def test_secret_shorter_than_32_characters_names_its_line_not_its_value():
    with pytest.raises(SettingsError, match=r"^dbsession\.secret line 2 must be at least 32 characters, got 6$"):
        parse(secret=f"{SECRET}\n\n s3cret ")


def test_secret_list_item_shorter_than_32_characters_names_the_item():
    with pytest.raises(SettingsError, match=r"^dbsession\.secret item 2 must be at least 32 characters, got 31$"):
        settings_from_options("sqlite://", [SECRET, "x" * 31], {})


def test_secret_list_item_not_a_string_is_an_error():
    with pytest.raises(SettingsError, match=r"^dbsession\.secret item 1 must be a string, got bytes$"):
        settings_from_options("sqlite://", [SECRET.encode()], {})


def test_secret_of_blank_lines_is_required():
    with pytest.raises(SettingsError, match=r"dbsession\.secret is required: one secret of at least 32 characters"):
        parse(secret="\n   \n")


def test_url_falls_back_to_sqlalchemy_url_with_its_engine_options():
    settings = parse_settings(
        {"dbsession.secret": SECRET, "sqlalchemy.url": "sqlite:///app.db", "sqlalchemy.pool_recycle": "60"}
    )
    assert settings.url == "sqlite:///app.db" and settings.engine_options == {"pool_recycle": "60"}


def test_engine_options_come_from_the_engine_prefix():
    settings = parse_settings({**BASE, "dbsession.engine.pool_size": "3"})
    assert settings.engine_options == {"pool_size": "3"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("none", None),
        ("None", None),
        ("0", 0),
        ("30", 30),
        ("-1", -1),
        ("true", True),
        ("False", False),
        ("yes", "yes"),
        ("1.5", "1.5"),
        ("require", "require"),
        (" -c search_path=app ", "-c search_path=app"),
        (7, 7),
        (None, None),
    ],
)
def test_connect_args_value_is_converted_from_its_word(raw, expected):
    settings = parse_settings({**BASE, "dbsession.engine.connect_args.arg": raw})
    assert settings.engine_options["connect_args"] == {"arg": expected}
    assert type(settings.engine_options["connect_args"]["arg"]) is type(expected)


def test_connect_args_names_are_gathered_into_one_dict_beside_the_other_options():
    settings = parse_settings(
        {
            **BASE,
            "dbsession.engine.pool_size": "3",
            "dbsession.engine.connect_args.prepare_threshold": "none",
            "dbsession.engine.connect_args.connect_timeout": "10",
        }
    )
    expected = {"pool_size": "3", "connect_args": {"prepare_threshold": None, "connect_timeout": 10}}
    assert settings.engine_options == expected


def test_connect_args_with_the_sqlalchemy_url_fallback_come_from_the_sqlalchemy_prefix():
    settings = parse_settings(
        {"dbsession.secret": SECRET, "sqlalchemy.url": "sqlite:///app.db", "sqlalchemy.connect_args.timeout": "5"}
    )
    assert settings.engine_options == {"connect_args": {"timeout": 5}}


def test_engine_options_with_the_sqlalchemy_url_fallback_are_overridden_by_the_engine_prefix():
    settings = parse_settings(
        {
            "dbsession.secret": SECRET,
            "sqlalchemy.url": "sqlite:///app.db",
            "sqlalchemy.pool_recycle": "60",
            "sqlalchemy.pool_size": "10",
            "sqlalchemy.connect_args.timeout": "5",
            "dbsession.engine.pool_size": "2",
            "dbsession.engine.connect_args.prepare_threshold": "none",
        }
    )
    expected = {"pool_recycle": "60", "pool_size": "2", "connect_args": {"timeout": 5, "prepare_threshold": None}}
    assert settings.engine_options == expected


def test_connect_args_dict_from_python_merges_with_the_name_keys_which_win():
    settings = parse_settings(
        {
            **BASE,
            "dbsession.engine.connect_args.prepare_threshold": "none",
            "dbsession.engine.connect_args": {"prepare_threshold": 5, "application_name": "shop"},
        }
    )
    assert settings.engine_options == {"connect_args": {"prepare_threshold": None, "application_name": "shop"}}


def test_connect_args_as_one_string_is_an_error_showing_the_name_form_not_the_value():
    with pytest.raises(
        SettingsError,
        match=r"^dbsession\.engine\.connect_args must be given one argument per setting, as "
        r"dbsession\.engine\.connect_args\.NAME = VALUE \(e\.g\. .*\), got a str$",
    ):
        parse_settings({**BASE, "dbsession.engine.connect_args": '{"password": "hunter2"}'})


def test_connect_args_key_without_a_name_is_an_error():
    with pytest.raises(SettingsError, match=r"^dbsession\.engine\.connect_args\. must name a connect\(\) argument"):
        parse_settings({**BASE, "dbsession.engine.connect_args.": "1"})


def test_missing_url_names_both_settings():
    with pytest.raises(SettingsError, match=r"dbsession\.url or sqlalchemy\.url"):
        parse_settings({"dbsession.secret": SECRET})


def test_missing_secret_is_an_error():
    with pytest.raises(SettingsError, match=r"dbsession\.secret is required"):
        parse_settings({"dbsession.url": "sqlite://"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timeout", "two weeks", r"dbsession\.timeout must be a whole number, got 'two weeks'"),
        ("timeout", "0", r"dbsession\.timeout must be at least 1, got 0"),
        ("reissue_time", "-1", r"dbsession\.reissue_time must be at least 0, got -1"),
        ("absolute_timeout", "soon", r"dbsession\.absolute_timeout must be a whole number, got 'soon'"),
        ("cookie_samesite", "loose", r"dbsession\.cookie_samesite must be 'strict', 'lax' or 'none', got 'loose'"),
        ("cookie_secure", "ture", r"dbsession\.cookie_secure must be true or false .*got 'ture'"),
        # A name no module has: "yaml" names PyYAML where myst-parser is installed.
        ("serializer", "nocodec", r"dbsession\.serializer must be 'pickle', 'json' or a dotted name, got 'nocodec'"),
        ("serializer", "json.JSONDecodeError", r"dbsession\.serializer must name an object with dumps\(\)"),
        ("max_size", "big", r"dbsession\.max_size must be a whole number, got 'big'"),
        ("merge_conflicts", "sometimes", r"dbsession\.merge_conflicts must be true or false .*got 'sometimes'"),
        ("sqlite_wal", "ture", r"dbsession\.sqlite_wal must be true or false .*got 'ture'"),
        ("synchronous_commit", "local", r"dbsession\.synchronous_commit must be true or false .*got 'local'"),
    ],
)
def test_bad_value_names_the_setting_and_the_value(key, value, message):
    with pytest.raises(SettingsError, match=message):
        parse(**{key: value})


def test_unknown_setting_suggests_the_close_one():
    with pytest.raises(
        SettingsError, match=r"unknown setting 'dbsession\.cookie_secre' \(did you mean 'dbsession\.cookie_secure'\?\)"
    ):
        parse(cookie_secre="true")


@pytest.mark.parametrize(
    ("raw", "expected"), [("yes", True), ("On", True), ("1", True), ("no", False), ("OFF", False), ("0", False)]
)
def test_booleans_accept_the_usual_words(raw, expected):
    assert parse(cookie_secure=raw).cookie_secure is expected


def test_samesite_is_normalised():
    assert parse(cookie_samesite="strict").cookie_samesite == "Strict"


def test_host_prefixed_cookie_name_with_secure_root_path_and_no_domain_is_accepted():
    assert parse(cookie_name="__Host-session", cookie_secure="true").cookie_name == "__Host-session"


def test_secure_prefixed_cookie_name_with_secure_allows_path_and_domain():
    settings = parse(cookie_name="__Secure-session", cookie_secure="true", cookie_path="/app", cookie_domain="a.test")
    assert (settings.cookie_name, settings.cookie_path, settings.cookie_domain) == (
        "__Secure-session",
        "/app",
        "a.test",
    )


def test_samesite_none_with_secure_is_accepted():
    assert parse(cookie_samesite="none", cookie_secure="true").cookie_samesite == "None"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"cookie_name": "__Host-session", "cookie_secure": "false"},
            r"dbsession\.cookie_name '__Host-session' requires dbsession\.cookie_secure = true, got False",
        ),
        (
            {"cookie_name": "__Host-session", "cookie_secure": "true", "cookie_path": "/app"},
            r"dbsession\.cookie_name '__Host-session' requires dbsession\.cookie_path = /, got '/app'",
        ),
        (
            {"cookie_name": "__Host-session", "cookie_secure": "true", "cookie_domain": "example.com"},
            r"dbsession\.cookie_name '__Host-session' requires no dbsession\.cookie_domain, got 'example\.com'",
        ),
        (
            {"cookie_name": "__host-session", "cookie_secure": "false"},
            r"dbsession\.cookie_name '__host-session' requires dbsession\.cookie_secure = true, got False",
        ),
        (
            {"cookie_name": "__Secure-session", "cookie_secure": "no"},
            r"dbsession\.cookie_name '__Secure-session' requires dbsession\.cookie_secure = true, got False",
        ),
        (
            {"cookie_samesite": "None", "cookie_secure": "false"},
            r"dbsession\.cookie_samesite = none requires dbsession\.cookie_secure = true .*, got False",
        ),
    ],
    ids=["host-insecure", "host-path", "host-domain", "host-lower-case", "secure-insecure", "samesite-none"],
)
def test_cookie_attributes_browsers_refuse_name_the_settings_involved(extra, message):
    with pytest.raises(SettingsError, match=f"^{message}$"):
        parse(**extra)


def test_factory_options_with_a_host_prefix_without_secure_are_an_error():
    with pytest.raises(SettingsError, match=r"dbsession\.cookie_name '__Host-s' requires dbsession\.cookie_secure"):
        DBSessionFactory("sqlite://", SECRET, cookie_name="__Host-s", cookie_secure=False)


def test_middleware_options_with_samesite_none_without_secure_are_an_error():
    with pytest.raises(SettingsError, match=r"dbsession\.cookie_samesite = none requires dbsession\.cookie_secure"):
        SessionMiddleware(
            lambda environ, start_response: [], "sqlite://", SECRET, cookie_samesite="none", cookie_secure=False
        )


def test_cookie_max_age_none_means_a_browser_session_cookie():
    assert parse(cookie_max_age="none").cookie_max_age is None


def test_json_serializer_by_name():
    assert isinstance(parse(serializer="json").serializer, JSONSerializer)


def test_serializer_by_dotted_name():
    assert isinstance(parse(serializer="tests.test_settings.UpperSerializer").serializer, UpperSerializer)


def test_include_turns_a_bad_setting_into_a_configuration_error():
    config = Configurator(settings={**BASE, "dbsession.timeout": "forever"})
    with pytest.raises(ConfigurationError, match=r"dbsession\.timeout must be a whole number, got 'forever'"):
        config.include("pyramid_dbsession")


def test_include_with_a_short_secret_is_a_configuration_error():
    config = Configurator(settings={**BASE, "dbsession.secret": PASSPHRASE[:20]})
    with pytest.raises(ConfigurationError, match=r"dbsession\.secret line 1 must be at least 32 characters, got 20"):
        config.include("pyramid_dbsession")


def test_include_with_a_host_prefix_on_a_subpath_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"'__Host-session' requires dbsession\.cookie_path = /, got '/shop'"):
        include(cookie_name="__Host-session", cookie_secure="true", cookie_path="/shop")


def test_include_without_any_url_is_a_configuration_error():
    config = Configurator(settings={"dbsession.secret": SECRET})
    with pytest.raises(ConfigurationError, match=r"dbsession\.url or sqlalchemy\.url"):
        config.include("pyramid_dbsession")


@pytest.mark.parametrize(("raw", "expected"), [("off", False), ("false", False), ("on", True)])
def test_commit_settings_read_as_booleans(raw, expected):
    settings = parse(sqlite_wal=raw, synchronous_commit=raw)
    assert (settings.sqlite_wal, settings.synchronous_commit) == (expected, expected)


def test_synchronous_commit_off_with_request_dbsession_is_an_error():
    with pytest.raises(
        SettingsError,
        match=r"^dbsession\.synchronous_commit = off cannot be used with dbsession\.request_dbsession: .*'dbsession'$",
    ):
        parse(synchronous_commit="off", request_dbsession="dbsession")


def test_include_with_synchronous_commit_off_and_request_dbsession_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match=r"dbsession\.synchronous_commit = off cannot be used with"):
        include(url="postgresql+psycopg://app@db/app", synchronous_commit="off", request_dbsession="dbsession")


def test_factory_with_synchronous_commit_off_on_sqlite_is_an_error():
    with pytest.raises(
        SettingsError, match=r"^dbsession\.synchronous_commit = off works on PostgreSQL only, got a 'sqlite' database$"
    ):
        DBSessionFactory("sqlite://", SECRET, synchronous_commit=False)
