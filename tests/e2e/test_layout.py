"""Layout in a real browser (#18): nothing cut, nothing overlapping, the first screen of the Train page complete.

At the projector sizes (1280 × 800, 1440 × 900, 1920 × 1080) and on a phone (390 × 844) the test walks Data,
Model & training (before and after a short run of the seed preset, 3 epochs, so that the live charts, the
metrics and the Pause and Stop buttons are there), Inspect, Runs and Theory, and measures:

- truncation: a button, widget label, metric, selected option, toggle, tab, expander or page link whose text
  overflows its box (`scrollWidth > clientWidth + 1`, on it or on any element inside it);
- labels broken inside a word (a word whose letters lie on two lines);
- charts: a title, legend entry or annotation outside its chart, a diagram's label spilling out of the box drawn
  around it, Plotly's mode bar over a title, legend entry or annotation (measured with the chart hovered, when
  the mode bar shows), and titles, annotations, legend entries, axis titles and tick labels (those of different
  axes) overlapping each other by more than 2 px;
- the first screen: at the projector sizes the Train button, the loss chart and the settings people change most
  (and the predictions once the run has snapshots) inside the window without scrolling; on a phone the Train
  button within the first two screen heights;
- on a phone, the sidebar closed after Load preset and after a page change from the sidebar.

Each page is measured as it opens, then again with the main area's expanders opened (a closed expander's content
keeps its box in Chromium, but nobody sees it, so it is measured only when open); a fault is reported once a
page. Each failure message lists every offending element with its text and sizes. Screenshots of each page at
each size land in tests/e2e/screenshots/layout_<size>_<page>.png.

Run with `python -m pytest tests/e2e/test_layout.py -q` (fixtures in conftest.py: one server, one system Chromium;
about 2.5 minutes on two cores: four walks, each with one short run).
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    STEP_MS,
    choose,
    go_to,
    heading,
    open_app,
    poll_until,
    run_status,
    screenshot,
    screenshots_on_failure,
    sidebar,
    wait_ready,
)
from playwright.sync_api import Page, expect

from pages.ui import theory_text

pytestmark = pytest.mark.e2e

PROJECTORS = [(1280, 800), (1440, 900), (1920, 1080)]
PHONE = (390, 844)
RUN_S = 180  # the session's first run also waits for its worker to import TensorFlow
EPOCHS = 3  # the seed preset, short: snapshots at epochs 1 and 3
MOST_CHANGED = ["Cell", "Layers", "Units per layer", "Epochs", "Learning rate"]
SIDEBAR_CLOSE_S = 5  # the app may close the sidebar from a script a moment after the page is drawn

# --- measurements in the page ---

# What the JS functions below share: visibility, a short description of an element, rounded boxes.
COMMON_JS = """
// Inside a closed expander an element keeps its box (Chromium hides a closed <details>' content with
// content-visibility, not display: none), but nobody sees it: only its summary counts.
const inClosedDetails = el => {
    for (let d = el.closest('details'); d; d = d.parentElement && d.parentElement.closest('details')) {
        const summary = d.querySelector(':scope > summary');
        if (!d.open && !(summary && summary.contains(el))) return true;
    }
    return false;
};
const visible = el => el.offsetParent !== null && el.getClientRects().length > 0 && !inClosedDetails(el);
const inClosedSidebar = el => {
    const bar = el.closest('[data-testid=stSidebar]');
    return !!bar && (bar.getAttribute('aria-expanded') === 'false' || bar.dataset.collapsed === 'true'
                     || bar.getBoundingClientRect().right <= 0);
};
const squash = s => (s || '').replace(/\\s+/g, ' ').trim().slice(0, 100);
const ICONS = '[data-testid=stIconMaterial], [data-testid=stIconEmoji]';
const textOf = el => {  // what the element says, without the names of its Material icons
    if (el.tagName === 'INPUT') return squash(el.value);
    if (!el.querySelector(ICONS)) return squash(el.innerText || el.textContent);
    const copy = el.cloneNode(true);
    copy.querySelectorAll(ICONS).forEach(icon => icon.remove());
    return squash(copy.textContent);
};
const box = el => {
    const r = el.getBoundingClientRect();
    return {left: Math.round(r.left), top: Math.round(r.top), right: Math.round(r.right),
            bottom: Math.round(r.bottom), width: Math.round(r.width), height: Math.round(r.height)};
};
const where = el => {
    const keyed = el.closest('[class*="st-key-"]');
    const key = keyed && [...keyed.classList].find(c => c.startsWith('st-key-'));
    const area = el.closest('[data-testid=stSidebar]') ? 'sidebar' : 'main';
    return area + (key ? ' .' + key : '');
};
const testid = el => el.dataset && el.dataset.testid;
const tag = el => el.tagName.toLowerCase() + (testid(el) ? `[data-testid=${testid(el)}]` : '')
    + (el.classList && el.classList.length && !(el.dataset && el.dataset.testid)
       ? '.' + [...el.classList].filter(c => !c.startsWith('st-emotion-cache') && !/^e[0-9a-z]+[0-9]$/.test(c))
                                 .slice(0, 2).join('.') : '');
"""

# Elements whose text overflows their box: each root below, or any element inside it, with scrollWidth above its
# clientWidth (an ellipsis, a clipped or a spilling label). One entry per root, for its worst element.
TRUNCATED_JS = "() => {" + COMMON_JS + """
    const kinds = [
        ['button', '[data-testid^=stBaseButton]'],
        ['widget label', '[data-testid=stWidgetLabel]'],
        ['metric label', '[data-testid=stMetricLabel]'],
        ['metric value', '[data-testid=stMetricValue]'],
        ['metric delta', '[data-testid=stMetricDelta]'],
        ['selected option', '[data-testid=stSelectbox] input, [data-baseweb=select]'],
        ['number box', '[data-testid=stNumberInput] input'],
        ['toggle or checkbox', '[data-testid=stCheckbox]'],
        ['radio option', '[data-testid=stRadio] label'],
        ['tab', '[data-testid=stTab], [role=tab]'],
        ['expander', '[data-testid=stExpander] summary'],
        ['page link', '[data-testid=stSidebarNavLink], [data-testid=stPageLink] a'],
    ];
    const skip = el => el.closest('[data-testid=stIconMaterial], [data-testid=stIconEmoji], svg, '
                                  + '[data-testid=stTooltipIcon]');
    const out = [], seen = new Set(), reported = new Set();
    for (const [kind, selector] of kinds) {
        for (const root of document.querySelectorAll(selector)) {
            if (seen.has(root) || !visible(root) || inClosedSidebar(root)) continue;
            seen.add(root);
            let worst = null;
            for (const el of [root, ...root.querySelectorAll('*')]) {
                // a box 1 or 2 px wide is a visually hidden one (a native checkbox kept for screen readers)
                if (skip(el) || !visible(el) || !(el.clientWidth > 2) || reported.has(el)) continue;
                const over = el.scrollWidth - el.clientWidth;
                if (over > 1 && (!worst || over >= worst.over)) worst = {el, over};
            }
            if (!worst) continue;
            const el = worst.el, style = getComputedStyle(el);
            reported.add(el);
            out.push({kind, where: where(root), element: tag(el), text: textOf(root) || textOf(el),
                      scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                      how: style.textOverflow === 'ellipsis' ? 'ellipsis' : 'overflow ' + style.overflowX});
        }
    }
    const main = document.querySelector('[data-testid=stMain]');
    if (main && main.scrollWidth > main.clientWidth + 1) {
        out.push({kind: 'page', where: 'main', element: tag(main), text: 'the main area scrolls sideways',
                  scrollWidth: main.scrollWidth, clientWidth: main.clientWidth, how: 'horizontal scroll'});
    }
    return out;
}"""

# Labels that wrap inside a word: a run of letters or digits whose characters lie on two line boxes.
BROKEN_WORDS_JS = "() => {" + COMMON_JS + """
    const selector = '[data-testid=stWidgetLabel], [data-testid=stMetricLabel], [data-testid^=stBaseButton], '
        + '[data-testid=stExpander] summary, [data-testid=stTab], [data-testid=stCheckbox] label';
    const out = [];
    for (const root of document.querySelectorAll(selector)) {
        if (!visible(root) || inClosedSidebar(root)) continue;
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        const broken = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('[data-testid=stIconMaterial], [data-testid=stIconEmoji]')) continue;
            for (const m of node.data.matchAll(/[\\p{L}\\p{N}]{2,}/gu)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = [...range.getClientRects()].filter(r => r.width > 0.5).map(r => r.top);
                if (tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 2) broken.push(m[0]);
            }
        }
        if (broken.length) {
            const label = root.querySelector('p') || root;
            out.push({where: where(root), element: tag(root), text: textOf(root), words: broken,
                      width: Math.round(label.getBoundingClientRect().width),
                      lines: Math.round(label.getBoundingClientRect().height
                                        / (parseFloat(getComputedStyle(label).lineHeight) || 20))});
        }
    }
    return out;
}"""

# The indexes, among all the page's Plotly charts, of those a person can see.
VISIBLE_PLOTS_JS = "() => {" + COMMON_JS + """
    return [...document.querySelectorAll('.js-plotly-plot')].map((p, i) => visible(p) ? i : -1).filter(i => i >= 0);
}"""

# The closed expanders of the main area, opened (a click on each summary); how many were opened.
OPEN_EXPANDERS_JS = """() => {
    const closed = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stExpander] details')]
        .filter(d => !d.open && d.getClientRects().length > 0);
    closed.forEach(d => d.querySelector(':scope > summary').click());
    return closed.length;
}"""

# One Plotly chart (the i-th of the page's charts, if a person can see it): its title, legend entries,
# annotations and axis titles, what lies outside the chart, what overlaps, and what the mode bar (or Streamlit's
# element toolbar) covers.
CHART_JS = "(i) => {" + COMMON_JS + """
    const plot = document.querySelectorAll('.js-plotly-plot')[i];
    if (!plot || !visible(plot)) return null;
    const title = squash(plot.querySelector('.gtitle') && plot.querySelector('.gtitle').textContent);
    const keyed = plot.closest('[class*="st-key-"]');
    const key = keyed && [...keyed.classList].find(c => c.startsWith('st-key-'));
    const name = (title ? `"${title}"` : '(untitled)') + (key ? ` .${key}` : '');
    const chart = box(plot);
    const container = plot.closest('[data-testid=stElementContainer]');
    if (container) {  // what the page shows of the chart: the chart's box within its element's box
        const c = box(container);
        chart.left = Math.max(chart.left, c.left); chart.right = Math.min(chart.right, c.right);
        chart.top = Math.max(chart.top, c.top); chart.bottom = Math.min(chart.bottom, c.bottom);
    }
    const items = [];
    const add = (what, el) => {
        if (!el) return;
        const b = box(el);
        const text = squash(el.textContent);
        if (b.width > 0 && b.height > 0 && text) items.push({what, text, box: b});
    };
    add('title', plot.querySelector('.gtitle'));
    for (const a of plot.querySelectorAll('.annotation')) add('annotation', a.querySelector('.annotation-text') || a);
    for (const t of plot.querySelectorAll('.legend .traces')) {
        const parts = [t.querySelector('.legendtext'), t.querySelector('.legendpoints')].filter(Boolean).map(box)
            .filter(b => b.width > 0 && b.height > 0);
        if (!parts.length) continue;
        const b = {left: Math.min(...parts.map(p => p.left)), top: Math.min(...parts.map(p => p.top)),
                   right: Math.max(...parts.map(p => p.right)), bottom: Math.max(...parts.map(p => p.bottom))};
        b.width = b.right - b.left; b.height = b.bottom - b.top;
        items.push({what: 'legend entry', text: squash(t.textContent), box: b});
    }
    for (const t of plot.querySelectorAll('text[class$=title]:not(.gtitle):not(.cbtitle)')) add('axis title', t);
    // Tick labels, each with its axis (the class of its group: xtick, y2tick, ...): one axis' labels may run into
    // another's (side-by-side subplots) or into a title or a legend entry. Plotly keeps an axis' own apart.
    for (const t of plot.querySelectorAll('g[class$=tick] > text')) {
        const before = items.length;
        add('tick label', t);
        if (items.length > before) items[items.length - 1].axis = t.parentElement.getAttribute('class');
    }
    const out = {chart: name, size: `${chart.right - chart.left} × ${chart.bottom - chart.top}`,
                 cut: [], overlaps: [], covered: []};
    const fmt = b => `${b.left}..${b.right} × ${b.top}..${b.bottom}`;
    for (const it of items) {
        // a rotated axis title's box is not what the eye sees; a tick label past the edge is Plotly's to place
        if (it.what === 'axis title' || it.what === 'tick label') continue;
        const past = [];
        if (it.box.right > chart.right + 1) past.push(`${it.box.right - chart.right} px past the right edge`);
        if (it.box.left < chart.left - 1) past.push(`${chart.left - it.box.left} px past the left edge`);
        if (it.box.top < chart.top - 1) past.push(`${chart.top - it.box.top} px above the top`);
        if (it.box.bottom > chart.bottom + 1) past.push(`${it.box.bottom - chart.bottom} px below the bottom`);
        if (past.length) out.cut.push(`${it.what} "${it.text}" (${it.box.width} px wide, at ${fmt(it.box)}) `
                                      + `${past.join(', ')} of the chart (${fmt(chart)})`);
    }
    // A diagram's label inside a drawn box (a rectangle shape) must fit in it.
    const RECT = /^M[-\\d.]+,[-\\d.]+H[-\\d.]+V[-\\d.]+H[-\\d.]+Z$/;
    const rects = [...plot.querySelectorAll('.shapelayer path')].filter(p => RECT.test(p.getAttribute('d') || ''))
        .map(box).filter(b => b.width > 10 && b.height > 10);
    for (const it of items) {
        if (it.what !== 'annotation') continue;
        const cx = (it.box.left + it.box.right) / 2, cy = (it.box.top + it.box.bottom) / 2;
        // The innermost box around it; of equal ones the front one, drawn last (a stack's outlines lie behind).
        const around = [...rects].reverse().filter(r => cx >= r.left && cx <= r.right && cy >= r.top && cy <= r.bottom)
            .sort((a, b) => a.width * a.height - b.width * b.height)[0];
        if (!around) continue;
        const past = [];
        if (it.box.left < around.left - 1) past.push(`${around.left - it.box.left} px on the left`);
        if (it.box.right > around.right + 1) past.push(`${it.box.right - around.right} px on the right`);
        if (it.box.top < around.top - 1) past.push(`${around.top - it.box.top} px at the top`);
        if (it.box.bottom > around.bottom + 1) past.push(`${it.box.bottom - around.bottom} px at the bottom`);
        const size = `${it.box.width} × ${it.box.height} px`;
        if (past.length) out.cut.push(`annotation "${it.text}" (${size}, at ${fmt(it.box)}) `
                                      + `spills out of its box (${around.width} × ${around.height} px, at `
                                      + `${fmt(around)}) by ${past.join(', ')}`);
    }
    const overlap = (a, b) => [Math.min(a.right, b.right) - Math.max(a.left, b.left),
                               Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)];
    for (let x = 0; x < items.length; x++) {
        for (let y = x + 1; y < items.length; y++) {
            const a = items[x], b = items[y];
            if (a.axis && a.axis === b.axis) continue;
            const [w, h] = overlap(a.box, b.box);
            if (w > 2 && h > 2) out.overlaps.push(`${a.what} "${a.text}" (${fmt(a.box)}) and ${b.what} "${b.text}" `
                                                  + `(${fmt(b.box)}) overlap by ${w} × ${h} px`);
        }
    }
    const bars = [];
    const modebar = plot.querySelector('.modebar');
    if (modebar && modebar.querySelector('.modebar-btn') && getComputedStyle(modebar).display !== 'none') {
        bars.push(['Plotly mode bar', box(modebar)]);
    }
    const frame = plot.closest('[data-testid=stElementContainer]') || plot.parentElement;
    for (const bar of frame.querySelectorAll('[data-testid=stElementToolbar]')) {
        if (visible(bar) && parseFloat(getComputedStyle(bar).opacity) > 0.1) bars.push(['Streamlit toolbar', box(bar)]);
    }
    for (const [barName, b] of bars) {
        if (b.width <= 0 || b.height <= 0) continue;
        for (const it of items) {
            if (it.what === 'axis title' || it.what === 'tick label') continue;
            const [w, h] = overlap(b, it.box);
            if (w > 2 && h > 2) out.covered.push(`${barName} (${fmt(b)}) covers ${it.what} "${it.text}" `
                                                 + `(${fmt(it.box)}) by ${w} × ${h} px`);
        }
    }
    return out;
}"""

# The network diagram (an SVG picture of our own, not a Plotly chart): each label inside its part's box (the state's
# label rides the loop above it), no two labels overlapping, the picture within its element and the window.
DIAGRAM_JS = "() => {" + COMMON_JS + """
    const faults = [];
    const fmt = b => `${b.left}..${b.right} × ${b.top}..${b.bottom}`;
    for (const svg of document.querySelectorAll('.st-key-fig_network svg')) {
        if (!visible(svg)) continue;
        const whole = box(svg);
        const frame = box(svg.closest('[data-testid=stElementContainer]') || svg.parentElement);
        if (whole.right > Math.min(frame.right, innerWidth) + 1)
            faults.push(`network diagram (${fmt(whole)}) ${whole.right - Math.min(frame.right, innerWidth)} px past `
                        + `the right edge of its element or the window (${fmt(frame)}, ${innerWidth} px)`);
        const foreign = [...svg.querySelectorAll('*')].filter(e => e.namespaceURI !== svg.namespaceURI)
            .map(e => e.tagName);
        if (foreign.length || svg.closest('p')) faults.push(`network diagram read as Markdown: inside a paragraph `
                                                            + `or holding ${foreign.join(', ')}`);
        const labels = [...svg.querySelectorAll('text.label')]
            .map(t => ({text: squash(t.textContent), box: box(t), el: t})).filter(l => l.box.width > 0 && l.text);
        for (const l of labels) {
            const rect = l.el.closest('g.part') && l.el.closest('g.part').querySelector('rect.box');
            if (!rect || l.el.classList.contains('state')) continue;
            const b = box(rect), past = [];
            if (l.box.left < b.left - 1) past.push(`${b.left - l.box.left} px on the left`);
            if (l.box.right > b.right + 1) past.push(`${l.box.right - b.right} px on the right`);
            if (l.box.top < b.top - 1) past.push(`${b.top - l.box.top} px at the top`);
            if (l.box.bottom > b.bottom + 1) past.push(`${l.box.bottom - b.bottom} px at the bottom`);
            if (past.length) faults.push(`network diagram label "${l.text}" (${l.box.width} × ${l.box.height} px, at `
                                         + `${fmt(l.box)}) spills out of its box (${fmt(b)}) by ${past.join(', ')}`);
        }
        for (let x = 0; x < labels.length; x++) {
            for (let y = x + 1; y < labels.length; y++) {
                const a = labels[x].box, b = labels[y].box;
                const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (w > 2 && h > 2) faults.push(`network diagram labels "${labels[x].text}" (${fmt(a)}) and `
                                                + `"${labels[y].text}" (${fmt(b)}) overlap by ${w} × ${h} px`);
            }
        }
    }
    // The empty loss chart before a run (a picture too): an HTML block, every text inside its element and the
    // window, none over another.
    for (const svg of document.querySelectorAll('.st-key-fig_loss svg.empty-chart')) {
        if (!visible(svg)) continue;
        if (svg.closest('p')) faults.push('empty loss chart read as Markdown: inside a paragraph');
        const frame = box(svg.closest('[data-testid=stElementContainer]') || svg.parentElement);
        const texts = [...svg.querySelectorAll('text')].map(t => ({text: squash(t.textContent), box: box(t)}));
        for (const t of texts) {
            if (t.box.left < frame.left - 1 || t.box.right > Math.min(frame.right, innerWidth) + 1)
                faults.push(`empty loss chart's "${t.text}" (${fmt(t.box)}) past its element (${fmt(frame)})`);
        }
        for (let x = 0; x < texts.length; x++) {
            for (let y = x + 1; y < texts.length; y++) {
                const a = texts[x].box, b = texts[y].box;
                const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (w > 2 && h > 2) faults.push(`empty loss chart's "${texts[x].text}" and "${texts[y].text}" `
                                                + `overlap by ${w} × ${h} px`);
            }
        }
    }
    return faults;
}"""

# Where the named parts of the Train page are, in the scrolled content (as if nothing were scrolled), and whether
# something else covers their middle.
FIRST_SCREEN_JS = "(labels) => {" + COMMON_JS + """
    const scrolled = el => {  // how far the containers around `el` are scrolled
        let x = 0, y = 0;
        for (let p = el.parentElement; p; p = p.parentElement) { x += p.scrollLeft; y += p.scrollTop; }
        return [x, y];
    };
    const titleOf = p => ((p.layout && p.layout.title && p.layout.title.text) || '').replace(/<[^>]*>/g, '');
    const plots = [...document.querySelectorAll('.js-plotly-plot')].filter(visible);
    const found = [];
    const add = (what, el) => {
        if (!el) { found.push({what, missing: true}); return; }
        const b = box(el), [sx, sy] = scrolled(el);
        const cx = (b.left + b.right) / 2, cy = (b.top + b.bottom) / 2;
        const hit = document.elementFromPoint(cx, cy);
        const covered = hit && !el.contains(hit) && !hit.contains(el)
            ? tag(hit) + ' ' + squash(textOf(hit)).slice(0, 40) : null;
        found.push({what, missing: false, text: textOf(el).slice(0, 60), left: b.left + sx, right: b.right + sx,
                    top: b.top + sy, bottom: b.bottom + sy, scrolledBy: sy,
                    covered: sy === 0 && cy >= 0 && cy < innerHeight ? covered : null});
    };
    const train = [...document.querySelectorAll('.st-key-train button[data-testid^=stBaseButton]')].find(visible)
        || [...document.querySelectorAll('[data-testid=stMain] button')].find(b => /^(▶️?\\s*)?Train$/.test(textOf(b)));
    add('Train button', train && visible(train) ? train : null);
    // Before a run the loss chart is its empty frame, a picture drawn without Plotly.
    add('loss chart', plots.find(p => titleOf(p).startsWith('Loss'))
        || plots.find(p => p.closest('.st-key-fig_loss'))
        || [...document.querySelectorAll('.st-key-fig_loss svg.empty-chart')].find(visible));
    for (const label of labels) {
        const l = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stWidgetLabel]')]
            .find(el => visible(el) && textOf(el) === label);
        add(`setting "${label}"`, l && (l.closest('[data-testid=stElementContainer]') || l));
    }
    const predictions = plots.find(p => p.closest('.st-key-fig_predictions'))
        || plots.find(p => /predict/i.test(titleOf(p)));
    add('predictions chart', predictions || null);
    return {width: innerWidth, height: innerHeight, found};
}"""

SIDEBAR_JS = """() => {
    const bar = document.querySelector('[data-testid=stSidebar]');
    if (!bar) return {exists: false, closed: true, state: 'no sidebar'};
    const r = bar.getBoundingClientRect();
    const expanded = bar.getAttribute('aria-expanded'), collapsed = bar.dataset.collapsed;
    const closed = expanded === 'false' || collapsed === 'true' || r.right <= 1 || r.width < 5;
    const x = `x ${Math.round(r.left)}..${Math.round(r.right)}`;
    return {exists: true, closed, state: `aria-expanded=${expanded}, data-collapsed=${collapsed}, ${x}`};
}"""


# --- what a walk through the app found ---

@dataclass
class Survey:
    size: str
    phone: bool
    truncated: list[str] = field(default_factory=list)
    broken_words: list[str] = field(default_factory=list)
    charts_cut: list[str] = field(default_factory=list)
    mode_bar: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    first_screen: list[str] = field(default_factory=list)
    sidebar: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # the page states measured, in order
    reported: set[tuple[str, str]] = field(default_factory=set)  # (page, fault): each reported once


def size_name(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def settle(page: Page, charts: int = 0) -> None:
    """Wait for the script, the fonts, `charts` drawn Plotly charts, and a quiet moment for Plotly's resizing."""
    wait_ready(page)
    page.evaluate("document.fonts.ready.then(() => true)")
    if charts:
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {charts}",
                               timeout=STEP_MS)
    time.sleep(0.6)
    wait_ready(page)


def measure(page: Page, survey: Survey, where: str) -> None:
    """The truncation, word-break and chart checks of the page on screen, added to `survey` under `where`; then
    the same with the main area's expanders opened (a closed one hides its content from the checks), each fault
    reported once per page."""
    _measure(page, survey, where, where)
    if page.evaluate(OPEN_EXPANDERS_JS):
        settle(page)
        _measure(page, survey, where, f"{where}, expanders open")


def _measure(page: Page, survey: Survey, where: str, label: str, charts: bool = True) -> None:
    survey.seen.append(label)

    def add(faults: list[str], fault: str) -> None:
        if (where, fault) not in survey.reported:
            survey.reported.add((where, fault))
            faults.append(f"[{label}] {fault}")

    for t in page.evaluate(TRUNCATED_JS):
        add(survey.truncated, f"{t['kind']} {t['text']!r} ({t['where']}; {t['element']}): "
                              f"scrollWidth {t['scrollWidth']} > clientWidth {t['clientWidth']} ({t['how']})")
    for b in page.evaluate(BROKEN_WORDS_JS):
        add(survey.broken_words, f"{b['text']!r} ({b['where']}; {b['element']}, {b['width']} px wide, "
                                 f"{b['lines']} lines): broken inside {', '.join(map(repr, b['words']))}")
    for fault in page.evaluate(DIAGRAM_JS):
        add(survey.charts_cut, fault)
    for i in page.evaluate(VISIBLE_PLOTS_JS) if charts else []:
        with contextlib.suppress(Exception):  # hover, so that the mode bar shows; a redrawn chart may have gone
            page.locator(".js-plotly-plot").nth(i).hover(position={"x": 40, "y": 40}, timeout=5_000)
            time.sleep(0.15)
        chart = page.evaluate(CHART_JS, i)
        if chart is None:
            continue
        prefix = f"chart {chart['chart']} ({chart['size']} px): "
        for faults, found in ((survey.charts_cut, chart["cut"]), (survey.mode_bar, chart["covered"]),
                              (survey.overlaps, chart["overlaps"])):
            for fault in found:
                add(faults, prefix + fault)
    page.mouse.move(1, 1)


def first_screen(page: Page, survey: Survey, where: str, predictions: bool) -> None:
    """Projector: the Train button, the loss chart, the most changed settings (and the predictions) inside the
    window without scrolling. Phone: the Train button within the first two screen heights."""
    found = page.evaluate(FIRST_SCREEN_JS, MOST_CHANGED)
    width, height = found["width"], found["height"]
    wanted = ["Train button"] if survey.phone else (
        ["Train button", "loss chart"] + [f'setting "{label}"' for label in MOST_CHANGED]
        + (["predictions chart"] if predictions else []))
    limit = 2 * height if survey.phone else height
    for part in found["found"]:
        if part["what"] not in wanted:
            continue
        if part["missing"]:
            survey.first_screen.append(f"[{where}] {part['what']}: not on the page")
            continue
        faults = []
        if part["bottom"] > limit + 1:
            faults.append(f"its bottom at y={part['bottom']} is below the first {limit} px"
                          f"{' (two screen heights)' if survey.phone else ''}")
        if part["top"] < -1:
            faults.append(f"its top at y={part['top']} is above the window")
        if part["right"] > width + 1 or part["left"] < -1:
            faults.append(f"x {part['left']}..{part['right']} is outside the window's {width} px")
        if part["covered"] and not survey.phone:
            faults.append(f"its middle is covered by {part['covered']}")
        if faults:
            survey.first_screen.append(f"[{where}] {part['what']} {part['text']!r} "
                                       f"(y {part['top']}..{part['bottom']}, x {part['left']}..{part['right']}, "
                                       f"window {width} × {height}): {'; '.join(faults)}")


def sidebar_closed(page: Page, survey: Survey, after: str) -> None:
    """On a phone the sidebar covers the page: after `after` it must be closed (the app may close it a moment
    later from a script). Closes it if it stayed open, so that the walk goes on."""
    try:
        poll_until("the sidebar to close", lambda: page.evaluate(SIDEBAR_JS)["closed"], SIDEBAR_CLOSE_S)
    except AssertionError:
        state = page.evaluate(SIDEBAR_JS)["state"]
        survey.sidebar.append(f"after {after}, the sidebar is still open ({state}) and covers the page")
        with contextlib.suppress(Exception):
            page.get_by_test_id("stSidebarCollapseButton").locator("button").click(timeout=5_000)
        with contextlib.suppress(Exception):
            page.get_by_role("button", name="Collapse sidebar").click(timeout=2_000)


def open_sidebar(page: Page) -> None:
    if page.evaluate(SIDEBAR_JS)["closed"]:
        control = page.get_by_test_id("stExpandSidebarButton")
        (control.locator("button") if control.locator("button").count() else control).click()
        poll_until("the sidebar to open", lambda: not page.evaluate(SIDEBAR_JS)["closed"], 10)
        time.sleep(0.4)  # its slide-in


def phone_go_to(page: Page, survey: Survey, link: str, title: str) -> None:
    open_sidebar(page)
    sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(heading(page, title)).to_be_visible()
    wait_ready(page)
    sidebar_closed(page, survey, f"following the sidebar's link to {link!r}")


def theory_tabs(page: Page, survey: Survey, name: str) -> None:
    """The Theory page's other tabs, each measured once opened (only the open tab is drawn)."""
    for key, (label, title) in list(theory_text.SECTIONS.items())[1:]:
        page.get_by_role("tab", name=label, exact=True).click()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        wait_ready(page)
        settle(page)
        screenshot(page, f"layout_{name}_theory_{key}")
        measure(page, survey, f"Theory, {label}")


def deep_networks(page: Page, survey: Survey, server: str, name: str) -> None:
    """The Train page with three and four recurrent layers, opened by their links: the network diagram's deep
    stacks measured like the rest (four layers once spilled out of a phone's width)."""
    for layers in (3, 4):
        page.goto(f"{server}/train?m.layers={layers}")
        wait_ready(page, FIRST_LOAD_MS)
        expect(heading(page, "Model & training")).to_be_visible(timeout=FIRST_LOAD_MS)
        expect(page.locator(".st-key-fig_network svg")).to_be_visible()
        # The loss chart: empty before this browser's first run, that run's after it.
        expect(page.locator(".st-key-fig_loss svg.empty-chart, .st-key-fig_loss .js-plotly-plot")).to_be_visible()
        settle(page)
        screenshot(page, f"layout_{name}_train_{layers}_layers")
        measure(page, survey, f"Model & training, {layers} layers")


def train_and_wait(page: Page) -> None:
    """Press Train, wait for the end of the short run, skip its replay, wait for its predictions."""
    page.get_by_role("button", name="Train").click()
    expect(run_status(page)).to_contain_text(f"Finished: {EPOCHS} epochs", timeout=RUN_S * 1000)
    with contextlib.suppress(Exception):
        page.get_by_role("button", name="Skip").click(timeout=3_000)
    expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Trained all")).to_be_visible()
    settle(page)


def after_run_tab(page: Page) -> Page:
    """The run's address in a new tab of the same browser: the finished run drawn at once, nothing scrolled."""
    tab = page.context.new_page()
    tab.goto(page.url)
    wait_ready(tab, FIRST_LOAD_MS)
    expect(heading(tab, "Model & training")).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(tab.locator(".st-key-fig_predictions .js-plotly-plot")).to_be_visible(timeout=FIRST_LOAD_MS)
    settle(tab, charts=3)
    return tab


# --- the walks: one per size, shared by that size's checks ---

@pytest.fixture(scope="module", params=PROJECTORS, ids=size_name)
def projector(request, e2e_server, e2e_browser) -> Survey:
    size = request.param
    name = size_name(size)
    survey = Survey(name, phone=False)
    context = e2e_browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    pages = [page]
    try:
        with screenshots_on_failure(f"layout_{name}", pages):
            open_app(page, f"{e2e_server}/?t.epochs={EPOCHS}")
            settle(page)
            screenshot(page, f"layout_{name}_data")
            measure(page, survey, "Data")

            go_to(page, "Model & training", "Model & training")
            expect(page.locator(".st-key-fig_loss svg.empty-chart")).to_be_visible()
            settle(page)
            first_screen(page, survey, "Model & training, before a run", predictions=False)
            screenshot(page, f"layout_{name}_train_before_run")
            measure(page, survey, "Model & training, before a run")

            train_and_wait(page)
            tab = after_run_tab(page)
            pages.append(tab)
            first_screen(tab, survey, "Model & training, after a run", predictions=True)
            screenshot(tab, f"layout_{name}_train_after_run")
            measure(tab, survey, "Model & training, after a run")

            for link, slug in [("Inspect", "inspect"), ("Runs", "runs"), ("Theory", "theory")]:
                go_to(tab, link, link)
                settle(tab)
                screenshot(tab, f"layout_{name}_{slug}")
                measure(tab, survey, link)
            theory_tabs(tab, survey, name)
            deep_networks(tab, survey, e2e_server, name)
    finally:
        context.close()
    return survey


@pytest.fixture(scope="module")
def phone(e2e_server, e2e_browser) -> Survey:
    name = size_name(PHONE)
    survey = Survey(name, phone=True)
    context = e2e_browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]}, is_mobile=True,
                                      has_touch=True, device_scale_factor=2)
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    pages = [page]
    try:
        with screenshots_on_failure(f"layout_{name}", pages):
            page.goto(f"{e2e_server}/")
            wait_ready(page, FIRST_LOAD_MS)
            expect(heading(page, "Data")).to_be_visible(timeout=FIRST_LOAD_MS)
            settle(page)
            if not page.evaluate(SIDEBAR_JS)["closed"]:
                survey.sidebar.append(f"the first page opens with the sidebar open "
                                      f"({page.evaluate(SIDEBAR_JS)['state']})")
            screenshot(page, f"layout_{name}_data")
            measure(page, survey, "Data")

            open_sidebar(page)
            screenshot(page, f"layout_{name}_sidebar_open")
            # The open sidebar's own labels and buttons (the page under it was measured above).
            _measure(page, survey, "Data", "Data, sidebar open", charts=False)
            choose(page, sidebar(page).get_by_role("combobox", name="Preset"), "seed")
            sidebar(page).get_by_role("button", name="Load preset").click()
            expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Loaded the seed preset")
            wait_ready(page)
            sidebar_closed(page, survey, "Load preset")

            phone_go_to(page, survey, "Model & training", "Model & training")
            expect(page.locator(".st-key-fig_loss svg.empty-chart")).to_be_visible()
            settle(page)
            first_screen(page, survey, "Model & training, before a run", predictions=False)
            screenshot(page, f"layout_{name}_train_before_run")
            measure(page, survey, "Model & training, before a run")

            epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
            epochs.fill(str(EPOCHS))
            epochs.press("Enter")
            wait_ready(page)
            expect(page).to_have_url(re.compile(rf"t\.epochs={EPOCHS}\b"))
            train_and_wait(page)
            tab = after_run_tab(page)
            pages.append(tab)
            first_screen(tab, survey, "Model & training, after a run", predictions=True)
            screenshot(tab, f"layout_{name}_train_after_run")
            measure(tab, survey, "Model & training, after a run")

            for link, slug in [("Inspect", "inspect"), ("Runs", "runs"), ("Theory", "theory")]:
                phone_go_to(tab, survey, link, link)
                settle(tab)
                screenshot(tab, f"layout_{name}_{slug}")
                measure(tab, survey, link)
            theory_tabs(tab, survey, name)
            deep_networks(tab, survey, e2e_server, name)
    finally:
        context.close()
    return survey


# --- the checks ---

def report(survey: Survey, what: str, faults: list[str]) -> str:
    return (f"{len(faults)} {what} at {survey.size} (pages measured: {', '.join(survey.seen)}):\n  "
            + "\n  ".join(faults))


def check_truncation(survey: Survey) -> None:
    assert not survey.truncated, report(survey, "elements whose text overflows its box", survey.truncated)


def check_broken_words(survey: Survey) -> None:
    assert not survey.broken_words, report(survey, "labels broken inside a word", survey.broken_words)


def check_charts_whole(survey: Survey) -> None:
    faults = survey.charts_cut + survey.mode_bar
    assert not faults, report(survey, "chart titles, legend entries or labels cut, spilling or under the mode bar",
                              faults)


def check_no_overlaps(survey: Survey) -> None:
    assert not survey.overlaps, report(survey, "overlapping chart texts", survey.overlaps)


def test_nothing_is_truncated_on_a_projector(projector):
    check_truncation(projector)


def test_nothing_is_truncated_on_a_phone(phone):
    check_truncation(phone)


def test_no_label_breaks_inside_a_word_on_a_projector(projector):
    check_broken_words(projector)


def test_no_label_breaks_inside_a_word_on_a_phone(phone):
    check_broken_words(phone)


def test_chart_titles_and_legends_are_whole_and_clear_of_the_mode_bar_on_a_projector(projector):
    check_charts_whole(projector)


def test_chart_titles_and_legends_are_whole_and_clear_of_the_mode_bar_on_a_phone(phone):
    check_charts_whole(phone)


def test_chart_annotations_and_legends_do_not_overlap_on_a_projector(projector):
    check_no_overlaps(projector)


def test_chart_annotations_and_legends_do_not_overlap_on_a_phone(phone):
    check_no_overlaps(phone)


def test_train_the_loss_chart_and_the_main_settings_fill_the_first_screen_of_a_projector(projector):
    assert not projector.first_screen, report(projector, "parts of the Train page outside the first screen",
                                              projector.first_screen)


def test_the_train_button_is_within_two_screens_of_a_phone(phone):
    assert not phone.first_screen, report(phone, "parts of the Train page too far down", phone.first_screen)


def test_the_sidebar_closes_after_load_preset_and_a_page_change_on_a_phone(phone):
    assert not phone.sidebar, report(phone, "times the sidebar stayed open", phone.sidebar)
