"""Option defaults from a TOML config file (`--config FILE`): top-level keys for every
command that has the option, a table such as `[plan]` for one command.

`read_config` knows nothing of Click; `set_config` and `set_envvars` hook it (and the
`PACKOPT_<OPTION>` environment variables) into the command line's options.
"""

from __future__ import annotations

import re
import tomllib

import click

from ..exceptions import InputError


def read_config(path: str, known: dict[str, dict[str, str]]) -> dict[str, dict]:
    """{command: {parameter name: value}} from the file at `path`.

    `known` maps each command to its option keys (long flag with '_' for '-') and the
    parameter name each stands for. Keys may be written with '-' or '_'; an unknown key
    or section is an error naming the file.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("config file not found", source=path) from None
    except OSError as e:
        raise InputError(f"cannot read the config file ({e.strerror})", source=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid TOML ({e})", source=path) from None

    everything = set().union(*known.values())
    common, sections = {}, {}
    for raw, value in data.items():
        key = raw.replace("-", "_")
        if isinstance(value, dict):
            if raw not in known:
                raise InputError(f"unknown section [{raw}] (commands: "
                                 f"{', '.join(sorted(known))})", source=path)
            sections[raw] = value
        elif key in everything:
            common[key] = value
        else:
            raise InputError(f"unknown option '{raw}'", source=path)
    out: dict[str, dict] = {}
    for name, keys in known.items():
        values = {keys[k]: v for k, v in common.items() if k in keys}
        for raw, value in sections.get(name, {}).items():
            key = raw.replace("-", "_")
            if key not in keys:
                raise InputError(f"[{name}] has no option '{raw}'", source=path)
            values[keys[key]] = value
        out[name] = values
    return out


def option_key(param: click.Parameter) -> str:
    """An option's name in a config file and the environment: its long flag, '_' for '-'."""
    longs = [o for o in param.opts if o.startswith("--")]
    return (longs[0][2:] if longs else param.name).replace("-", "_")


def config_keys(cmd: click.Command) -> dict[str, str]:
    """A command's option keys in a config file, each with the parameter it sets."""
    return {option_key(p): p.name for p in cmd.params
            if isinstance(p, click.Option) and option_key(p) != "config"}


def set_config(ctx: click.Context, param: click.Parameter, value: str | None):
    """--config: load the file into the default map (of the group or of one command)."""
    if value is None:
        return value
    commands = ctx.find_root().command.commands
    try:
        default_map = read_config(value, {n: config_keys(c) for n, c in commands.items()})
    except InputError as e:          # a usage problem: one line, exit status 2
        error = click.ClickException(re.sub(r"\s*\n\s*", " ", str(e)).strip())
        error.exit_code = e.exit_code
        raise error from None
    if ctx.parent is None:                     # packopt --config FILE <command>
        ctx.default_map = default_map
    else:                                      # packopt <command> --config FILE
        ctx.default_map = default_map.get(ctx.info_name, {})
    return value


def set_envvars(group: click.Group, prefix: str) -> None:
    """Every option can come from the environment: PREFIX<OPTION>, e.g. PACKOPT_FORMAT."""
    for cmd in group.commands.values():
        for p in cmd.params:
            if isinstance(p, click.Option) and p.envvar is None:
                p.envvar = prefix + option_key(p).upper()
