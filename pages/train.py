"""Model & training: choose the network and how it learns, press Train, watch it learn live."""

import streamlit as st

from pages.ui import live, runs, session, state, widgets
from seqcore.cells import CELLS
from seqcore.diagram import network_diagram_svg
from seqcore.models import installed_backends, parameter_counts
from seqcore.tasks import TASKS

state.ensure_widgets()
state.show_notices()
experiment = state.experiment()
sizes = runs.data_sizes()
counts = parameter_counts(experiment, sizes)
runs.compile_ahead(experiment)  # while the person looks at the settings, an idle worker compiles their network
# The title beside the network's picture: on a 1280 × 800 projector the settings, Train and the first live
# charts then fit the first screen, as in TensorFlow Playground.
heading, picture = st.columns([1.25, 2.5], vertical_alignment="center")
heading.title("Model & training")
# An SVG picture, its own width (a few boxes), not the column's: shrunk to fit on a phone. As raw markup, since
# st.html's sanitiser drops SVG: the markup is the diagram module's own, every piece of text in it escaped.
picture.container(key="fig_network").markdown(
    network_diagram_svg(experiment, counts, CELLS[experiment.model.cell], sizes), unsafe_allow_html=True)
settings, panel = st.columns([1.3, 3], gap="medium")
with settings:
    # The settings a person changes most first, one a row: side by side in this column, labels broke inside words.
    widgets.field("data", "generator", label="Data")
    wanted = TASKS.get(st.session_state.get(session.widget_key("data", "generator")), experiment.data.task)
    if experiment.data.upload_kind or wanted.needs_upload or wanted.name == "text":
        st.page_link("pages/data.py", label="Your own file or text: on the Data page", icon=":material/upload:")
    widgets.field("model", "cell")
    widgets.fields("model", ["layers", "units"])
    if experiment.model.cell == "SimpleRNN":
        widgets.field("model", "activation")
    widgets.fields("train", ["epochs", "learning_rate"], columns=1)
    with st.expander("Training"):
        widgets.fields("train", ["batch_size", "optimizer", "early_stopping", "patience"], columns=1)
    with st.expander("Regularisation (against overfitting)"):
        widgets.fields("model", ["dropout", "recurrent_dropout", "l1", "l2"], columns=1)
    levers = CELLS[experiment.model.cell].init_settings
    if levers:
        with st.expander("Initialisation (for long memory)"):
            widgets.fields("model", levers, columns=1)
    with st.expander("More training settings"):
        widgets.fields("train", ["clipnorm", "seed", "snapshot_every", "time_limit_s"], columns=1)
        widgets.field("train", "backend", options=installed_backends())
        widgets.field("train", "xla")

    st.markdown(f"**Parameters: {sum(r.params for r in counts):,}**")
    # One line per layer, not a grid: the settings column is narrow and a grid hid the numbers off its edge.
    st.markdown("\n".join(f"- {r.name}: {r.formula} = {r.substituted} = **{r.params:,}**" for r in counts))
    st.caption("n = units, m = inputs per step (features, or the units of the layer below), "
               "k = outputs.")

with panel:
    live.draw()
