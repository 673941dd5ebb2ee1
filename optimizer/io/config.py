"""Option defaults from a TOML config file (`--config FILE`): top-level keys for every
command that has the option, a table such as `[plan]` for one command.

The command line maps the result onto its options; this module knows nothing of Click.
"""

from __future__ import annotations

import tomllib

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
