"""Key bindings from the config file: the ``[keys]`` table checked against the
bindings of the TUI (an unknown id or something that is not a key is one line, exit
2) and turned into Textual's keymap; and ``mqchat bindings``, which lists every
binding id with its keys. Textual is imported only when a command needs it."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mqchat.cli.base import EXIT_OK, Prepare, Prepared, UsageError
from mqchat.cli.profile import add_profile_options, chosen_profile
from mqchat.config.profiles import Config
from mqchat.config.schema import toml_key

__all__ = [
    "BINDINGS_COMMANDS",
    "BindingInfo",
    "add_bindings_command",
    "key_problem",
    "keymap_from",
]

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_UI_PACKAGES = ("mqchat.screens", "mqchat.widgets")


@dataclass(frozen=True)
class BindingInfo:
    """A binding a user can rebind: its id, default keys and what it does."""

    id: str
    keys: str
    description: str


def known_bindings() -> dict[str, BindingInfo]:
    """Every binding with an id in the apps, screens and widgets, by id."""
    from textual.binding import Binding
    from textual.dom import DOMNode

    for name in ("mqchat.app", "mqchat.inspect_app"):
        importlib.import_module(name)
    for package_name in _UI_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            importlib.import_module(module.name)
    found: dict[str, BindingInfo] = {}
    for cls in _subclasses(DOMNode):
        if not cls.__module__.startswith("mqchat."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id and binding.id not in found:
                what = binding.tooltip or binding.description
                found[binding.id] = BindingInfo(binding.id, binding.key, what)
    return dict(sorted(found.items()))


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def key_problem(keys: str) -> str | None:
    """Why ``keys`` (``"ctrl+x"``, or several: ``"ctrl+x,f10"``) is not something
    Textual can bind, or ``None``."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys, key_to_character

    named = {k.value for k in Keys if not k.value.startswith("<") and "+" not in k.value}
    named |= set(KEY_NAME_REPLACEMENTS.values())
    for part in (p.strip() for p in keys.split(",")):
        if not part:
            return f"{keys!r} holds an empty key"
        *modifiers, base = part.split("+")
        for modifier in modifiers:
            if modifier not in _MODIFIERS:
                return f"{modifier!r} in {part!r} is not a modifier ({', '.join(_MODIFIERS)})"
        single = len(base) == 1 and base.isprintable()
        if not (single or base in named or key_to_character(base) is not None):
            return f"{part!r} is not a key (keys are e.g. x, ctrl+x, f2, escape, question_mark)"
    return None


def keymap_from(config: Config) -> dict[str, str]:
    """The ``[keys]`` of ``config`` as Textual's keymap (binding id → keys). Raises
    :class:`UsageError` naming the file and the key."""
    if not config.keys:
        return {}
    known = known_bindings()
    for binding_id, keys in config.keys.items():
        where = f"{config.path}: {toml_key('keys', binding_id)}"
        if binding_id not in known:
            raise UsageError(f"{where}: no binding has this id (`mqchat bindings` lists them)")
        problem = key_problem(keys)
        if problem is not None:
            raise UsageError(f"{where}: {problem}")
    return dict(config.keys)


def add_bindings_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "bindings",
        help="list the key bindings, and what [keys] of the config file changes",
        description="Every binding of the TUI with its id, its keys (after [keys] of the "
        "config file) and what it does. A [keys] entry rebinds one: "
        '"app.quit" = "ctrl+x".',
    )
    add_profile_options(keys)


def _bindings(args: argparse.Namespace, environ: Mapping[str, str]) -> Prepared:
    config = chosen_profile(args, environ).config
    remapped = keymap_from(config)
    return Prepared(lambda: _print_keys(config, remapped))


def _print_keys(config: Config, remapped: dict[str, str]) -> int:
    rows = [
        (info.id, remapped.get(info.id, info.keys), info.description)
        for info in known_bindings().values()
    ]
    id_width = max(len(row[0]) for row in rows)
    key_width = max(len(row[1]) for row in rows)
    for binding_id, keys, description in rows:
        mark = "  (config)" if binding_id in remapped else ""
        print(f"{binding_id:<{id_width}}  {keys:<{key_width}}  {description}{mark}")
    print(f"\n[keys] of {config.path} rebinds them.", file=sys.stderr)
    return EXIT_OK


BINDINGS_COMMANDS: dict[str, Prepare] = {"bindings": _bindings}
