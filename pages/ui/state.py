"""The dashboard's session state: the experiment and its widgets, the URL, the uploaded CSV.

One valid `Experiment` lives in the session. Widgets write into it through
`on_change` callbacks; a value the config refuses leaves the experiment as it
was and shows an inline error. Every valid change is written to the URL, so
the address bar is always a share link.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from pages.ui import compat
from pages.ui.safe import md
from pages.ui.session import (
    BOARD_PARAM,
    CSV,
    ERRORS,
    EXPERIMENT,
    NOTICES,
    PRESET_CHOICE,
    REFUSED,
    RUN_PARAM,
    TEXT,
    widget_key,
)
from seqcore import limits as run_limits
from seqcore.config import SECTIONS, ConfigError, Experiment, differences, preset


def init_session() -> None:
    """Every run: on the session's first, the experiment from the URL (or the defaults, with a warning for bad
    parameters); then the URL from the experiment."""
    if EXPERIMENT not in st.session_state:
        # A query string, not a dict of lists: Experiment.from_query_lenient keeps the valid settings of a
        # string, but drops every list value (it cannot tell one value from a repeated key).
        query = urlencode([(key, value) for key in st.query_params if key not in (RUN_PARAM, BOARD_PARAM)
                           for value in st.query_params.get_all(key)])
        experiment, problems = Experiment.from_query_lenient(query)
        experiment, lowered = run_limits.clamp(experiment, limits())
        problems += lowered
        st.session_state[EXPERIMENT] = experiment
        st.session_state[ERRORS] = {}
        st.session_state[NOTICES] = []
        if problems:
            shown = problems[:8] + ([f"… and {len(problems) - 8} more"] if len(problems) > 8 else [])
            notice("warning", "This link had settings that could not be used, so defaults stand in for them:\n\n"
                   + "\n".join(f"- {md(p)}" for p in shown))
        sync_widgets(experiment)
    sync_url()


def _hosted_from_secrets() -> bool:
    try:
        return bool(st.secrets.get("hosted", False))
    except Exception:  # no secrets file at all: Streamlit raises rather than returning the default
        return False


@st.cache_resource(show_spinner=False)
def limits() -> run_limits.Limits:
    """This server's limits: hosted when SEQCORE_HOSTED=1 or `hosted = true` in .streamlit/secrets.toml. The
    upload limit is the server's too from here on (set once, when the first page asks for the limits)."""
    limits = run_limits.active_limits(run_limits.hosted_from_env() or _hosted_from_secrets())
    compat.cap_uploads(limits.upload_mb)
    return limits


def experiment() -> Experiment:
    return st.session_state[EXPERIMENT]


def notice(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTICES, []).append((kind, text))


def show_notices() -> None:
    for kind, text in st.session_state.get(NOTICES, []):
        getattr(st, kind)(text)
    st.session_state[NOTICES] = []


def set_experiment(new: Experiment, *, sync: bool = True) -> None:
    """Make `new` the session's experiment, write it to the URL and (if asked) to every widget."""
    st.session_state[EXPERIMENT] = new
    sync_url()
    if sync:
        st.session_state[ERRORS] = {}
        sync_widgets(new)


def sync_url() -> None:
    """Keep the address bar a share link of the experiment (plus the run token, if any). Streamlit drops the
    query string when the page changes, and a link with bad settings would otherwise keep them."""
    params = experiment().to_query_params()
    for kept in (RUN_PARAM, BOARD_PARAM):
        if st.query_params.get(kept):
            params[kept] = st.query_params.get(kept)
    if {key: st.query_params.get_all(key) for key in st.query_params} != {k: [v] for k, v in params.items()}:
        st.query_params.from_dict(params)


def to_widget(section: str, name: str, value):
    """A setting's value as its widget holds it. Whole numbers live in float boxes: an int box rounds a typed 2.5
    to 2 without a word, a float box hands 2.5 to the check, which says what is allowed."""
    if SECTIONS[section].spec(name)["type"] is int and type(value) is int:
        return float(value)
    return value


def from_widget(section: str, name: str, value):
    """A widget's value as the setting takes it (the inverse of `to_widget` for whole numbers)."""
    if SECTIONS[section].spec(name)["type"] is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sync_widgets(new: Experiment) -> None:
    values = new.to_dict()
    for section, fields in values.items():
        for name, value in fields.items():
            st.session_state[widget_key(section, name)] = to_widget(section, name, value)


def _require_app() -> None:
    """Run the page through app.py even when a page URL was a fresh server's first request.

    A folder named pages/ makes Streamlit start in its old pages-folder mode, which runs the page
    file alone until app.py first calls st.navigation (streamlit/streamlit#10276). Leave that mode
    and rerun: the rerun goes through app.py, which sets the session up and shows the same page.
    """
    if EXPERIMENT not in st.session_state:
        compat.leave_pages_directory_mode()
        st.rerun()


def ensure_widgets() -> None:
    """Give every widget the experiment's value, or the value it was refused for beside its error.

    Streamlit forgets the state of widgets that were not drawn on the last page, and may keep an old copy of
    a value the code once set: a widget came back showing the last preset's value instead of the one in use.
    """
    _require_app()
    errors, refused = st.session_state.get(ERRORS, {}), st.session_state.get(REFUSED, {})
    for section, fields in experiment().to_dict().items():
        for name, value in fields.items():
            key = widget_key(section, name)
            wanted = refused[key] if key in errors and key in refused else to_widget(section, name, value)
            if key not in st.session_state or st.session_state[key] != wanted:
                st.session_state[key] = wanted


def on_widget_change(section: str, name: str) -> None:
    """A widget changed: validate the whole experiment with it, keep the last valid one on error."""
    key = widget_key(section, name)
    errors = st.session_state.setdefault(ERRORS, {})
    refused = st.session_state.setdefault(REFUSED, {})
    try:
        new = experiment().with_values(**{f"{section}.{name}": from_widget(section, name, st.session_state[key])})
        run_limits.check(new, limits())
    except ConfigError as err:
        errors[key], refused[key] = str(err), st.session_state[key]
        return
    errors.pop(key, None)
    # An earlier cross-field error may be cured by this change: re-apply the other pending widget values.
    for other in list(errors):
        _, other_section, other_name = other.split(".")
        try:
            pending = from_widget(other_section, other_name, refused.get(other, st.session_state.get(other)))
            new = new.with_values(**{f"{other_section}.{other_name}": pending})
            errors.pop(other)
        except ConfigError as err:
            errors[other] = str(err)
    set_experiment(new, sync=False)


def load_preset(name: str, variant: Experiment | None = None) -> None:
    """Load preset `name`, or `variant` of it (the preset with some settings changed), and say which."""
    experiment, lowered = run_limits.clamp(variant or preset(name), limits())
    set_experiment(experiment)
    st.session_state[PRESET_CHOICE] = name  # the sidebar's picker shows what was loaded, from any button
    changed = differences(preset(name), variant) if variant is not None else []
    changes = " with " + ", ".join(f"{key} {variant.value(key)}" for key in changed) if changed else ""
    notice("success", f"Loaded the **{name}** preset{changes}." + "".join(f"\n\n{md(m)}." for m in lowered))
    st.session_state["close_sidebar"] = True  # pages.ui.sidebar.CLOSE_SIDEBAR: on a phone, show what it did


def error_for(section: str, name: str) -> str | None:
    return st.session_state.get(ERRORS, {}).get(widget_key(section, name))


def pending_errors() -> list[str]:
    return list(st.session_state.get(ERRORS, {}).values())


def store_csv(name: str, raw: bytes, frame, columns: list[str], times: list[str]) -> None:
    """An uploaded CSV: its value columns (best guess first) and its date or time columns."""
    st.session_state[CSV] = {"name": name, "digest": hashlib.sha256(raw).hexdigest()[:16], "frame": frame,
                             "columns": columns, "times": times}


def store_text(name: str, text: str) -> None:
    """A person's own text (pasted or uploaded, already decoded), kept as the UTF-8 bytes a run carries."""
    from seqcore.text import text_bytes

    raw = text_bytes(text)
    # The digest a run's record computes of the same bytes, so the Data page and the run share one built copy.
    st.session_state[TEXT] = {"name": name, "digest": hashlib.sha256(raw.tobytes()).hexdigest(), "bytes": raw,
                              "chars": len(text)}


MISSING_UPLOAD = {"csv": "data.csv_column: upload a CSV file on the Data page first.",
                  "text": "data.text_source: paste or upload your text on the Data page first (or choose the "
                          "built-in text)."}


def missing_upload() -> str | None:
    """Why the session's experiment cannot train yet for want of a file or a text, or None."""
    kind = experiment().data.upload_kind
    return MISSING_UPLOAD[kind] if kind and uploaded()[0] is None else None


def own_text() -> dict | None:
    """The stored own text (name, digest, bytes, chars), or None."""
    return st.session_state.get(TEXT)


def uploaded() -> tuple[np.ndarray | None, str | None]:
    """What a run of the session's experiment takes besides its settings, and a digest for caching: the chosen
    CSV column's values (with the times of its time column), the person's own text as UTF-8 bytes, or
    (None, None). Raises DataError when the columns cannot be used."""
    from seqcore.csvseries import column_series

    if experiment().data.upload_kind == "text":
        text = own_text()
        return (None, None) if text is None else (text["bytes"], text["digest"])
    upload = st.session_state.get(CSV)
    column, time_column = experiment().data.csv_column, experiment().data.time_column
    if experiment().data.generator != "csv" or upload is None or column not in upload["columns"]:
        return None, None
    return column_series(upload["frame"], column, time_column), f"{upload['digest']}:{column}:{time_column}"

