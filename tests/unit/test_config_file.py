"""config.toml as a person writes it: comments, order and formatting survive a save,
errors name the file and the key, and ``[keys]`` is read either way TOML allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from mqchat.config.profiles import ConfigError, Profile, load_config, save_profile

WRITTEN_BY_HAND = """\
# My mqchat setup.
#   (kept by hand; mqchat adds profiles at the end)

default_profile = "work"   # the usual one

# --- work ---
[profiles.work]
broker = "mqtts://mq.example.com"  # the company broker
user   = "alice"
keepalive = 30

# --- home, on the Raspberry Pi ---
[profiles."pi.home"]
broker = 'mqtt://pi.local'
user = "al"

# key bindings
[keys]
"app.quit" = "ctrl+x"   # muscle memory
"""


def test_a_new_profile_leaves_every_byte_before_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(WRITTEN_BY_HAND, encoding="utf-8")
    save_profile(path, "club", Profile(broker="mqtt://club.example", display_name="Al"))
    text = path.read_text(encoding="utf-8")
    assert text == WRITTEN_BY_HAND + '\n[profiles.club]\nbroker = "mqtt://club.example"\n' + (
        'display_name = "Al"\n'
    )
    config = load_config(path)
    assert list(config.profiles) == ["work", "pi.home", "club"]
    assert config.keys == {"app.quit": "ctrl+x"}
    assert not path.with_name("config.toml.partial").exists()


def test_replacing_a_profile_edits_it_in_place_and_keeps_its_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(WRITTEN_BY_HAND, encoding="utf-8")
    save_profile(
        path, "work", Profile(broker="mqtts://mq2.example.com", user="alice", insecure=True)
    )
    text = path.read_text(encoding="utf-8")
    was = 'broker = "mqtts://mq.example.com"  # the company broker\nuser   = "alice"\n'
    now = 'broker = "mqtts://mq2.example.com"  # the company broker\nuser   = "alice"\n'
    assert text == WRITTEN_BY_HAND.replace(was + "keepalive = 30\n", now + "insecure = true\n")
    save_profile(
        path, "work", Profile(broker="mqtts://mq2.example.com", user="alice"), make_default=True
    )
    assert "insecure" not in path.read_text(encoding="utf-8")
    assert '"work"   # the usual one' in path.read_text(encoding="utf-8")


def test_a_first_profile_starts_a_file_that_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    save_profile(path, "a", Profile(user="a"), make_default=True)
    assert path.read_text(encoding="utf-8") == (
        "# mqchat connection profiles (no passwords here: see the README).\n"
        'default_profile = "a"\n\n[profiles.a]\nuser = "a"\n'
    )


def test_an_inline_profiles_table_gets_one_more_entry(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('profiles = { a = { user = "a" } }\n', encoding="utf-8")
    save_profile(path, "b", Profile(user="b"))
    assert load_config(path).profiles == {"a": Profile(user="a"), "b": Profile(user="b")}


def test_saving_refuses_a_broken_file_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[profiles.a]\nkeepalive = 'x'  # oops\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"profiles\.a\.keepalive: expected an integer"):
        save_profile(path, "b", Profile(user="b"))
    assert path.read_text(encoding="utf-8") == "[profiles.a]\nkeepalive = 'x'  # oops\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            '[profiles."my.work"]\nkeepalive = "x"\n',
            'profiles."my.work".keepalive: expected an integer, got "x"',
        ),
        ("[profiles.w]\ninsecure = 1\n", "profiles.w.insecure: expected true or false, got 1"),
        ("[profiles.w]\nuser = 7\n", "profiles.w.user: expected a string, got 7"),
        ("[profiles]\nw = 'x'\n", 'profiles.w: expected a table, got "x"'),
        (
            "[profile.w]\nuser = 'a'\n",
            "unknown key 'profile' (known: default_profile, profiles, keys, ui, inspector)",
        ),
        ("[keys]\n'app.quit' = 3\n", 'keys."app.quit": expected a key such as "ctrl+x", got 3'),
        ("[profiles.w]\nbroker = 'mqtt://h:99999'\n", "profiles.w.broker: invalid broker URL"),
        ("keys = 'x'\n", 'keys: expected a table, got "x"'),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_keys_may_be_quoted_or_dotted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"app.quit" = "ctrl+x"\nfriends.add = "n"\n', encoding="utf-8")
    assert load_config(path).keys == {"app.quit": "ctrl+x", "friends.add": "n"}
