"""Runs: every run of this browser, kept across restarts; overlay their curves, diff their settings, reopen one."""

import datetime as dt
import io
import zipfile

import pandas as pd
import streamlit as st

from pages.ui import live, runs, session, state
from pages.ui.safe import md
from seqcore import panels
from seqcore.config import differences, preset_label
from seqcore.script import input_files, keras_script
from seqcore.tasks import TEXT, task_named
from seqcore.training import history_csv

MAX_LISTED = 500
MAX_OVERLAID = 10
POINTS_PER_OVERLAY = 2_000  # shared out among the overlaid runs: 10 runs of 1,000 epochs stay within 300 kB


def table(summaries) -> pd.DataFrame:
    rows = []
    for r in summaries:
        model, data = r.experiment.model, r.experiment.data
        rows.append({
            "When": dt.datetime.fromtimestamp(r.submitted_at),
            "Settings": preset_label(r.experiment),
            "Cell": model.cell,
            "Layers × units": f"{model.layers} × {model.units}",
            "Data": task_named(data.generator).label,
            "Epochs": f"{r.epochs_done} / {r.experiment.train.epochs}",
            "Metric": r.metric or "",
            "Train": r.last.metric if r.last else None,
            "Validation": r.last.val_metric if r.last else None,
            "Test": r.test_metric(),
            "Validation loss": r.last.val_loss if r.last else None,
            "Best baseline loss": panels.best_loss_baseline(r.baselines),
            "Seconds": round(r.seconds, 1) if r.seconds is not None else None,
            "Status": r.status,
            "A/B": "A/B" if r.pair else "",
            "Run": r.id,
        })
    return pd.DataFrame(rows)


def label(index: int, summary) -> str:
    return f"#{index} {live.run_label(summary.experiment)}"


def export_zip(store, run_id: str):
    """The run's files as one zip, built only when the button is pressed."""
    def build() -> bytes:
        view = store.view(run_id)
        files = dict(view.end.artifacts) if view.end else {}
        files["history.csv"] = history_csv(list(view.history), view.start.metric if view.start else "metric")
        files["experiment.json"] = view.experiment.to_json()
        files["train_model.py"] = keras_script(view.experiment)
        files.update(input_files(view.experiment, store.uploaded(run_id)[0]))  # what the script reads beside it
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, content)
        return buffer.getvalue()
    return build


def open_run(run_id: str, page: str) -> None:
    """Go to `page` showing this run (the address names it; the settings in it stay)."""
    st.switch_page(page, query_params={**st.query_params.to_dict(), session.RUN_PARAM: run_id})


state.ensure_widgets()
state.show_notices()
st.title("Runs")
store = runs.store()
if store is None:
    st.error(f"The run store cannot be opened, so past runs are not shown: {md(runs.store_access().error)}")
    st.stop()
summaries = store.runs(runs.browser(), limit=MAX_LISTED)
if not summaries:
    st.info("No runs yet. Every run you train is kept here (also after the server restarts): press **Train** on "
            "*Model & training*, then come back to compare runs.")
    st.page_link("pages/train.py", label="Go to Model & training", icon=":material/arrow_forward:")
    st.stop()

st.caption(f"{len(summaries)} run(s) of this browser, newest first; click a column to sort. Pick up to "
           f"{MAX_OVERLAID} rows to overlay their curves. Nobody else sees these runs.")
frame = table(summaries)
picked = st.dataframe(
    frame, key="runs_table", on_select="rerun", selection_mode="multi-row", hide_index=True, width="stretch",
    column_config={
        "When": st.column_config.DatetimeColumn(format="D MMM, HH:mm"),
        **{name: st.column_config.NumberColumn(format="%.4f") for name in
           ("Train", "Validation", "Test", "Validation loss")},
        "Best baseline loss": st.column_config.NumberColumn(
            format="%.4f", help="The lowest validation loss of a model without a network (chance, Markov, "
                                "persistence…): a run below it has learnt something they cannot."),
        "Run": st.column_config.TextColumn(help="The run's id, as the command line shows it"),
    })
# A selection outlives a deletion: rows past the table's end are dropped.
rows = [i for i in (picked.selection.rows if picked and picked.selection else []) if i < len(summaries)]
too_many = len(rows) > MAX_OVERLAID
rows = rows[:MAX_OVERLAID]
if rows:
    chosen = [summaries[i] for i in rows]
else:  # nothing picked: the latest two (or the latest A/B pair) are what a person wants to compare
    chosen = summaries[:2]
    st.caption("Showing your latest runs; pick rows above to choose others.")
if too_many:
    st.warning(f"Only the first {MAX_OVERLAID} picked runs are overlaid.")

metric = chosen[0].metric or "metric"
same_metric = [r for r in chosen if r.metric == metric]
if len(same_metric) < len(chosen):
    st.caption(f"Runs scored by another metric than {metric} are left out of the charts.")
same_data = len({r.data_key for r in same_metric}) == 1
options = st.columns(3)
log_y = options[0].toggle("Log scale", key="runs_log_y", help="Loss on a logarithmic axis.")
smoothing = options[1].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="runs_smoothing",
                              help="Exponential moving average of the curves, as on the Train page.")
points = max(100, POINTS_PER_OVERLAY // max(1, len(same_metric)))
numbered = {r.id: label(summaries.index(r) + 1, r) for r in chosen}
curves = [(numbered[r.id], store.history(r.id, max_points=points)) for r in same_metric]
figures = panels.compare_panels(curves, metric, baselines=same_metric[0].baselines if same_data else {},
                                log_y=log_y, smoothing=smoothing,
                                bits=all(r.experiment.data.task.kind is TEXT for r in same_metric))
charts = st.columns(2)
charts[0].plotly_chart(figures["loss"], key="runs_loss")
charts[1].plotly_chart(figures["metric"], key="runs_metric")
if not same_data:
    st.caption("These runs trained on different data, so no baseline is drawn (each run's best baseline is in the "
               "table).")

if len(chosen) > 1:
    changed = sorted({key for r in chosen[1:] for key in differences(chosen[0].experiment, r.experiment)})
    st.subheader("Settings that differ")
    if changed:
        st.dataframe(pd.DataFrame({numbered[r.id]: [str(_value) for _value in
                                                    (r.experiment.value(key) for key in changed)] for r in chosen},
                                  index=changed), key="runs_diff", width="stretch")
    else:
        st.caption("None: these runs used the same settings.")

st.subheader("One run")
target = st.selectbox("Run", [r.id for r in chosen], format_func=lambda run_id: numbered[run_id], key="runs_target")
summary = next(r for r in chosen if r.id == target)
if summary.reason:
    st.caption(md(summary.reason))
# Columns for their labels' lengths: four equal ones cut "Open on Model & training" on a 1280 px projector.
actions = st.columns([1, 1.4, 1, 0.8])
if actions[0].button("Open in Inspect", icon=":material/biotech:", key="runs_inspect", width="stretch",
                     disabled=not store.snapshot_epochs(summary.id)):
    open_run(summary.id, "pages/inspect_run.py")
if actions[1].button("Open on Model & training", icon=":material/neurology:", key="runs_open", width="stretch"):
    state.set_experiment(summary.experiment)
    open_run(summary.id, "pages/train.py")
actions[2].download_button("Download (.zip)", export_zip(store, summary.id), file_name=f"{summary.id}.zip",
                           mime="application/zip", on_click="ignore", icon=":material/download:",
                           key="runs_download", width="stretch")
with actions[3].popover("Delete", icon=":material/delete:", width="stretch"):
    st.markdown(f"Delete {md(numbered[summary.id])} and everything it holds? This cannot be undone.")
    if st.button("Delete this run", type="primary", key="runs_delete"):
        store.delete(summary.id)
        state.notice("success", f"Deleted {md(numbered[summary.id])}.")
        st.rerun()
