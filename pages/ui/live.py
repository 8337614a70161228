"""The live training panel: controls, progress, and the figures, redrawn every second or two while it runs."""

from __future__ import annotations

import streamlit as st

from pages.ui import compare, refresh, replay, runs, session, state, textview
from pages.ui.dataview import markdown_table
from pages.ui.safe import md
from seqcore import panels
from seqcore.backend import JobHandle, JobView, QueueFull
from seqcore.backends import BackendUnavailable
from seqcore.config import ConfigError
from seqcore.data import DataError
from seqcore.script import input_files, keras_script, script_zip
from seqcore.tasks import SERIES, TEXT
from seqcore.training import history_csv


def steady_epochs(view: JobView) -> list:
    """The epochs that tell the training speed: all but the first, which also compiled the network."""
    return list(view.history[1:]) if len(view.history) > 1 else []


def _time_left(view: JobView) -> str:
    if view.done:
        return "–"
    if view.status == "paused":
        return "paused"
    seconds = view.seconds_left()
    if seconds is None:
        return "compiling…" if view.status in ("starting", "running") else "–"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _progress(view: JobView) -> None:
    epochs = view.experiment.train.epochs
    steady = steady_epochs(view)
    last = steady[-1] if steady else None
    cols = st.columns(4)
    cols[0].metric("Epoch", f"{view.epoch} / {epochs}")
    cols[1].metric("Seconds per epoch", f"{last.seconds:.3f}" if last else "–")
    cols[2].metric("Samples per second", f"{last.samples_per_s:,.0f}" if last else "–")
    cols[3].metric("Time left", _time_left(view))
    st.progress(min(1.0, view.epoch / epochs))


def _status(view: JobView) -> None:
    if view.stopping:
        st.info("Stopping: the run ends after the step it is in. A first step also compiles the model, which can "
                "take a few seconds more.")
    elif view.status == "queued":
        st.info(f"Waiting for a free training slot: you are number {view.queue_position} in the queue "
                f"({view.waited_s:.0f} s so far, about {view.estimated_wait_s:.0f} s to go). Others are training "
                "on this server; your run starts by itself.")
    elif view.status == "starting" or (view.status == "running" and not view.history):
        if view.start is not None and view.start.compiled_before:
            st.info("Starting… This worker has the network compiled already (by an earlier run of it, or while "
                    "you chose the settings): its first epoch comes at once.")
        elif view.start is not None and view.start.xla:
            st.info("Compiling the network with XLA on… Its first epoch also compiles its steps with XLA (5-11 s "
                    "more for a network this worker has not trained before), which then trains each step faster; "
                    "the speed shows from the second epoch on.")
        else:
            st.info("Compiling the network… Its first epoch also builds the graphs TensorFlow runs (a few seconds "
                    "for a network this worker has not trained before); the speed shows from the second epoch on.")
    elif view.status == "paused":
        st.info(f"Paused at epoch {view.epoch}: press Resume to go on, or Stop to end the run here.")
    elif view.status == "failed":
        st.error(f"The run failed: {md(view.reason)}")
    elif view.status == "timed_out":
        st.warning(md(view.reason))
    elif view.status in ("finished", "stopped"):
        summary = md(view.reason)
        if view.end and view.end.test_metrics:
            scaled = " (in the units the network trains on)" if view.experiment.data.task.kind is SERIES \
                else ""
            summary += f" Test set{scaled}: " + ", ".join(f"{k} {v:.4f}" for k, v in view.end.test_metrics.items()) \
                + "."
        st.success(summary) if view.status == "finished" else st.info(summary)


def _evaluated(job: JobHandle, view: JobView, epoch: int):
    """(data, the evaluation of the snapshot of `epoch`), worked out once per run and epoch (a NumPy pass over the
    test windows); (None, None) where the data cannot be rebuilt or has no test part."""
    memo = st.session_state.get(session.EVALUATION_MEMO)
    if memo is None or memo[0] != view.id:
        memo = (view.id, {})
        st.session_state[session.EVALUATION_MEMO] = memo
    if epoch not in memo[1]:
        snapshot = job.snapshot(epoch) if epoch != view.latest_snapshot.epoch else view.latest_snapshot
        try:
            data = runs.data_for(job)
            found = panels.series_evaluation(snapshot, data, cell=view.experiment.model.cell,
                                             activation=view.experiment.model.activation)
        except (ConfigError, DataError):  # the data cannot be rebuilt here (a CSV no longer in the session)
            data, found = None, None
        memo[1][epoch] = (data, found, snapshot)
    return memo[1][epoch]


def _evaluation(job: JobHandle, view: JobView) -> None:
    """A series run, ended: its test forecasts against the naive ones, in the series' own units, the verdict, and
    the forecast past the end of the data, at any recorded epoch."""
    snapshot = view.latest_snapshot
    if snapshot is None or not view.done:
        return
    data, found, _ = _evaluated(job, view, snapshot.epoch)
    if data is None:
        return
    if found is None:  # every value was for training or validation: nothing held out to score
        st.caption("No test part (Test share 0), so no test scores; the forecast past the end is below.")
        _forecast(job, view, data)
        return
    kind, sentence = found.verdict()
    (st.success if kind == "success" else st.warning)(md(sentence))
    st.markdown(markdown_table(["forecast of the test part", "RMSE", "MAE", "MAPE", "best"],
                               panels.evaluation_rows(found)))
    horizon = found.truth.shape[1]
    ahead = (f" Each window's next {horizon} values are forecast at once (direct) and scored together."
             if horizon > 1 else "")
    st.caption(f"In the series' own units, on the same {len(found.truth):,} test windows, from the network of "
               f"epoch {snapshot.epoch}. Persistence repeats the last value, seasonal naive the value a season "
               "before, the mean is the training part's, the linear AR is least squares on the training windows."
               + ahead + " " + " ".join(found.notes))
    _forecast(job, view, data)


def _forecast(job: JobHandle, view: JobView, data) -> None:
    """The test part and the forecast past the end, on the series' dates, at an epoch the person picks (so they
    see the network learn the season), with the forecast as a CSV."""
    st.markdown("**Forecast past the end of the data**")
    epochs = list(view.snapshot_epochs)
    cols = st.columns([3, 1])
    epoch = epochs[-1] if len(epochs) < 2 else cols[0].select_slider(
        "Epoch", epochs, value=epochs[-1], key="forecast_epoch",
        help="The network as it was at each snapshot: drag to watch its forecast take shape.")
    horizon = data.n_outputs
    steps = cols[1].number_input("Steps past the end", 1, panels.MAX_FORECAST_STEPS,
                                 value=min(max(horizon, data.season or 0, 1), panels.MAX_FORECAST_STEPS), step=1,
                                 key="forecast_steps",
                                 help=f"Up to {horizon} is the network's direct forecast; more feeds its "
                                      "forecasts back in (recursive).")
    _, found, snapshot = _evaluated(job, view, epoch)
    future = panels.forecast_past_end(snapshot, data, int(steps), cell=view.experiment.model.cell,
                                      activation=view.experiment.model.activation)
    st.plotly_chart(panels.forecast_figure(data, found, future, epoch=epoch), key="fig_forecast")
    tested = (f"orange: the network's forecast of each test value from the {data.n_steps} before it; "
              if found is not None else "")
    st.caption(f"Blue: the true values; {tested}pink: {future.sentence.lower()}")
    name = f"forecast-{view.experiment.data.csv_column or view.experiment.data.generator}-epoch{epoch}.csv"
    st.download_button("Forecast (CSV)", panels.forecast_csv(data, found, future), file_name=name,
                       mime="text/csv", on_click="ignore", key="forecast_csv")


def _pause(job: JobHandle) -> None:
    job.pause()
    refresh.redraw_all()  # the sidebar's line says Paused


def _resume(job: JobHandle) -> None:
    job.resume()
    refresh.redraw_all()


def _stop(job: JobHandle) -> None:
    job.stop()
    job.wait(2)  # most runs end within a step: then the page shows "Stopped" at once rather than "Stopping"
    refresh.redraw_all()


def _train_button(active: bool) -> None:
    if st.button("▶️ Train", type="primary", disabled=active or bool(state.pending_errors()), key="train",
                 width="stretch", help="Start a new run with the current settings."):
        try:
            values, _ = state.uploaded()
            if state.missing_upload():
                st.error(state.missing_upload())
                return
            runs.session_data()  # refuse bad data here, with its message, before queueing
            job = runs.start_run(state.experiment(), values)  # the backend refuses what is over the limits
            replay.started(job.id)
        except (ConfigError, DataError) as err:
            st.error(f"Cannot train on these settings: {md(err)}")
            return
        except QueueFull as err:
            st.warning(md(err))
            return
        except BackendUnavailable as err:
            st.error(f"This server cannot train now: {md(err)}")
            return
        refresh.follow(job.view(), None, live_panel=True)  # a full rerun starts the live timer


def _controls(job: JobHandle | None, view: JobView | None) -> None:
    active = view is not None and not view.done
    cols = st.columns([2, 1.15, 1.15, 2.2])
    with cols[0]:
        _train_button(active)
    with cols[3]:
        compare.controls(disabled=active or bool(state.pending_errors()))
    # Pause and Stop act in callbacks: they run before the script does, so a click cannot be lost when the next
    # timer tick interrupts the run it started (seen under load: Stop clicked, the run went on).
    paused = view is not None and view.status == "paused"
    stopping = view is not None and view.stopping
    # Two keys, not one button that changes its label: Streamlit 1.67 can dispatch one click's trigger again in the
    # rerun that follows, and under one key that second call went to the callback now drawn, so Pause resumed.
    cols[1].button("▶ Resume" if paused else "⏸ Pause", disabled=not active or view.status == "queued" or stopping,
                   key="resume" if paused else "pause", width="stretch", on_click=_resume if paused else _pause,
                   args=(job,))
    cols[2].button("⏹ Stop", disabled=not active or stopping, key="stop", width="stretch", on_click=_stop,
                   args=(job,))
    if not active and state.pending_errors():  # say why Train is off: the refused setting may be on another page
        refused = "; ".join(map(md, state.pending_errors()))
        st.caption(f"Train waits until these refused settings are fixed: {refused}.")


def _downloads(job: JobHandle, view: JobView) -> None:
    st.markdown("**Downloads**")
    artifacts = view.end.artifacts if view.end else {}
    # What the model's ids or values mean: a text's vocabulary, a series' log, lag and scaler.
    companion = next(((name, artifacts[name]) for name in ("vocabulary.json", "preprocessing.json")
                      if name in artifacts), None)
    # A row that wraps: four or five equal columns cut the buttons' labels in a 1280 px projector's live panel.
    row = st.container(horizontal=True, gap="small")
    metric = view.start.metric if view.start else "metric"
    row.download_button("History (CSV)", history_csv(list(view.history), metric), file_name="history.csv",
                        mime="text/csv", on_click="ignore")
    row.download_button("Experiment (JSON)", view.experiment.to_json(), file_name="experiment.json",
                        mime="application/json", on_click="ignore")
    inputs = input_files(view.experiment, job.uploaded)
    if inputs:  # the script reads its data from beside itself: they travel together
        row.download_button("Keras code + data (.zip)", lambda: script_zip(view.experiment, inputs),
                            file_name="train_model.zip", mime="application/zip", on_click="ignore")
    else:
        row.download_button("Keras code (.py)", keras_script(view.experiment), file_name="train_model.py",
                            mime="text/x-python", on_click="ignore")
    model = view.end.artifacts.get("model.keras") if view.end else None
    if model:
        row.download_button("Model (.keras)", model, file_name="model.keras",
                            mime="application/zip", on_click="ignore")
    if companion:  # a text model's ids, a series model's values, mean nothing without it
        name, body = companion
        label = "Vocabulary (JSON)" if name == "vocabulary.json" else "Preprocessing (JSON)"
        row.download_button(label, body, file_name=name, mime="application/json", on_click="ignore")
    if not model:
        st.caption("No model file: the run ended before it could save one." if view.done
                   else "The model file is ready when the run ends.")


def previous_run(view: JobView):
    """(label, history) of this browser's run before the one on screen, if it scored the same metric: drawn
    faded under the curves, so a person sees at once whether the change helped. Looked up once per run."""
    memo = st.session_state.get(session.PREVIOUS_RUN)
    if memo is not None and memo[0] == view.id:
        return memo[1]
    found = None
    store = runs.store()
    if store is not None and view.start is not None:
        earlier = [r for r in store.runs(runs.browser(), limit=4)
                   if r.submitted_at < view.submitted_at and r.id != view.id and r.metric == view.start.metric]
        if earlier:
            before = earlier[0]
            found = (run_label(before.experiment), store.history(before.id, max_points=500))
    st.session_state[session.PREVIOUS_RUN] = (view.id, found)
    return found


def run_label(experiment) -> str:
    model = experiment.model
    return f"{model.cell} {model.layers}×{model.units}" if model.layers > 1 else f"{model.cell} {model.units}"


def _live_figures(view: JobView, snapshot, data, **options) -> dict:
    """panels.live_figures, kept for the next redraw while nothing they show has changed (a tick without a new
    epoch, a click elsewhere on the page): building Plotly figures is most of what a redraw costs the server."""
    previous = previous_run(view)
    key = (view.id, view.start is not None, len(view.history), snapshot.epoch if snapshot else None,
           tuple(sorted(options.items())))
    memo = st.session_state.get(session.FIGURES_MEMO)
    if memo is None or memo[0] != key:
        memo = (key, panels.live_figures(view.history, view.start, snapshot, data, previous=previous, **options))
        st.session_state[session.FIGURES_MEMO] = memo
    return memo[1]


def _figures(job: JobHandle, view: JobView) -> None:
    """The loss and the predictions first (what a projector must show without scrolling), then the progress,
    the chart options, the metric and the hidden states."""
    charts = st.container()  # drawn above the options that shape them, which are read first
    _progress(view)
    # The two toggles on a row of their own: five columns across the live panel of a 1280 px projector left a
    # toggle's label 26 px and cut the selected sequence.
    toggles = st.container(horizontal=True, gap="large")
    log_y = toggles.toggle("Log scale", key="log_y", help="Loss on a logarithmic axis.")
    toggles.toggle("Freeze", key=session.FREEZE, help="Stop redrawing (training goes on) so you can zoom and "
                                                  "hover; live updates reset the zoom.")
    options = st.columns([1.3, 1, 1.2])
    smoothing = options[0].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="smoothing",
                                  help="Exponential moving average of the curves, as in TensorBoard.")
    layers = view.experiment.model.layers
    layer = options[1].selectbox("Layer", range(layers), format_func=lambda i: f"layer {i + 1}", key="live_layer",
                                 disabled=layers == 1)
    probe = options[2].selectbox("Sequence", range(4), format_func=lambda i: f"sequence {i + 1}",
                                 key="live_probe", help="Which of the first validation sequences to show.")
    snapshot = view.latest_snapshot
    probe = min(probe, (len(view.start.probe_x) - 1) if view.start else 0)
    data = runs.data_for(job) if snapshot is not None else None
    figures = _live_figures(view, snapshot, data, layer=min(layer, layers - 1), probe=probe, log_y=log_y,
                            smoothing=smoothing)
    with charts:
        top = st.columns(2)
        top[0].plotly_chart(figures["loss"], key="fig_loss")
        if "predictions" in figures:
            top[1].plotly_chart(figures["predictions"], key="fig_predictions")
        else:
            top[1].plotly_chart(figures["metric"], key="fig_metric")
        note = panels.baselines_note(view.start.baselines) if view.start else None
        if note:
            st.caption(note)
        if "predictions" in figures and data.task.kind is SERIES:
            st.caption("Right, orange: each value predicted from the true values before it. Pink, dashed: the "
                       "network's own outputs fed back in, past the end of the validation data.")
    text_run = data is not None and data.task.kind is TEXT
    if text_run:
        last = view.history[-1] if view.history else None
        st.caption(f"Validation now: {panels.text_scores(last.val_loss) if last else '–'}. "
                   + panels.TEXT_BASELINES_CAPTION)
        textview.live_samples(job, view, data)
    previous = previous_run(view)
    if previous is not None:
        st.caption(f"Grey: your previous run ({previous[0]}), for comparison. All your runs are on the *Runs* "
                   "page.")
    if "predictions" in figures:
        bottom = st.columns(2)
        bottom[0].plotly_chart(figures["metric"], key="fig_metric")
        bottom[1].plotly_chart(figures["hidden"], key="fig_hidden")
    if "gradients" in figures:
        st.plotly_chart(figures["gradients"], key="fig_gradients")
        st.caption(panels.GRADIENTS_CAPTION)
    elif view.status in ("running", "starting") and view.latest_snapshot is None:
        st.caption("The predictions and the hidden-state heatmap appear after the first epoch.")


def panel(now: session.RunNow) -> None:
    """Controls, status, progress and figures of the session's run (refresh.live_fragment redraws it)."""
    job, view = now.job, now.view
    if now.partner is not None and view is not None:
        compare.panel(now, lambda: _train_button(now.active))
        return
    _controls(job, view)
    if view is None:
        st.info("Press **Train** to start. Loss curves, predictions and the hidden states appear here as the "
                "network learns.")
        # The empty loss chart shows where the curve will grow. A picture, not a Plotly chart: the page is drawn
        # without waiting for the charting library (4.7 MB of JavaScript, about 2 s here), which the sidebar has
        # the browser load in its idle time (sidebar.preload_plotly), before Train rather than after it.
        st.container(key="fig_loss").markdown(panels.empty_loss_panel(state.experiment().train.epochs),
                                              unsafe_allow_html=True)
        return
    if view.experiment != state.experiment():
        st.caption("You have changed settings since this run started: they apply to the next run.")
    if replay.paced(view):
        _paced(job, view)
        return
    replay.note_drawn(view)
    _status(view)
    if view.done and view.experiment.data.task.kind is SERIES:
        _evaluation(job, view)
    if view.history or view.latest_snapshot:
        _figures(job, view)
    else:
        _progress(view)
    if view.done:
        _downloads(job, view)


def _paced(job: JobHandle, view: JobView) -> None:
    """A run faster than the page, drawn a frame a tick: while it trains, or replayed once it has ended."""
    shown = replay.next_frame(job, view)
    if view.done:
        line = (f"Replaying: the run trained its {len(view.history)} epochs in {replay.seconds_trained(view):.1f} s, "
                f"faster than the page can draw, so here it is epoch by epoch ({shown.epoch} so far).")
    else:
        _status(view)
        line = (f"A fast run: drawn a frame every {replay.frame_s():g} s so you can follow it (epoch {shown.epoch} "
                f"on screen, {view.epoch} trained).")
    cols = st.columns([4, 1, 1], vertical_alignment="bottom")
    cols[0].info(line)
    cols[1].selectbox("Replay speed", list(replay.SPEEDS), index=list(replay.SPEEDS).index(replay.speed()),
                      key=replay.SPEED, on_change=replay.remember_speed,
                      help="How long drawing a fast run takes at least: "
                           + ", ".join(f"{name} {s:g} s" for name, s in replay.SPEEDS.items() if s)
                           + "; off draws it as it comes.")
    cols[2].button("Skip", key="replay_skip", on_click=replay.skip, width="stretch",
                   help="Show the run as it is now.")
    _figures(job, shown)


def draw() -> None:
    """The live panel, in the page's one refreshing fragment (it also keeps the sidebar's status line)."""
    refresh.live_fragment(panel)
