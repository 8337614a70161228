"""The text task on the pages, through Streamlit's AppTest (no browser, no training: tests/e2e/test_text.py
trains one in Chromium)."""

from __future__ import annotations

from pages.ui import session
from seqcore.data import build_data
from seqcore.models import parameter_counts
from seqcore.text import text_bytes
from tests.test_app import _local_limits, _navigation_as_on_a_server, experiment_of, open_app, parameters_shown  # noqa: F401  (autouse: as on a server)

PARAGRAPH = ("<b>not bold</b> **not bold** [a link](http://x.org) :red[x] $x$\n" * 5
             + "Der Fuchs springt über den faulen Hund. 你好，世界！ " * 40 + "\n")


def _text_task(at, source: str = "own"):
    at.selectbox(key=session.widget_key("data", "generator")).set_value("text").run()
    at.selectbox(key=session.widget_key("data", "text_source")).set_value(source).run()
    assert not at.exception
    return at


def test_the_builtin_text_is_previewed_as_text_with_its_vocabulary_and_baselines():
    at = _text_task(open_app("pages/data.py"), "builtin")
    assert at.code[0].value.startswith('The "assert" statement')
    captions = " ".join(c.value for c in at.caption)
    assert "distinct characters" in captions and "next character" in captions
    tables = " ".join(m.value for m in at.markdown)
    assert "unigram bits/char" in tables and "trigram bits/char" in tables


def test_pasted_text_is_learnt_shown_as_typed_and_sets_the_network_size():
    at = _text_task(open_app("pages/data.py"))
    assert any("Paste a text" in i.value for i in at.info)
    at.text_area(key="own_text_paste").input(PARAGRAPH).run()
    assert not at.exception and not at.error
    assert any(f"{len(PARAGRAPH):,} characters" in c.value for c in at.caption)
    shown = at.code[0].value
    assert "<b>not bold</b> **not bold** [a link](http://x.org)" in shown  # as typed: never rendered
    assert "你好" in shown
    vocabulary = build_data(experiment_of(at).data, text_bytes(PARAGRAPH)).vocabulary
    assert vocabulary.size < 100  # the text's own vocabulary, not the cap
    at.switch_page("pages/train.py").run()
    expected = sum(r.params for r in parameter_counts(experiment_of(at), (vocabulary.size, vocabulary.size)))
    assert parameters_shown(at) == expected


def test_a_blank_paste_is_refused_and_the_text_before_it_is_kept():
    at = _text_task(open_app("pages/data.py"))
    at.text_area(key="own_text_paste").input(PARAGRAPH).run()
    at.text_area(key="own_text_paste").input("   \n\t  ").run()
    errors = " ".join(e.value for e in at.error)
    assert "empty or only whitespace" in errors and "kept" in errors
    assert any(f"{len(PARAGRAPH):,} characters" in c.value for c in at.caption)
    assert "not bold" in at.code[0].value


def test_train_says_to_give_a_text_before_an_own_text_run_can_start():
    at = _text_task(open_app("pages/data.py"))
    at.switch_page("pages/train.py").run()
    at.button(key="train").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "data.text_source" in errors and "paste or upload" in errors
