"""A hidden Markov model as a baseline on token tasks: a memory of one of K states against an RNN's vector of reals.

A `hmmlearn` CategoricalHMM with K states is fitted to the training sequences by Baum-Welch, under caps on the
tokens it sees, its iterations and its wall-clock time, and scored on validation with a forward filter written
here. What the HMM observes depends on the task:

- next-token tasks (each target is the next input: random and patterned digits): the token sequence itself, and
  the prediction is P(x_t+1 | x_≤t) = Σ_k P(state_t = k | x_≤t) · Σ_j A[k, j] · B[j, x_t+1], the textbook HMM
  (as pairs, each token would count twice: as one step's target and as the next step's input);
- every other token task (delay, copy memory): each step emits the pair (input, target), or (input, "no target")
  where a step's weight is 0, and the prediction is
  P(y_t | x_≤t, y_<t) ∝ Σ_k P(state_t = k | pairs_<t) · B[k, (x_t, y_t)], normalised over y_t.

Both are one filter: the state distribution that predicts step t has seen the observations before t and the input
of step t, never a later step (hmmlearn's `predict_proba` smooths with the whole sequence, which would see the
answers). In every token task here the earlier targets are a function of the inputs read so far, so the HMM is told
nothing the RNN does not read.

Why a few states cannot do the delay task: at lag L the answer depends on the last L inputs, V^L possible
histories, and a state is one of K labels; as each step emits (input, target), an exact model's state holds the
current input and the L before it, V^(L+1) states, and a bigger K costs K² a step. An RNN's state is a vector of
reals that can hold a shift register. On patterned digits a motif of m distinct tokens needs m states (its
positions), which K = the vocabulary size always covers.

hmmlearn (and scikit-learn and SciPy under it) is imported only when a model is fitted: about 3 s and 170 MB in a
fresh process, 0.3 s and 20 MB where TensorFlow is already imported (a training worker), measured here; the app's
own process never imports it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from seqcore.data import SequenceData

log = logging.getLogger(__name__)

MAX_STATES = 16  # K = the vocabulary size, capped: the E-step costs K² a token
# Training steps Baum-Welch sees, in whole sequences drawn with a seeded generator. hmmlearn's E-step loops over
# sequences in Python, about 0.1 ms a sequence an iteration here: 3,000 tokens keep a preset's fit near 0.3 s.
MAX_TRAIN_TOKENS = 3_000
MAX_ITERATIONS = 30  # of the model kept, its random start's included
# EM stops at a local optimum: from one start, K = 4 on patterned digits (motif 4) stayed near 0.25 accuracy with
# 3 of 5 data seeds; the likeliest of 3 starts reached the true model's accuracy with all 5 at K = vocabulary.
RANDOM_STARTS = 3
TIME_BUDGET_S = 2.0  # a safety net for large data: the presets converge or reach MAX_ITERATIONS long before it
ITERATIONS_PER_CALL = 4  # EM iterations between looks at the clock
TOLERANCE = 1e-4  # converged when an iteration gains less than this in training log-likelihood per token
PSEUDOCOUNT = 0.5  # added to every emission count (a Dirichlet prior): a symbol unseen in training is not impossible
FLOOR = 1e-9  # mixed into the emissions when scoring, so no prediction is exactly 0


@dataclass(frozen=True)
class FittedHMM:
    startprob: np.ndarray  # (K,)
    transmat: np.ndarray  # (K, K): transmat[i, j] = P(state_t+1 = j | state_t = i)
    emissionprob: np.ndarray  # (K, symbols): tokens (next-token tasks) or (input, target) pairs (`pair_symbols`)
    n_inputs: int
    n_targets: int
    next_token: bool  # the observations are the token sequence, not (input, target) pairs
    iterations: int
    converged: bool
    seconds: float  # the EM iterations, not the import of hmmlearn
    train_tokens: int

    @property
    def states(self) -> int:
        return len(self.startprob)


def states_for(vocab: int) -> int:
    """K = the vocabulary size, capped at MAX_STATES: a motif of distinct tokens (at most one of each) then has a state
    for each of its positions, so the HMM can model patterned digits exactly. The cap: a fit's E-step costs K² a
    token, and at K = 16 the delay preset's fit took 0.5-0.7 s here (0.2-0.45 s at the presets' own K, 4 and 10)."""
    return max(2, min(vocab, MAX_STATES))


def is_next_token(inputs: np.ndarray, targets: np.ndarray, weights: np.ndarray | None) -> bool:
    """Whether every target is the next step's input: then the token sequence is what the HMM observes."""
    return weights is None and inputs.shape[1] > 1 and np.array_equal(targets[:, :-1], inputs[:, 1:])


def pair_symbols(inputs: np.ndarray, targets: np.ndarray, weights: np.ndarray | None, n_targets: int) -> np.ndarray:
    """Each step's (input, target) pair as one symbol; a step whose weight is 0 pairs its input with 'no target'."""
    if weights is not None:
        targets = np.where(weights > 0, targets, n_targets)
    return inputs * (n_targets + 1) + targets


def _observations(inputs, targets, weights, n_targets: int, next_token: bool) -> np.ndarray:
    if next_token:
        return np.concatenate([inputs, targets[:, -1:]], axis=1)  # the whole token sequence
    return pair_symbols(inputs, targets, weights, n_targets)


def fit_hmm(inputs: np.ndarray, targets: np.ndarray, weights: np.ndarray | None, *, n_inputs: int, n_targets: int,
            states: int, seed: int = 0, max_tokens: int = MAX_TRAIN_TOKENS, max_iterations: int = MAX_ITERATIONS,
            budget_s: float = TIME_BUDGET_S) -> FittedHMM:
    """Baum-Welch on (N, T) token ids: on at most `max_tokens` steps (whole sequences drawn with `seed`), until an
    iteration gains less than TOLERANCE a token, `max_iterations` are done, or `budget_s` seconds have passed.
    The clock is read after the random starts (RANDOM_STARTS × ITERATIONS_PER_CALL iterations) and then every
    ITERATIONS_PER_CALL iterations, so a fit may run over its budget by that much."""
    from hmmlearn.hmm import CategoricalHMM

    t0 = time.monotonic()
    next_token = is_next_token(inputs, targets, weights)
    n = len(inputs)
    keep = max(1, min(n, max_tokens // (inputs.shape[1] + next_token)))
    rows = np.sort(np.random.default_rng(seed).choice(n, size=keep, replace=False)) if keep < n else np.arange(n)
    observed = _observations(inputs[rows], targets[rows], None if weights is None else weights[rows], n_targets,
                             next_token)
    symbols = n_inputs if next_token else n_inputs * (n_targets + 1)
    lengths = np.full(keep, observed.shape[1])
    hmmlearn_log = logging.getLogger("hmmlearn")
    level = hmmlearn_log.level
    hmmlearn_log.setLevel(logging.ERROR)  # its "degenerate solution" and "not converging" notes, at every call
    try:
        # EM finds a local optimum: a few random starts run a few iterations each, and the likeliest goes on.
        starts = []
        for start in range(RANDOM_STARTS):
            model = CategoricalHMM(n_components=states, n_features=symbols, emissionprob_prior=1 + PSEUDOCOUNT,
                                   random_state=seed + start, n_iter=ITERATIONS_PER_CALL,
                                   tol=TOLERANCE * observed.size, implementation="scaling")
            model.fit(observed.reshape(-1, 1), lengths)
            model.init_params = ""  # later calls go on from where this one stopped
            starts.append((model.monitor_.history[-1], model))
        _, model = max(starts, key=lambda s: s[0])  # the first of equals
        iterations, converged = len(model.monitor_.history), _converged(model)
        while iterations < max_iterations and not converged and time.monotonic() - t0 < budget_s:
            model.n_iter = min(ITERATIONS_PER_CALL, max_iterations - iterations)
            model.fit(observed.reshape(-1, 1), lengths)
            iterations += len(model.monitor_.history)
            converged = _converged(model)
    finally:
        hmmlearn_log.setLevel(level)
    return FittedHMM(model.startprob_, model.transmat_, model.emissionprob_, n_inputs, n_targets, next_token,
                     iterations, converged, time.monotonic() - t0, int(observed.size))


def _converged(model) -> bool:
    history = model.monitor_.history
    return len(history) >= 2 and history[-1] - history[-2] < model.tol


def target_probabilities(hmm: FittedHMM, inputs: np.ndarray, targets: np.ndarray,
                         weights: np.ndarray | None = None) -> np.ndarray:
    """(N, T, n_targets): the probability of each target at each step, by the forward filter, all sequences at once.

    The state distribution that predicts step t has seen the observations of steps 0..t-1 and the input of step t.
    """
    emission = (1 - FLOOR) * hmm.emissionprob + FLOOR / hmm.emissionprob.shape[1]
    if hmm.next_token:  # predicting[k, x, y] = B[k, x] · P(next token y | state k)
        predicting = emission[:, :, None] * (hmm.transmat @ emission)[:, None, :]
        observed = inputs
    else:  # predicting[k, x, y] = B[k, (x, y)]
        predicting = emission.reshape(hmm.states, hmm.n_inputs, hmm.n_targets + 1)[:, :, :hmm.n_targets]
        observed = pair_symbols(inputs, targets, weights, hmm.n_targets)
    # (n_inputs, K, n_targets), indexed by each sequence's input; float32 halves the time of these products.
    predicting = predicting.transpose(1, 0, 2).astype(np.float32)
    emission, transmat = emission.astype(np.float32), hmm.transmat.astype(np.float32)
    n, steps = inputs.shape
    belief = np.broadcast_to(hmm.startprob.astype(np.float32), (n, hmm.states))  # P(state_t | what came before t)
    out = np.empty((n, steps, hmm.n_targets), dtype=np.float32)
    for t in range(steps):
        joint = (belief[:, None, :] @ predicting[inputs[:, t]])[:, 0]
        out[:, t] = joint / joint.sum(axis=1, keepdims=True)
        filtered = belief * emission[:, observed[:, t]].T
        belief = (filtered / filtered.sum(axis=1, keepdims=True)) @ transmat  # rescaled: nothing underflows
    return out


def scores(hmm: FittedHMM, inputs: np.ndarray, targets: np.ndarray,
           weights: np.ndarray | None = None) -> tuple[float, float]:
    """(accuracy, cross-entropy in nats) of the filter's predictions, averaged over steps weighted by `weights`."""
    probabilities = target_probabilities(hmm, inputs, targets, weights)
    w = np.ones(inputs.shape) if weights is None else weights
    right = probabilities.argmax(-1) == targets
    chosen = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0].astype(np.float64)
    return float(np.sum(right * w) / np.sum(w)), float(np.sum(-np.log(chosen) * w) / np.sum(w))


def hmm_names(states: int) -> tuple[str, str, str]:
    """The baselines' names, the same for every run on the same data: the charts draw those with 'accuracy' and
    'entropy' in them; the fitting time is only listed."""
    suffix = f"(K = {states} states)"
    return f"HMM accuracy {suffix}", f"HMM cross-entropy {suffix}", f"HMM fitting seconds {suffix}"


def hmm_baselines(data: SequenceData, *, states: int | None = None, seed: int = 0,
                  budget_s: float = TIME_BUDGET_S) -> dict[str, float]:
    """The HMM's validation accuracy and cross-entropy and its fitting time, or nothing (with a warning logged)
    when the fit fails: a run goes on without this baseline."""
    k = states or states_for(data.n_outputs)
    try:
        hmm = fit_hmm(data.x_train.argmax(-1), data.y_train.argmax(-1), data.w_train, n_inputs=data.n_features,
                      n_targets=data.n_outputs, states=k, seed=seed, budget_s=budget_s)
        accuracy, entropy = scores(hmm, data.x_val.argmax(-1), data.y_val.argmax(-1), data.w_val)
    except Exception as error:  # a baseline must never stop a run
        log.warning("The HMM baseline is left out: %s: %s", type(error).__name__, error)
        return {}
    accuracy_name, entropy_name, seconds_name = hmm_names(k)
    return {accuracy_name: accuracy, entropy_name: entropy, seconds_name: hmm.seconds}
