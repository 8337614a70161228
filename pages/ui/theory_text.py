"""The words of the Theory page: prose (Markdown), equations (LaTeX) and tables. Plain data, no logic.

Prose blocks are ("md", text) and equation blocks ("latex", text); the page draws them in order.
The notation follows Keras 3 and `seqcore.reference`: vectors are rows, a layer computes
x_t W + h_{t-1} U + b, n is the number of units and m the number of inputs per step.
"""

INTRO = (
    "What the networks in this lab compute, and how they learn, in the notation of the code. "
    "Vectors are **rows**, as in Keras: an input $x_t$ has $m$ features, a hidden state $h_t$ has $n$ units, "
    "and a layer computes $x_t W + h_{t-1} U + b$."
)

# The page's tabs, key: (label, heading). Only the open tab is drawn: the whole page's charts, equations and code
# cost a first visit's browser seconds.
SECTIONS = {
    "cells": ("Cells", "Three recurrent cells"),
    "training": ("Training", "Training is maximum likelihood"),
    "long": ("Long sequences", "Why are long sequences hard?"),
    "overfitting": ("Overfitting", "How do we fight overfitting?"),
    "hmm_crf": ("HMMs and CRFs", "How do RNNs differ from HMMs and CRFs?"),
    "reading": ("Reading the dashboard", "How to read the dashboard"),
}

# ----------------------------------------------------------------------------- 1. the cells

CELLS_INTRO = (
    "A recurrent layer reads a sequence one step at a time and carries a **hidden state** $h_t$ from each step "
    "to the next: the same weights are used at every step, and $h_t$ is the layer's memory of everything it has "
    "seen so far. Every state starts at zero ($h_0 = 0$, and $c_0 = 0$ for the LSTM). "
    r"Notation: $\odot$ is element-wise multiplication, $\sigma(a) = 1/(1 + e^{-a})$ is the logistic sigmoid "
    r"(between 0 and 1, so it works as a soft switch, a *gate*) and $\tanh$ squashes to $-1 \ldots 1$."
)

BATCH_NOTE = (
    "The code runs a batch of $N$ sequences at once, so each row vector above becomes an $N$-row matrix; the "
    "equations hold row by row. `xW` is the input term $x_t W$, computed for all steps in one matrix product by "
    "`run_layer` before its time loop. In the code `@` is the matrix product and `*` is $\\odot$."
)

CELLS = {
    "SimpleRNN": {
        "intro": (
            "The plainest recurrent cell: mix the new input with the previous state and squash. "
            "The app also offers relu and sigmoid in place of tanh."
        ),
        "equations": r"h_t = \tanh\left(x_t W + h_{t-1} U + b\right)",
        "terms": (
            "| Symbol | Shape | Meaning |\n"
            "|---|---|---|\n"
            "| $x_t$ | $1 \\times m$ | the input at step $t$: a one-hot token or a value |\n"
            "| $h_{t-1}$, $h_t$ | $1 \\times n$ | the hidden state before and after the step, each value in "
            "$-1 \\ldots 1$ |\n"
            "| $W$ (kernel) | $m \\times n$ | how the input enters each unit |\n"
            "| $U$ (recurrent kernel) | $n \\times n$ | how the previous state enters each unit |\n"
            "| $b$ (bias) | $n$ | a constant shift per unit |\n"
        ),
        "params": r"\#\text{params} = \underbrace{n m}_{W} + \underbrace{n^2}_{U} + \underbrace{n}_{b}",
        "example": "With 50 units reading 10 one-hot digits: 50·10 + 50² + 50 = **3,050** parameters.",
        "code_links": (
            "- `pre_activation = xW + h_prev @ U + b` is the bracket $x_t W + h_{t-1} U + b$.\n"
            "- `h = act(pre_activation)` applies the activation ($\\tanh$ unless you chose another) and gives "
            "$h_t$.\n"
            "- The step also returns the pre-activation: that is what *Inspect* draws for a SimpleRNN, which has "
            "no gates."
        ),
    },
    "LSTM": {
        "intro": (
            "The long short-term memory adds a second state, the **cell state** $c_t$, and three gates that "
            "decide what to write into it, what to keep and what to show. Keras keeps the four blocks side by "
            "side in one $W$, one $U$ and one $b$, in the order $i, f, \\tilde c, o$."
        ),
        "equations": (
            r"\begin{aligned}"
            r"i_t &= \sigma\left(x_t W_i + h_{t-1} U_i + b_i\right) && \text{input gate}\\"
            r"f_t &= \sigma\left(x_t W_f + h_{t-1} U_f + b_f\right) && \text{forget gate}\\"
            r"\tilde c_t &= \tanh\left(x_t W_c + h_{t-1} U_c + b_c\right) && \text{candidate}\\"
            r"o_t &= \sigma\left(x_t W_o + h_{t-1} U_o + b_o\right) && \text{output gate}\\"
            r"c_t &= f_t \odot c_{t-1} + i_t \odot \tilde c_t && \text{cell state}\\"
            r"h_t &= o_t \odot \tanh\left(c_t\right) && \text{hidden state}"
            r"\end{aligned}"
        ),
        "terms": (
            "| Symbol | Shape | Meaning |\n"
            "|---|---|---|\n"
            "| $W = [W_i\\; W_f\\; W_c\\; W_o]$ | $m \\times 4n$ | the input weights of the four blocks |\n"
            "| $U = [U_i\\; U_f\\; U_c\\; U_o]$ | $n \\times 4n$ | the recurrent weights of the four blocks |\n"
            "| $b = [b_i\\; b_f\\; b_c\\; b_o]$ | $4n$ | the biases; Keras starts $b_f$ at 1 so that a new cell "
            "remembers by default |\n"
            "| $i_t$ | $1 \\times n$, in $0 \\ldots 1$ | input gate: how much of the candidate to write |\n"
            "| $f_t$ | $1 \\times n$, in $0 \\ldots 1$ | forget gate: how much of the old cell state to keep |\n"
            "| $\\tilde c_t$ | $1 \\times n$, in $-1 \\ldots 1$ | candidate: new content proposed from $x_t$ and "
            "$h_{t-1}$ |\n"
            "| $o_t$ | $1 \\times n$, in $0 \\ldots 1$ | output gate: how much of the cell to show as $h_t$ |\n"
            "| $c_t$ | $1 \\times n$ | cell state, the long-term memory: only scaled by $f_t$ and added to |\n"
            "| $h_t$ | $1 \\times n$, in $-1 \\ldots 1$ | hidden state: the layer's output at step $t$, fed back "
            "into every gate |\n"
        ),
        "params": (
            r"\#\text{params} = 4\,\big(\underbrace{n m}_{W} + \underbrace{n^2}_{U} + \underbrace{n}_{b}\big)"
        ),
        "example": ("The seed preset's LSTM(50) on 10 one-hot digits: 4·(50·10 + 50² + 50) = **12,200** parameters, "
                    "four times a SimpleRNN of the same size."),
        "code_links": (
            "- The three `np.split(..., 4, ...)` lines cut $x_t W$, $h_{t-1} U$ and $b$ into the blocks "
            "$i, f, \\tilde c, o$, in Keras' order.\n"
            "- `i = sigmoid(...)`, `f = sigmoid(...)`, `c_tilde = np.tanh(...)` and `o = sigmoid(...)` are the "
            "first four equations, one line each.\n"
            "- `c = f * c_prev + i * c_tilde` is the cell-state update.\n"
            "- `h = o * np.tanh(c)` is the last equation."
        ),
    },
    "GRU": {
        "intro": (
            "The gated recurrent unit has no separate cell state: an **update gate** blends the old state with a "
            "candidate, and a **reset gate** decides how much of the old state the candidate may use. "
            "Keras' block order is $z, r, \\tilde h$. This is the Keras 3 default, `reset_after=True`: the reset "
            "gate acts *after* the product with $U_h$, and the input and recurrent parts have separate biases "
            "$b^x$ and $b^h$."
        ),
        "equations": (
            r"\begin{aligned}"
            r"z_t &= \sigma\left(x_t W_z + b^x_z + h_{t-1} U_z + b^h_z\right) && \text{update gate}\\"
            r"r_t &= \sigma\left(x_t W_r + b^x_r + h_{t-1} U_r + b^h_r\right) && \text{reset gate}\\"
            r"\tilde h_t &= \tanh\left(x_t W_h + b^x_h + r_t \odot \left(h_{t-1} U_h + b^h_h\right)\right)"
            r" && \text{candidate}\\"
            r"h_t &= z_t \odot h_{t-1} + \left(1 - z_t\right) \odot \tilde h_t && \text{new state}"
            r"\end{aligned}"
        ),
        "terms": (
            "| Symbol | Shape | Meaning |\n"
            "|---|---|---|\n"
            "| $W = [W_z\\; W_r\\; W_h]$ | $m \\times 3n$ | the input weights of the three blocks |\n"
            "| $U = [U_z\\; U_r\\; U_h]$ | $n \\times 3n$ | the recurrent weights of the three blocks |\n"
            "| $b$ | $2 \\times 3n$ | row 0: the input biases $b^x$; row 1: the recurrent biases $b^h$ |\n"
            "| $z_t$ | $1 \\times n$, in $0 \\ldots 1$ | update gate: how much of the old state to keep "
            "($z = 1$: copy $h_{t-1}$ unchanged) |\n"
            "| $r_t$ | $1 \\times n$, in $0 \\ldots 1$ | reset gate: how much of the old state the candidate sees "
            "($r = 0$: start afresh from $x_t$) |\n"
            "| $\\tilde h_t$ | $1 \\times n$, in $-1 \\ldots 1$ | candidate state |\n"
            "| $h_t$ | $1 \\times n$, in $-1 \\ldots 1$ | new state: a per-unit blend of $h_{t-1}$ and "
            "$\\tilde h_t$ |\n"
        ),
        "params": (
            r"\#\text{params} = 3\,\big(\underbrace{n m}_{W} + \underbrace{n^2}_{U}"
            r" + \underbrace{2n}_{b^x,\ b^h}\big)"
        ),
        "example": "With 50 units reading 10 one-hot digits: 3·(50·10 + 50² + 2·50) = **9,300** parameters.",
        "code_links": (
            "- `np.split(xW + b[0], 3, ...)` adds the input biases $b^x$ to $x_t W$ and cuts the result into the "
            "blocks $z, r, h$.\n"
            "- `np.split(h_prev @ U + b[1], 3, ...)` does the same for the recurrent terms $h_{t-1} U + b^h$.\n"
            "- `z = sigmoid(xW_z + hU_z)` and `r = sigmoid(xW_r + hU_r)` are the two gate equations.\n"
            "- `h_tilde = np.tanh(xW_h + r * hU_h)` is the candidate: `r` multiplies $h_{t-1} U_h + b^h_h$, "
            "after the product with $U_h$.\n"
            "- `h = z * h_prev + (1 - z) * h_tilde` is the last equation."
        ),
        "note": (
            "Older texts and `reset_after=False` compute $(r_t \\odot h_{t-1})\\, U_h$ with one bias instead; "
            "some also swap $z_t$ and $1 - z_t$, which only flips what the gate means."
        ),
    },
}

# ----------------------------------------------------------------------------- 2. training

TRAINING = [
    ("md",
     "For token tasks the network ends in a **softmax** head (weights $V$, bias $d$) that turns $h_t$ into one "
     "probability per token. Because $h_t$ depends on all of $x_1, \\ldots, x_t$, the output is a model of the "
     "next token given the whole past:"),
    ("latex",
     r"\hat y_t = \operatorname{softmax}\left(h_t V + d\right), \qquad "
     r"\hat y_{t,k} = p_\theta\left(x_{t+1} = k \mid x_1, \ldots, x_t\right)"),
    ("md",
     "By the chain rule of probability, a sequence's probability is the product of these next-step "
     "probabilities. **Maximum likelihood** picks the weights $\\theta$ (all $W$, $U$, $b$, $V$, $d$) that make "
     "the training sequences most probable. Taking $-\\log$ turns the product into a sum, and the negative "
     "log-likelihood per step is exactly the **categorical cross-entropy** with one-hot targets $y_t$:"),
    ("latex",
     r"p_\theta\left(x_2, \ldots, x_T \mid x_1\right) = \prod_{t=1}^{T-1} p_\theta\left(x_{t+1} \mid x_{\le t}\right)"
     r"\quad\Longrightarrow\quad"
     r"\mathcal{L}(\theta) = -\frac{1}{T-1} \sum_{t=1}^{T-1} \log \hat y_{t,\,x_{t+1}}"
     r" = \frac{1}{T-1} \sum_{t=1}^{T-1} \Big(-\sum_k y_{t,k} \log \hat y_{t,k}\Big)"),
    ("md",
     "Keras averages this over steps and sequences; it is measured in nats. Guessing uniformly among 10 digits "
     "gives $\\ln 10 \\approx 2.30$, which is where the *seed* preset stays, since random digits cannot be "
     "predicted. (For the *delay* task the target is the token seen $L$ steps earlier instead of the next one: "
     "the same loss, for $p_\\theta(y_t \\mid x_{\\le t})$.)"),
    ("text_likelihood", None),  # TEXT_LIKELIHOOD with the measured numbers
    ("md",
     "For series the head is linear and the loss is the **mean squared error**. That is maximum likelihood "
     "too: if the target is the prediction plus Gaussian noise, $y = \\hat y + \\varepsilon$ with "
     "$\\varepsilon \\sim \\mathcal{N}(0, \\sigma^2)$, then"),
    ("latex",
     r"-\log p_\theta\left(y \mid x_{\le T}\right) = \frac{\left(y - \hat y\right)^2}{2\sigma^2}"
     r" + \tfrac{1}{2}\log\left(2\pi\sigma^2\right),"),
    ("md",
     "and for a fixed $\\sigma$ the only part that depends on $\\theta$ is the squared error."),
]

# The text preset's numbers come from docs/lessons.json (bench/lessons.py), filled in by the page.
TEXT_LIKELIHOOD = (
    "For **text** the same loss divided by $\\ln 2$ is **bits per character**, what a code built from the "
    "network's probabilities would spend on each character, and $e^{{\\mathcal{{L}}}} = 2^{{\\text{{bits}}}}$ is "
    "the **perplexity**: as unsure as a choice among that many equally likely characters. On the *text* preset's "
    "corpus (Python's documentation, {symbols} symbols) counting alone scores {unigram:.2f} bits per character "
    "(unigram), {bigram:.2f} (bigram) and {trigram:.2f} (trigram) on validation; the LSTM(128) after {epochs} "
    "epochs scores {bits:.2f} (perplexity {perplexity:.1f}), measured with `{command}`.")
TEXT_LIKELIHOOD_UNMEASURED = (
    "For **text** the same loss divided by $\\ln 2$ is **bits per character**, and $2^{\\text{bits}}$ is the "
    "**perplexity**: as unsure as a choice among that many equally likely characters.")

BPTT = [
    ("md",
     "**Back-propagation through time.** To get the gradient, *unroll* the layer: draw one copy of the cell per "
     "step, $T$ copies that share the same $W$, $U$ and $b$. That is an ordinary feed-forward network $T$ "
     "layers deep, and back-propagation runs through it from the last step to the first. Because the weights "
     "are shared, their gradient is the sum of what every step contributes. The error of the loss $\\mathcal{L}_t$ "
     "at step $t$ reaches an earlier state $h_k$ only through the chain of states in between, a product of "
     "$t - k$ Jacobians:"),
    ("latex",
     r"\frac{\partial \mathcal{L}_t}{\partial h_k} = \frac{\partial \mathcal{L}_t}{\partial h_t}\,"
     r"\prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}"
     r" = \frac{\partial \mathcal{L}_t}{\partial h_t}\,\frac{\partial h_t}{\partial h_{t-1}}\,"
     r"\frac{\partial h_{t-1}}{\partial h_{t-2}} \cdots \frac{\partial h_{k+1}}{\partial h_k},"
     r"\qquad "
     r"\frac{\partial \mathcal{L}}{\partial \theta} = \sum_{t=1}^{T} \sum_{k=1}^{t}"
     r"\frac{\partial \mathcal{L}_t}{\partial h_k}\,\frac{\partial^{+} h_k}{\partial \theta}"),
    ("md",
     "Here $\\partial^{+} h_k / \\partial \\theta$ is the direct effect of the weights on step $k$ alone, with "
     "$h_{k-1}$ held fixed. Keras computes all of this automatically when it trains; the optimizer (Adam by "
     "default) then takes a step against the gradient. The product of Jacobians is the subject of the first "
     "question below."),
]

# ----------------------------------------------------------------------------- 3. the three questions

QUESTIONS_INTRO = (
    "The seed tutorial ends with three questions, answered in the tabs *Long sequences*, *Overfitting* and "
    "*HMMs and CRFs*, each with presets that show the answer: a button loads a complete experiment (data, model "
    "and training settings), then open **Model & training** and press **Train**."
)

LONG_SEQUENCES = [
    ("md",
     "To learn that the output at step $t$ depends on the input at step $k$, the error signal has to travel "
     "back $t - k$ steps through the product of Jacobians above. For a SimpleRNN with $\\tanh$ each factor is"),
    ("latex",
     r"\frac{\partial h_j}{\partial h_{j-1}} = \operatorname{diag}\left(1 - h_j^{2}\right) U^{\top}"
     r"\qquad\text{so}\qquad"
     r"\left\| \frac{\partial h_t}{\partial h_k} \right\| \le"
     r"\prod_{j=k+1}^{t} \left\| \operatorname{diag}\left(1 - h_j^{2}\right) \right\| \, \left\| U \right\|"
     r"\le \left\| U \right\|^{\,t-k}"),
    ("md",
     "Each $1 - h_j^2$ is at most 1, and close to 0 when a unit saturates near $\\pm 1$. So when the factors "
     "have norm below 1, the gradient shrinks **geometrically**: with a factor of 0.8 per step, 20 steps leave "
     "$0.8^{20} \\approx 0.01$. The signal from far back is drowned by the ones from recent steps and the network "
     "learns only short dependencies: the **vanishing gradient**. When the factors are above 1, the product "
     "can instead grow geometrically, the **exploding gradient**, seen as spikes or NaN in the loss."),
    ("md",
     "**Why LSTM and GRU cope.** The LSTM updates its cell state by *addition*, "
     "$c_t = f_t \\odot c_{t-1} + i_t \\odot \\tilde c_t$, so along this path"),
    ("latex",
     r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}\left(f_t\right)"
     r"\qquad\text{(the direct path through the cell state)}"),
    ("md",
     "with no $U$ and no squashing in between: while a forget gate stays near 1, the gradient flows back many "
     "steps almost unchanged. The GRU does the same with its update gate: the direct path of "
     "$h_t = z_t \\odot h_{t-1} + \\ldots$ is $\\operatorname{diag}(z_t)$, so a unit with $z_t \\approx 1$ copies "
     "its state, and its gradient, from step to step. The gates are learned, so the network itself decides "
     "what to keep and for how long."),
    ("md",
     "**Against exploding gradients: clipping.** If a gradient's norm exceeds a threshold $\\tau$, scale it "
     "down to $\\tau$, $g \\leftarrow g \\cdot \\min\\left(1, \\tau / \\lVert g \\rVert\\right)$: the direction "
     "stays, the step stays bounded. Set it with **clipnorm** under *More training settings* on *Model & "
     "training* (Keras clips each weight's gradient separately)."),
]

JACOBIAN_DEMO = (
    "**Try it.** A random SimpleRNN with 32 $\\tanh$ units, its $U$ scaled to the spectral radius you choose "
    "(its largest $|\\text{eigenvalue}|$), driven by random inputs. The chart shows the norm (largest singular "
    "value) of the product of Jacobians $\\partial h_t / \\partial h_0$: how strongly the error at step $t$ "
    "still reaches the start. On a log axis, geometric decay or growth is a straight line."
)

JACOBIAN_EXPLAIN = (
    "The grey curve is the same network with $\\tanh' = 1$ everywhere, $\\lVert (U^\\top)^t \\rVert$, which "
    "grows or shrinks like $\\rho^t$. Stronger inputs push units towards $\\pm 1$, where $1 - h^2$ is small, "
    "so the real (blue) gradient fades even when $\\rho > 1$; with input strength 0 the state stays at 0 and "
    "the two curves coincide. To see an explosion, set $\\rho$ above 1 and the input strength near 0."
)

LONG_SEQUENCES_TRY = (
    "**The textbook case: the adding problem over 100 steps.** Two numbers among 100 are marked; the network "
    "must output their sum at the end, so what it saw up to 100 steps ago decides its answer. Measured on this "
    "project's 2-core machine (`python -m seqcore train --preset adding_lstm`, and `adding_simplernn`; 30 epochs, "
    "2,100 training sequences): the LSTM(64)'s validation error falls below 0.01 at epoch 19 and ends at a test "
    "MSE of 0.0009; the SimpleRNN(64) ends at 0.176, no better than always guessing the mean (0.161). Train them "
    "side by side with the first button below and watch the gradients-through-time chart: the SimpleRNN's line "
    "falls by powers of ten towards the early steps, the LSTM's does not.\n\n"
    "**A shift a SimpleRNN can carry.** On the delay task (recall the token 20 steps back) the SimpleRNN learns "
    "faster than the LSTM (test accuracy 0.915 against 0.663 after 30 epochs): Keras starts a SimpleRNN's $U$ "
    "as an orthogonal matrix ($\\rho = 1$, the edge between fading and exploding), which suits copying a token "
    "along, while an LSTM's forget gates start half closed ($\\sigma(1) \\approx 0.73$ per step). So a plain "
    "RNN is not always worse: the adding problem, where the network must hold two numbers while ignoring "
    "everything in between, is where its gradients vanish."
)

# Measured with the CLI on this project's 2-core machine (docs/lessons.md has the commands and the full table).
LESSON_TIMES = (
    "Measured here (30 epochs of 2,100 sequences; `python -m seqcore train --preset adding_lstm --set "
    "data.seq_len=T --set model.cell=CELL`, table in docs/lessons.md): at T = 100 the GRU's validation MSE falls "
    "below 0.01 at epoch 7 (test MSE 0.0001), the LSTM's at epoch 19 (0.0009), the SimpleRNN's never (0.176; the "
    "mean baseline is 0.161). At T = 50 both gated cells get there within 12 epochs; at T = 200 the GRU at epoch "
    "10, while Keras' default LSTM does not get below 0.01 in 30 epochs (0.168; chrono initialisation, below, "
    "gets it there). Each run took 37-160 s here, XLA on.")

INIT_LEVERS = (
    "**Where memory starts: three initialisation levers.** What a network can learn to remember depends on "
    "where its training starts (each is a setting under *Initialisation* on *Model & training*; measured here "
    "with the CLI, 30 epochs each, commands in docs/lessons.md):\n\n"
    "- **The forget gate's bias.** Keras starts it at 1 (`unit_forget_bias`): $\\sigma(1) \\approx 0.73$ of "
    "the cell state is kept each step. At 0 half is kept, and what the cell holds fades within a few steps, "
    "so the error signal from the end hardly reaches the marked numbers: on the adding problem over 100 steps "
    "the LSTM then stays at the mean baseline (test MSE 0.174 against 0.0009 with bias 1), and on the delay task "
    "its test accuracy is 0.309 against 0.663.\n"
    "- **Chrono initialisation** (Tallec & Ollivier 2018) draws each unit's forget bias as $\\log u$, $u$ "
    "uniform in $[1, T_{max} - 1]$ (and its input bias as $-\\log u$), so the units start with memories of every "
    "length up to $T_{max}$. Over 200 steps Keras' start leaves the LSTM at the baseline after 30 epochs (test "
    "MSE 0.168); with $T_{max} = 200$ it falls below 0.01 at epoch 11 and ends at 0.0006.\n"
    "- **IRNN** (Le, Jaitly & Hinton 2015): a SimpleRNN with ReLU units whose $U$ starts as the identity, so "
    "at first $h_{t-1}$ is carried over unchanged. With gradient clipping at norm 1 (ReLU units can blow up), "
    "on the adding problem over 100 steps its validation MSE dips below 0.01 at epoch 11 and it ends at a test "
    "MSE of 0.021, its curve jumping on the way, where the tanh SimpleRNN with the same clipping stays at 0.185."
)

OVERFITTING = [
    ("md",
     "A network **overfits** when it learns the noise and accidents of its training data instead of the rule. "
     "You see it on the loss chart: the **training** loss (blue) keeps falling, while the **validation** loss "
     "(orange, on data the network never trains on) levels off and then turns **up**. The epoch with the "
     "lowest validation loss had the best model. The cures:"),
    ("md",
     "- **More data.** The more examples, the harder they are to memorise, and the rule is what fits them all.\n"
     "- **A smaller model.** Fewer units or layers means fewer parameters to memorise with; *Model & training* "
     "shows the count.\n"
     "- **Dropout and recurrent dropout.** While training, zero a random share of the inputs (*dropout*) and of "
     "$h_{t-1}$ in the recurrent connection (*recurrent dropout*); Keras keeps the same mask for every step of "
     "a sequence. Units cannot rely on one another, so they learn more robust features. Nothing is dropped at "
     "prediction time.\n"
     "- **L1 and L2 penalties.** Add $\\lambda_1 \\sum |w|$ or $\\lambda_2 \\sum w^2$ to the loss (here on each "
     "recurrent layer's input kernel $W$). L2 (*weight decay*) keeps weights small and the function smooth; it "
     "is maximum likelihood with a Gaussian prior on the weights. L1 pushes weights to exactly zero.\n"
     "- **Early stopping.** Stop when the validation loss has not improved for a while and keep the weights "
     "from its best epoch. This app does not stop by itself: read the best epoch off the chart (in your own "
     "Keras code: `EarlyStopping(monitor=\"val_loss\", restore_best_weights=True)`)."),
]

OVERFITTING_TRY = (
    "Train *overfit* and *overfit_cured* (a smaller network, dropout and L2 on the same data) side by side with "
    "the button below: one validation curve turns up, the other stays down. Or load either preset on its own."
)

HMM_CRF = [
    ("md",
     "**Hidden Markov model (HMM).** A *generative* model of the observations and a hidden state $s_t$ that "
     "takes one of $k$ values. The state follows a Markov chain, $p(s_t \\mid s_{t-1})$ from a $k \\times k$ "
     "matrix, and each state emits an observation, $p(x_t \\mid s_t)$. Because the state is discrete, inference "
     "is exact and cheap: the forward algorithm sums over all state paths in $O(T k^2)$. But everything the "
     "model remembers about the past must fit into one of $k$ values, about $\\log_2 k$ bits."),
    ("md",
     "**Conditional random field (CRF).** A *discriminative* model of labels given the whole input, "
     "$p(y_1, \\ldots, y_T \\mid x_1, \\ldots, x_T)$. The labels are Markov (each depends on its neighbours), but "
     "the features may look at any part of the input. Training is convex, so there is one best set of "
     "weights, and inference is exact (forward-backward, Viterbi). Its limits: hand-made features, a model "
     "linear in them, and memory only through the label chain."),
    ("md",
     "**Recurrent network (RNN).** The state $h_t$ is a *continuous, distributed* vector: $n$ units can take "
     "exponentially many distinguishable patterns, updated by a learned non-linear function of $x_t$ and "
     "$h_{t-1}$. It learns its own features and, with LSTM or GRU, long dependencies. The price: no exact "
     "probabilistic structure over the hidden state, and a non-convex loss trained by gradient descent, which "
     "needs more data and tuning and may end in a local optimum."),
]

HMM_CRF_TABLE = {
    "columns": ["HMM", "Linear-chain CRF", "RNN (LSTM, GRU)"],
    "rows": {
        "Models": ["p(x, s): generative", "p(y | x): discriminative", "p(next | past), or p(y_t | x_≤t)"],
        "Hidden state": ["one of k discrete values", "none hidden: a Markov chain over the labels",
                         "continuous vector of n units"],
        "Memory of the past": ["only through the current state (≈ log₂ k bits)",
                               "the previous label, plus features of the input",
                               "whatever h_t learns to keep"],
        "Transition": ["k × k probability table", "weights on label pairs", "learned non-linear function"],
        "Inference": ["exact: forward algorithm, Viterbi", "exact: forward-backward, Viterbi",
                      "one forward pass; nothing to sum over"],
        "Training": ["counting or EM (Baum-Welch)", "convex: one global optimum",
                     "gradient descent (BPTT), non-convex"],
        "Good at": ["small data, interpretable states", "labelling with rich hand-made features",
                    "long dependencies, learned features, lots of data"],
    },
}

HMM_CRF_TIE = (
    "**In this app, measured.** Every run on a token task fits an HMM with $K$ states (the vocabulary size, at "
    "most 16) by Baum–Welch on its training sequences when it starts, and draws its validation accuracy and "
    "cross-entropy as dashed lines beside the network's (with the *bigram*, a first-order Markov model counted "
    "on the training split). On *patterned* digits (a motif of 4 with 5 % noise) the HMM with 10 states matches "
    "the LSTM's validation accuracy (0.943 for both) and beats its loss (0.334 against 0.467 nats): one state "
    "per motif position is exactly the process that made the data. On *delay* (recall the token 20 steps back, "
    "4 tokens) the same kind of model stays at chance (0.259, cross-entropy 1.388 ≈ ln 4) while the LSTM "
    "reaches 0.655 and the SimpleRNN 0.917: an exact HMM would need a state for every history of the current "
    "token and the 20 before it, $4^{21}$ of them. (`python -m seqcore train --preset patterned`, `delay`, "
    "`delay_simplernn`; docs/lessons.md has the table.)"
)

# ----------------------------------------------------------------------------- 4. reading the dashboard

READING = {
    "Loss chart": (
        "On *Model & training*, one point per epoch: **blue** is the training loss, **orange** the validation "
        "loss. Dashed grey lines are the simple baselines (bigram cross-entropy; mean, persistence or linear MSE): the "
        "network has learned something worth having only below them.\n\n"
        "- both falling: learning;\n"
        "- flat at a baseline: nothing learned (the *seed* preset);\n"
        "- orange turns up while blue falls: overfitting;\n"
        "- spikes or a NaN note: exploding gradients (lower the learning rate or set clipnorm).\n\n"
        "*Log scale* and *Smoothing* help with long or noisy runs. The accuracy (or mean absolute error) chart "
        "beside it reads the same way."
    ),
    "Hidden-state heatmap": (
        "The hidden state $h_t$ of one layer over one validation sequence (the *probe*): **time** steps left to "
        "right, labelled with the input tokens for token tasks, **units** top to bottom, and **colour** the value "
        "of $h_t$: red $-1$, white $0$, blue $+1$.\n\n"
        "- A unit that keeps its colour for many steps is holding a memory; one that flips with every input "
        "tracks the current token.\n"
        "- Early in training the map is pale and noisy; structure appears as the network learns.\n"
        "- Deep red or blue units are saturated: there $1 - h^2 \\approx 0$ and little gradient passes."
    ),
    "Gates (Inspect)": (
        "*Inspect* draws each gate as a heatmap with the same axes: the LSTM's input, forget and output gates "
        "and candidate, the GRU's update and reset gates and candidate (a SimpleRNN has no gates: you see its "
        "pre-activation). Gates are on a $0 \\ldots 1$ scale from dark purple (closed) to yellow (open); the "
        "candidate is on the red-white-blue $-1 \\ldots 1$ scale.\n\n"
        "- On *delay*, look for units whose forget gate stays yellow across the 20-step lag and whose input "
        "gate opens when a token worth remembering arrives.\n"
        "- A GRU unit whose update gate is near 1 is copying its state forward."
    ),
}
