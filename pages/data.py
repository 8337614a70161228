"""Data: pick a generator (or upload a CSV), see the sequences, their shape and the split."""

import streamlit as st

from pages.ui import dataview, runs, session, state, textview, widgets
from pages.ui.safe import md
from seqcore import csvseries
from seqcore.config import ConfigError
from seqcore.data import DataError, load_csv
from seqcore.tasks import SPLIT_FIELDS, TASKS, TEXT, TOKENS

state.ensure_widgets()
state.show_notices()
st.title("Data")
st.caption("Choose what the network learns. Token tasks predict a token at every step (the next one, or one "
           "seen earlier); text predicts the next character; series predict the next values of a curve.")

experiment = state.experiment()
config = experiment.data

settings, preview = st.columns([1, 2], gap="large")
no_preview = None  # why the preview would show something else than what the settings ask for
with settings:
    widgets.field("data", "generator")
    # The config refuses the csv generator until a column is named, so offer the upload as soon as the widget
    # asks for csv: the upload names a column, which cures the pending generator change.
    wanted = TASKS.get(st.session_state.get(session.widget_key("data", "generator")), config.task)
    upload_task = next((t for t in (config.task, wanted) if t.needs_upload), None)
    if upload_task is not None:
        upload_mb = state.limits().upload_mb
        upload = st.file_uploader(f"CSV file (up to {upload_mb} MB)", type=["csv", "txt", "tsv"], key="csv_upload",
                                  max_upload_size=upload_mb,
                                  help="A file with a header row and at least one numeric column. "
                                       "Comma, semicolon, tab or pipe delimited.")
        if upload is not None and (session.CSV not in st.session_state
                                   or st.session_state[session.CSV]["name"] != upload.name):
            try:
                raw = upload.getvalue()
                frame = load_csv(raw, max_bytes=upload_mb * 2**20)
                columns, times = csvseries.value_columns(frame), csvseries.time_columns(frame)
                state.store_csv(upload.name, raw, frame, columns, times)
                # The columns a shared link or a reopened run names, where the file has them; else the likeliest.
                keep = config.csv_column in columns and (config.time_column in times or not config.time_column)
                if columns and not keep:
                    for name, value in (("csv_column", columns[0]), ("time_column", times[0] if times else "")):
                        st.session_state[session.widget_key("data", name)] = value
                        state.on_widget_change("data", name)
                    st.rerun()
            except DataError as err:
                st.error(f"This file cannot be used: {md(err)}")
                no_preview = "No preview: the uploaded file cannot be used (see why on the left)."
        uploaded = st.session_state.get(session.CSV)
        if uploaded:
            st.caption(f"Using **{md(uploaded['name'])}** ({len(uploaded['frame'])} rows).")
            widgets.field("data", "csv_column", options=uploaded["columns"])
            widgets.field("data", "time_column", options=["", *uploaded.get("times", [])])
            widgets.fields("data", [n for n in upload_task.fields if n not in ("csv_column", "time_column")],
                           columns=1)
        else:
            st.info("Upload a CSV file to learn one of its columns. Links never carry files, so after opening "
                    "a shared link upload the file again.")
            no_preview = no_preview or "The preview shows your file once it is uploaded."
    else:
        widgets.fields("data", config.task.fields, columns=1)
        if config.upload_kind == "text":
            textview.own_text_input()
            if state.own_text() is None:
                no_preview = "The preview shows your text once it is pasted or uploaded."
    with st.expander("Split and seed", expanded=False):
        widgets.fields("data", SPLIT_FIELDS, columns=1)

with preview:
    data = None
    if no_preview:
        st.info(no_preview)
    else:
        try:
            data = runs.session_data()
        except (ConfigError, DataError) as err:
            st.error(f"These settings give no usable data: {md(err)}")
    if data is not None:
        with st.container(key="data_preview"):
            if data.task.kind is TOKENS:
                st.markdown("**The first sequences** (one row each, a column per step)")
                st.html(dataview.token_table_html(data.tokens))
            elif data.task.kind is TEXT:
                textview.preview(data)
            else:
                st.plotly_chart(dataview.preview_figure(data))
        for note in data.notes:  # what was done to a person's data on the way: missing values, differencing
            st.info(note, icon=":material/info:")
        values, digest = state.uploaded()
        dataview.describe(data, config, key=f"{config}:{digest}")
        if data.task.kind is TEXT:
            st.download_button("Download the text (UTF-8)", data.text.text.encode("utf-8"), file_name="text.txt",
                               mime="text/plain", on_click="ignore")
        else:  # the CSV is made when the button is pressed, not on every run of the page
            st.download_button("Download the data (CSV)", lambda: dataview.data_csv(data, config),
                               file_name=f"{config.generator}.csv", mime="text/csv", on_click="ignore")
    elif not config.task.needs_upload and not no_preview:
        st.caption("The previous valid data is kept for training until the settings are fixed.")

st.page_link("pages/train.py", label="Next: choose a model and train it", icon=":material/arrow_forward:")
