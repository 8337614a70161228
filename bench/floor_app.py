"""Bench row 4's floor: a Streamlit app with the app's page settings, its four pages and a title on each, and a
fifth page with one small Plotly chart (what Plotly's own JavaScript adds to any page that draws a chart).

Started and timed like the app (`streamlit run bench/floor_app.py` from the project root, so it reads the same
`.streamlit/config.toml`), its first paint is what any Streamlit app costs on the machine: the server's start,
Streamlit's JavaScript, the connection. The app's own first paint is read against it.
"""

import plotly.graph_objects as go
import streamlit as st


def title_page(title: str):
    def draw() -> None:
        st.title(title)
    return draw


def chart_page() -> None:
    st.title("Chart")
    st.plotly_chart(go.Figure(go.Scatter(y=[3, 1, 2])), key="chart")


st.set_page_config(page_title="Sequence Playground", page_icon=":material/repeat:", layout="wide")
st.navigation([
    st.Page(title_page("Data"), title="Data", icon=":material/show_chart:", url_path="data", default=True),
    st.Page(title_page("Model & training"), title="Model & training", icon=":material/neurology:", url_path="train"),
    st.Page(title_page("Inspect"), title="Inspect", icon=":material/biotech:", url_path="inspect"),
    st.Page(title_page("Theory"), title="Theory", icon=":material/menu_book:", url_path="theory"),
    st.Page(chart_page, title="Chart", icon=":material/show_chart:", url_path="chart"),
]).run()
