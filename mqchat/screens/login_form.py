"""What the login form holds and what it turns into: its four fields are the top layer
of the settings loader, over the profile, environment and flags the command line
gathered; picking a profile swaps the profile layer, saving makes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mqchat.config.broker_url import DEFAULT_BROKER
from mqchat.config.loader import (
    Layer,
    Origin,
    build_settings,
    connection_options,
    form_text,
    picked_profile,
)
from mqchat.config.profiles import Profile
from mqchat.config.settings import DEFAULT_KEEPALIVE, DEFAULT_SESSION_EXPIRY, Settings
from mqchat.core.topics import DEFAULT_NAMESPACE

__all__ = ["LoginDefaults", "settings_from_form"]


@dataclass(frozen=True)
class LoginDefaults:
    """The login form's fields, and the layers of settings under them (what the form
    does not show: TLS files, MQTT version, namespace…)."""

    broker: str = DEFAULT_BROKER
    user: str = ""
    display_name: str = ""
    password: str = field(default="", repr=False)
    data_dir: Path | None = None
    """Folder of the histories; ``None``: what the layers say, else the default."""
    layers: tuple[Layer, ...] = ()
    """Profile < environment < flags, lowest first, as the loader takes them."""
    profiles: dict[str, Profile] = field(default_factory=dict)
    """The config file's profiles, offered above the form."""
    profile: str | None = None
    """The profile in use, if any."""
    config_path: Path | None = None
    """Where a profile is saved (``ctrl+s``); ``None``: saving is off."""

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Layer],
        *,
        password: str | None = None,
        profiles: dict[str, Profile] | None = None,
        profile: str | None = None,
        config_path: Path | None = None,
    ) -> LoginDefaults:
        """The form prefilled from ``layers`` (``password``: one found elsewhere, e.g.
        in the system keyring)."""
        return cls(
            broker=form_text(layers, "broker"),
            user=form_text(layers, "user"),
            display_name=form_text(layers, "display_name"),
            password=password or form_text(layers, "password"),
            layers=tuple(layers),
            profiles=dict(profiles or {}),
            profile=profile,
            config_path=config_path,
        )

    def form_layer(self) -> Layer:
        """The form as the top layer: what is typed wins, even when empty (an empty
        user name is an error, not a fallback), except an empty password."""
        return Layer(
            Origin.FORM,
            broker=self.broker,
            user=self.user,
            display_name=self.display_name,
            password=self.password or None,
            data_dir=self.data_dir,
        )

    def with_profile(self, name: str) -> LoginDefaults:
        """The form filled from profile ``name``: chosen on the login screen, it goes
        over the environment and the flags for what it sets. Raises
        :class:`~mqchat.config.loader.SettingsError` saying which value is wrong."""
        layers = picked_profile(self.layers, self.profiles[name])
        connection_options(layers)  # a wrong value is said now, not at connect time
        return replace(
            self,
            broker=form_text(layers, "broker"),
            user=form_text(layers, "user"),
            display_name=form_text(layers, "display_name"),
            password="",
            layers=layers,
            profile=name,
        )

    def as_profile(self) -> Profile:
        """What :meth:`with_profile` would give back: the form and what lies under it
        that differs from the defaults, never the password. Raises
        :class:`~mqchat.config.loader.SettingsError`."""
        options = connection_options((*self.layers, self.form_layer()))
        tls = options.tls
        return Profile(
            broker=self.broker.strip() or None,
            user=self.user.strip() or None,
            display_name=self.display_name.strip() or None,
            namespace=options.namespace if options.namespace != DEFAULT_NAMESPACE else None,
            mqtt_version=options.mqtt_version,
            keepalive=options.keepalive if options.keepalive != DEFAULT_KEEPALIVE else None,
            session_expiry=(
                str(options.session_expiry)
                if options.session_expiry != DEFAULT_SESSION_EXPIRY
                else None
            ),
            cafile=str(tls.cafile) if tls.cafile else None,
            certfile=str(tls.certfile) if tls.certfile else None,
            keyfile=str(tls.keyfile) if tls.keyfile else None,
            insecure=True if tls.insecure else None,
        ).without_password()


def settings_from_form(form: LoginDefaults) -> Settings:
    """The settings of a login through the loader, or
    :class:`~mqchat.config.loader.SettingsError` with a sentence to show and the
    field it is about. Pure: the system keyring is asked elsewhere, off the loop.
    TLS options under a plain URL are left out (one may type a TLS URL next)."""
    return build_settings((*form.layers, form.form_layer()), strict_tls_flags=False)
