"""Inspect: scrub through a run's snapshots, look at gates and single units, try a probe of your own."""

import numpy as np
import pandas as pd
import streamlit as st

from pages.ui import player, runs, session, state, textview
from pages.ui.safe import md
from seqcore import panels, plots, probes, reference
from seqcore.cells import CELLS
from seqcore.data import DataError
from seqcore.tasks import TEXT, TOKENS

state.ensure_widgets()
state.show_notices()
st.title("Inspect")

job, view = session.run_now().job, session.run_now().view
if view is None or not view.snapshot_epochs:
    st.info("Nothing to inspect yet: train a network on *Model & training*; its snapshots appear here as it learns.")
    st.page_link("pages/train.py", label="Go to Model & training", icon=":material/arrow_forward:")
    st.stop()

experiment = view.experiment
cell, activation = experiment.model.cell, experiment.model.activation
try:
    data = runs.data_for(job)
except DataError as err:  # a CSV run whose file is no longer in this session
    st.error(f"The data of this run cannot be rebuilt: {md(err)}")
    st.stop()
token_task = data.task.kind is TOKENS

st.caption(f"Run: {experiment.model.cell} × {experiment.model.layers} layer(s) of {experiment.model.units} units on "
           f"*{experiment.data.generator}*, status {view.status}. Snapshots are recorded every "
           f"{experiment.train.snapshot_every} epochs.")
controls = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
epochs = list(view.snapshot_epochs)
player.apply("inspect_epoch")
if st.session_state.get("inspect_epoch") not in epochs:  # the last snapshot of a run just opened
    st.session_state["inspect_epoch"] = epochs[-1]
epoch = controls[0].select_slider("Epoch", epochs, key="inspect_epoch",
                                  help="Scrub through the recorded snapshots, or press Play.")
layer = controls[1].selectbox("Layer", range(experiment.model.layers), format_func=lambda i: f"layer {i + 1}",
                              key="inspect_layer")
probe = controls[2].selectbox("Probe sequence", range(len(view.start.probe_x)),
                              format_func=lambda i: f"sequence {i + 1}", key="inspect_probe")
player.controls(controls[3], epochs, epoch, "inspect_epoch")
snapshot = job.snapshot(epoch)

left, right = st.columns(2)
left.plotly_chart(panels.hidden_panel(snapshot, view.start, data, layer=layer, probe=probe), key="inspect_hidden")
right.plotly_chart(panels.prediction_panel(snapshot, view.start, data, probe=probe), key="inspect_predictions")

gradients = panels.gradient_panel([(f"epoch {snapshot.epoch}", snapshot)])
if gradients is not None:
    st.plotly_chart(gradients, key="inspect_gradients")
    st.caption(panels.GRADIENTS_CAPTION)

trace = reference.forward(snapshot.weights, view.start.probe_x[probe:probe + 1], cell=cell, head=data.head,
                          activation=activation)
layer_trace = trace.layers[layer]
x_labels = panels.token_labels(view.start.probe_x[probe], data.vocabulary) if token_task or data.vocabulary else None
st.subheader("Gates" if cell != "SimpleRNN" else "Pre-activations")
st.caption(CELLS[cell].gates_caption)
gates = {name: values[0] for name, values in layer_trace.gates.items()}
if cell == "SimpleRNN":
    st.plotly_chart(plots.hidden_state_heatmap(gates["pre-activation"], x_labels=x_labels, zmin=-3, zmax=3,
                                               title="Pre-activation"), key="inspect_gates")
else:
    st.plotly_chart(plots.gate_heatmaps(gates, x_labels=x_labels, title=f"Gates of layer {layer + 1}"),
                    key="inspect_gates")

saturation = panels.saturation_panel(snapshot, data, cell=cell, activation=activation, layer=layer)
if saturation is not None:
    st.subheader("Gate saturation")
    st.plotly_chart(saturation[0], key="inspect_saturation")
    st.caption(saturation[1])

st.subheader("One unit")
unit = st.number_input("Unit", 0, experiment.model.units - 1, 0, key="inspect_unit",
                       help="Which hidden unit to follow over time.")
probe_x = view.start.probe_x[probe]
reads_ids = token_task or data.vocabulary is not None
inputs = np.argmax(probe_x, -1) if reads_ids else probe_x[:, 0]
input_label = "input character id" if data.vocabulary else "input token" if token_task else "input (scaled)"
st.plotly_chart(plots.unit_activation_figure(layer_trace.h[0][:, unit], inputs, unit=unit, input_label=input_label),
                key="inspect_unit_fig")

if data.task.kind is TEXT:
    textview.inspect(view, snapshot, data, layer=layer)
else:  # tokens or values of a person's own
    st.subheader("Try a sequence of your own")
    probe_kind = data.task.kind.probe
    if probe_kind == "tokens":
        vocab = data.n_features
        default = " ".join(str(t) for t in np.argmax(probe_x, -1))
        text = st.text_input(f"Tokens (whole numbers from 0 to {vocab - 1}, separated by spaces)", default,
                             key="custom_probe_tokens")
    else:
        steps = experiment.data.seq_len + (data.transform.lag if data.transform else 0)  # a lag reads values before
        default = " ".join(f"{v:.4g}" for v in data.series[:steps]) if probe_kind == "values" else ""
        text = st.text_input("Values (numbers separated by spaces or commas, in the data's units)", default,
                             key="custom_probe_values", disabled=probe_kind is None,
                             help=f"Not available for the {data.task.label.lower()}: its input has several channels.")
    try:
        if probe_kind == "tokens":
            result = probes.run_token_probe(snapshot.weights, probes.token_probe(text, vocab), vocab_size=vocab,
                                            cell=cell, activation=activation)
            st.dataframe(pd.DataFrame({"step": np.arange(len(result.inputs)), "input": result.inputs,
                                       f"predicted {data.task.target}": result.next_tokens,
                                       "its probability": np.round(result.next_probability, 3)}).T, key="custom_table")
        elif probe_kind == "values":
            result = probes.run_series_probe(snapshot.weights, probes.series_probe(text), transform=data.transform,
                                             cell=cell, activation=activation)
            st.markdown("Predicted next value(s): **" + ", ".join(f"{v:.4g}" for v in result.forecast) + "**")
        else:
            result = None
        if result is not None:
            labels = [str(t) for t in result.inputs] if token_task else None
            st.plotly_chart(plots.hidden_state_heatmap(result.trace.layers[layer].h[0], x_labels=labels,
                                                       title=f"Hidden state of layer {layer + 1} on your sequence"),
                            key="custom_hidden")
    except probes.ProbeError as err:
        st.error(md(err))

with st.expander("Weights of this snapshot"):
    layers_w, (dense_kernel, _) = reference.split_weights(snapshot.weights, cell)
    arrays = {}
    for i, (kernel, recurrent, _) in enumerate(layers_w):
        arrays[f"layer {i + 1} W (input)"] = kernel
        arrays[f"layer {i + 1} U (recurrent)"] = recurrent
    arrays["head"] = dense_kernel
    st.plotly_chart(plots.weights_histogram(arrays, title=f"Weights at epoch {snapshot.epoch}"),
                    key="inspect_weights")
