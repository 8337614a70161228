"""Model & training: choose the network and how it learns, press Train, watch it learn live."""

import streamlit as st

from pages.ui import live, runs, state, widgets
from seqcore.cells import CELLS
from seqcore.models import installed_backends, parameter_counts
from seqcore.plots import network_diagram_figure

state.ensure_widgets()
state.show_notices()
st.title("Model & training")

experiment = state.experiment()
sizes = runs.data_sizes()
counts = parameter_counts(experiment, sizes)
st.plotly_chart(network_diagram_figure(experiment, counts, sizes), key="fig_network", config={"displayModeBar": False})
settings, panel = st.columns([1, 3], gap="large")
with settings:
    st.markdown("**Network**")
    widgets.field("model", "cell")
    widgets.fields("model", ["layers", "units"])
    if experiment.model.cell == "SimpleRNN":
        widgets.field("model", "activation")
    with st.expander("Regularisation (against overfitting)"):
        widgets.fields("model", ["dropout", "recurrent_dropout", "l1", "l2"])
    levers = CELLS[experiment.model.cell].init_settings
    if levers:
        with st.expander("Initialisation (for long memory)"):
            widgets.fields("model", levers, columns=1)
    st.markdown("**Training**")
    widgets.fields("train", ["epochs", "batch_size"])
    widgets.fields("train", ["optimizer", "learning_rate"])
    widgets.fields("train", ["early_stopping", "patience"])
    with st.expander("More training settings"):
        widgets.fields("train", ["clipnorm", "seed", "snapshot_every", "time_limit_s"])
        widgets.field("train", "backend", options=installed_backends())
        widgets.field("train", "xla")

    st.markdown(f"**Parameters: {sum(r.params for r in counts):,}**")
    # One line per layer, not a grid: the settings column is narrow and a grid hid the numbers off its edge.
    st.markdown("\n".join(f"- {r.name}: {r.formula} = {r.substituted} = **{r.params:,}**" for r in counts))
    st.caption("n = units, m = inputs per step (features, or the units of the layer below), "
               "k = outputs.")

with panel:
    live.draw()
