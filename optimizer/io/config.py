"""Option defaults from a TOML config file (`--config FILE`): top-level keys for every
command that has the option, a table such as `[plan]` for one command.

`read_config` knows nothing of Click; `set_config` and `set_envvars` hook it (and the
`PACKOPT_<OPTION>` environment variables) into the command line's options, and
`value_origin` / `name_origin` say where a bad value came from (the file and key, or the
variable), since Click's own message names only the option.
"""

from __future__ import annotations

import json
import os
import re
import tomllib

import click

from ..exceptions import InputError
from .text import toml_error


ORIGINS = "packopt.config_origins"     # ctx.meta key: {command: {parameter: origin}}


def read_config(path: str, known: dict[str, dict[str, str]],
                origins: dict[str, dict[str, str]] | None = None,
                repeatable: frozenset[str] = frozenset(),
                flags: frozenset[str] | None = None) -> dict[str, dict]:
    """{command: {parameter name: value}} from the file at `path`.

    `known` maps each command to its option keys (long flag with '_' for '-') and the
    parameter name each stands for. Keys may be written with '-' or '_'; an unknown key
    or section is an error naming the file. The parameters in `repeatable` take a list,
    the others one value; `flags` (None: all) are those that take true or false.
    `origins`, if given, receives where each value was written:
    "config file FILE, key 'format'" or "..., [plan] key 'solver'".
    """
    text, data = _document(path)
    everything = set().union(*known.values())
    common, sections, spelled = {}, {}, {}
    for raw, value in data.items():
        key = raw.replace("-", "_")
        if isinstance(value, dict):
            if raw not in known:
                raise InputError(f"unknown section [{raw}] (commands: "
                                 f"{', '.join(sorted(known))})", source=path,
                                 line=_line_of(text, None, raw))
            sections[raw] = value
        elif key in everything:
            if key in spelled:
                raise InputError(f"key '{raw}' repeats '{spelled[key]}' (the same option): "
                                 f"keep one", source=path, line=_line_of(text, raw))
            param = next(keys[key] for keys in known.values() if key in keys)
            common[key] = _shaped(value, raw, f"key '{raw}'", param in repeatable, path,
                                  flags is None or param in flags, _line_of(text, raw))
            spelled[key] = raw
        else:
            raise InputError(f"unknown option '{raw}'", source=path, line=_line_of(text, raw))
    out: dict[str, dict] = {}
    for name, keys in known.items():
        values = {keys[k]: v for k, v in common.items() if k in keys}
        where = {keys[k]: f"config file {path}, key '{spelled[k]}'" for k in common
                 if k in keys}
        seen: dict[str, str] = {}
        for raw, value in sections.get(name, {}).items():
            key = raw.replace("-", "_")
            if key not in keys:
                raise InputError(f"[{name}] has no option '{raw}'", source=path,
                                 line=_line_of(text, raw, name))
            if key in seen:   # (time_limit and time-limit: the last won without a word)
                raise InputError(f"[{name}] key '{raw}' repeats '{seen[key]}' (the same "
                                 f"option): keep one", source=path,
                                 line=_line_of(text, raw, name))
            seen[key] = raw
            values[keys[key]] = _shaped(value, raw, f"[{name}] key '{raw}'",
                                        keys[key] in repeatable, path,
                                        flags is None or keys[key] in flags,
                                        _line_of(text, raw, name))
            where[keys[key]] = f"config file {path}, [{name}] key '{raw}'"
        out[name] = values
        if origins is not None:
            origins[name] = where
    return out


def _shaped(value, raw: str, where: str, repeatable: bool, path: str, flag: bool = True,
            line: int | None = None):
    """`value` of key `raw` (found at `where`) as Click takes it, after checking its shape:
    a list of plain values for a repeatable option, one value for any other. (Click would
    say "Value must be an iterable.", or show a list as Python does: "['json']".) True or
    false for an option that is no yes/no flag (`flag`) is given as the text it is, for
    Click to refuse: as a boolean, `time_limit = true` was a limit of 1 second."""
    if isinstance(value, bool) and not flag:
        return str(value).lower()
    if repeatable:
        if not isinstance(value, list):
            example = json.dumps(value, ensure_ascii=False, default=str)
            raise InputError(f"{where} takes a list (the option is repeatable): write "
                             f"{raw} = [{example}]", source=path, line=line)
        if any(isinstance(v, (list, dict)) for v in value):
            raise InputError(f"{where} takes a list of values, not of lists or tables",
                             source=path, line=line)
    elif isinstance(value, (list, dict)):
        raise InputError(f"{where} takes one value, not a "
                         f"{'list' if isinstance(value, list) else 'table'}", source=path,
                         line=line)
    return _as_typed(value)


def _document(path: str) -> tuple[str, dict]:
    """The config file's text and its TOML read, or an InputError naming its line."""
    try:
        with open(path, "rb") as fh:
            # (a BOM, as Windows' Notepad writes, is not TOML but is no reason to refuse)
            raw_bytes = fh.read().removeprefix(b"\xef\xbb\xbf")
    except FileNotFoundError:
        raise InputError("config file not found", source=path) from None
    except OSError as e:
        raise InputError(f"cannot read the config file ({e.strerror})", source=path) from None
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as e:     # (TOML is UTF-8; the codec's words name no line)
        raise InputError("not UTF-8 text: save it as UTF-8", source=path,
                         line=raw_bytes[:e.start].count(b"\n") + 1) from None
    try:
        return text, tomllib.loads(text)
    except (ValueError, RecursionError) as e:      # (TOMLDecodeError is a ValueError)
        error = toml_error(text, e, path)
        if error is None:
            raise
        raise error from None


def _line_of(text: str, key: str | None, section: str | None = None) -> int | None:
    """The line that sets `key` at the top of a config file or in its [section] (tomllib
    gives no positions), or the section's header line with `key` None."""
    lines = text.splitlines()
    start = 0
    if section is not None:
        head = re.compile(r"\s*\[\s*[\"']?" + re.escape(section) + r"[\"']?\s*\]")
        start = next((i for i, ln in enumerate(lines) if head.match(ln)), None)
        if start is None or key is None:
            return None if start is None else start + 1
        start += 1
    pattern = re.compile(r"\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for i in range(start, len(lines)):
        if lines[i].lstrip().startswith("["):      # (the next table: the key is not here)
            return None
        if pattern.match(lines[i]):
            return i + 1
    return None


def _as_typed(value):
    """A config value as Click converts it: text, as if typed (a number given to a yes/no
    option, `quiet = 2`, then gets Click's own error rather than a crash inside Click);
    true and false stay booleans, a list's items are converted one by one."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, list):
        return [_as_typed(v) for v in value]
    return str(value)


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
    source = click.core.ParameterSource
    if ctx.parent is not None and ctx.get_parameter_source(param.name) is source.ENVIRONMENT \
            and ctx.parent.get_parameter_source(param.name) is source.COMMANDLINE:
        # `packopt --config FILE <command>` with PACKOPT_CONFIG set: the command line wins,
        # so the command's own --config does not read the variable's file over it.
        return None
    commands = ctx.find_root().command.commands
    origins: dict[str, dict[str, str]] = {}
    try:
        repeatable = frozenset(p.name for c in commands.values() for p in c.params
                               if isinstance(p, click.Option) and p.multiple)
        flags = frozenset(p.name for c in commands.values() for p in c.params
                          if isinstance(p, click.Option) and (
                              p.is_flag or isinstance(p.type, click.types.BoolParamType)))
        default_map = read_config(value, {n: config_keys(c) for n, c in commands.items()},
                                  origins, repeatable, flags)
    except InputError as e:          # a usage problem: one line, exit status 2
        error = click.ClickException(re.sub(r"\s*\n\s*", " ", str(e)).strip())
        error.exit_code = e.exit_code
        raise error from None
    if ctx.parent is None:                     # packopt --config FILE <command>
        ctx.default_map = default_map
    else:                                      # packopt <command> --config FILE
        ctx.default_map = default_map.get(ctx.info_name, {})
    ctx.meta[ORIGINS] = origins                # shared with the command's context
    return value


def value_origin(ctx: click.Context | None, param: click.Parameter | None) -> str | None:
    """Where the value of `param` came from when the user did not type it: "environment
    variable PACKOPT_FORMAT" or "config file FILE, key 'format'"; None otherwise."""
    if ctx is None or param is None or param.name is None:
        return None
    source = ctx.get_parameter_source(param.name)
    if source is click.core.ParameterSource.ENVIRONMENT:
        names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
        name = next((n for n in names if n in os.environ), names[0] if names else "?")
        return f"environment variable {name}"
    if source is click.core.ParameterSource.DEFAULT_MAP:
        where = ctx.meta.get(ORIGINS, {}).get(ctx.info_name, {}).get(param.name)
        return where or "config file"
    return None


def name_origin(error: click.UsageError) -> None:
    """Add to Click's "Invalid value for '--format'" where the value came from, when it
    came from the environment or a config file."""
    if isinstance(error, click.BadParameter) and error.param_hint is None:
        where = value_origin(error.ctx, error.param)
        if where is not None:
            error.param_hint = f"{error.param.get_error_hint(error.ctx)} (from {where})"


def named_origins(ctx: click.Context | None, message: str) -> str | None:
    """Where the options a usage error names got their values, when not typed: "--history
    from environment variable PACKOPT_HISTORY" ("give FORECAST or --history HISTORY, not
    both" blamed an option a shell profile had set)."""
    if ctx is None:
        return None
    found = []
    for p in ctx.command.params:
        flag = next((o for o in getattr(p, "opts", ()) if o.startswith("--")), None)
        if flag and re.search(re.escape(flag) + r"(?![\w-])", message):
            where = value_origin(ctx, p)
            if where is not None:
                found.append(f"{flag} from {where}")
    return "; ".join(found) or None


def path_origin(ctx: click.Context | None, source: str | None, values: dict) -> str | None:
    """Where a file named by an error came from, when an option not typed named it (a
    catalog from PACKOPT_CATALOG, holdings from a config file's key)."""
    if ctx is None or not source:
        return None
    for p in ctx.command.params:
        if isinstance(p, click.Option) and values.get(p.name) == source:
            where = value_origin(ctx, p)
            if where is not None:
                return f"{p.opts[0]} from {where}"
    return None


def flag_origin(ctx: click.Context | None, flag: str | None) -> str | None:
    """`value_origin` for the option spelled `flag` (e.g. '--budget') of ctx's command."""
    if ctx is None or not flag or not str(flag).startswith("--"):
        return None
    param = next((p for p in ctx.command.params if flag in getattr(p, "opts", ())), None)
    return value_origin(ctx, param)


def set_envvars(group: click.Group, prefix: str) -> None:
    """Every option can come from the environment: PREFIX<OPTION>, e.g. PACKOPT_FORMAT."""
    for cmd in group.commands.values():
        for p in cmd.params:
            if isinstance(p, click.Option) and p.envvar is None:
                p.envvar = prefix + option_key(p).upper()
