"""A variational autoencoder you can touch: streamlit run app.py

The page follows a lecture on the VAE top to bottom: two numbers make a digit
(sliders), where the test digits land (scatter), the whole map decoded (grid), your
own digit encoded (upload), what the KL weight does (retraining, compare). Each panel
is one function; the model, the data and the files belong to the vae package.

Where things come from: runs from pretrained/ and runs/ next to this file (or
$VAE_PRETRAINED_DIR, $VAE_RUNS_DIR); the scatter from each run's latents.npz, so exploring
needs no dataset. MNIST (found by vae.data: $VAE_DATA_DIR, the Keras cache) is needed only
to retrain and to show the original of a clicked test digit; without it the app shows
that digit's decoded code alone and says why.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from vae import catalog, data, generate, images, inference, jobs
from vae.config import KL_PRESETS
from vae.generate import DIGIT_COLOURS
from vae.io import Run, RunError, read_json
from vae.limits import RETRAIN_EPOCHS
from vae.pad import latent_pad

Z_LIMIT = 4.0  # slider and grid range: +/-4 prior standard deviations holds nearly all of N(0, 1)
DIGIT_SCALE = 10  # 28 px -> 280 px, nearest neighbour: every pixel of the model visible
MAX_UPLOAD_MB = 5  # also .streamlit/config.toml's server.maxUploadSize; vae.images checks the bytes
KL_CHOICES = sorted({*(m * 10.0**e for e in range(-4, 1) for m in (1, 2, 5)), 10.0, *KL_PRESETS.values()})
SUBSETS = {0: "all 60,000 training images", 10_000: "10,000 images", 2_000: "2,000 images (quick demo)"}


# ----------------------------------------------------------------- loading, cached


@st.cache_resource(max_entries=6, show_spinner="Loading the model...")
def load(name: str, version: tuple) -> Run:
    """The run with its model, shared by all sessions. ``version`` (file mtimes) is only the cache key:
    a run retrained in place gets a new one, so nobody is served stale weights. The model is the numpy
    forward pass of vae.inference: no TensorFlow in this server (start-up, memory, per-run cost)."""
    return catalog.open_run(catalog.describe(name))


def decode(info: catalog.RunInfo, z: np.ndarray) -> np.ndarray:
    """Latent points (N, 2 or latent_dim) -> (N, 28, 28) pixel probabilities, via the fast path."""
    run = load(info.name, info.version)
    z = np.asarray(z, np.float32).reshape(len(z), -1)
    if z.shape[1] < run.config.latent_dim:  # the sliders move z1, z2; further coordinates stay at the prior mean 0
        z = np.pad(z, ((0, 0), (0, run.config.latent_dim - z.shape[1])))
    return run.model.decode(z).reshape(-1, 28, 28)


@st.cache_data(max_entries=32, show_spinner=False)
def grid_png(name: str, version: tuple, n: int) -> bytes:
    """The seed tutorial's n x n linspace grid over the slider range, decoded in one batch, as PNG."""
    info = catalog.describe(name)
    return generate.to_png(generate.tile(decode(info, generate.grid_points(n, "linspace", Z_LIMIT)), n))


@st.cache_resource(show_spinner="Reading the MNIST test images...")
def test_images(dataset: str) -> tuple[np.ndarray | None, str]:
    """The test images behind latents.npz, if this machine has them: (images, "") or (None, why not)."""
    try:
        return data.load_split("test", dataset, download=False).images, ""
    except data.DataError as err:
        return None, str(err).splitlines()[0]


@st.cache_data(max_entries=16, show_spinner=False)
def encode_upload(name: str, version: tuple, file_id: str, _data: bytes) -> dict:
    """An uploaded file -> its 28x28 digit, code and reconstruction; {"error": message} for a bad file."""
    try:
        digit, original, notes = images.digit_from_upload(_data, max_bytes=MAX_UPLOAD_MB * 1024 * 1024)
    except images.ImageError as err:
        return {"error": str(err)}
    run = load(name, version)
    mean, log_var = run.model.encode(digit.reshape(1, -1))
    reconstruction = run.model.decode(mean).reshape(28, 28)
    original.thumbnail((280, 280))
    return {
        "original": np.asarray(original, np.float32),
        "digit": digit,
        "reconstruction": reconstruction,
        "mean": mean[0, :2],
        "log_var": log_var[0, :2],
        "notes": notes,
    }


def uploaded(info: catalog.RunInfo) -> dict | None:
    file = st.session_state.get("upload")
    return None if file is None else encode_upload(info.name, info.version, file.file_id, file.getvalue())


# ----------------------------------------------------------- pictures and figures


def show(where, image: np.ndarray, caption: str = "", scale: int = DIGIT_SCALE, width: int | str = "content") -> None:
    """A [0, 1] grayscale image as PNG, upscaled with crisp pixels (st.image would re-encode it as JPEG).

    Sent inline as a data: URL (a 280 px digit is ~2.5 kB): bytes would become a media file that the
    browser fetches in a second request and the server keeps until the next rerun."""
    png = base64.b64encode(generate.to_png(image, scale=scale)).decode()
    where.image(f"data:image/png;base64,{png}", caption=caption, width=width)


def selection_target(selection: dict, means: np.ndarray) -> tuple[tuple[float, float], int | None] | None:
    """A plotly selection -> (point to move the sliders to, test-set row picked or None).

    A box jumps to its centre, so any spot of the map can be reached, even an empty one;
    a clicked point jumps to that test digit's code (its row travels in customdata).
    """
    for box in selection.get("box") or []:
        (x0, x1), (y0, y1) = box["x"][:2], box["y"][:2]
        return ((x0 + x1) / 2, (y0 + y1) / 2), None
    for point in selection.get("points") or []:
        row = point.get("customdata")
        row = row[0] if isinstance(row, list) else row
        if row is not None and 0 <= int(row) < len(means):
            return (float(means[int(row), 0]), float(means[int(row), 1])), int(row)
    return None


def point_trace(x, y, name: str, mode: str = "markers", **style) -> go.Scatter:
    return go.Scatter(x=np.atleast_1d(x), y=np.atleast_1d(y), name=name, mode=mode, hoverinfo="skip", **style)


def scatter_figure(latents: dict, here=None, picked: int | None = None, upload: dict | None = None, height=520):
    """The test set's latent means, one WebGL trace per digit, with the prior's 1 and 2 sigma circles."""
    means, labels = latents["mean"], latents["labels"]
    fig = go.Figure()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        fig.add_trace(
            go.Scattergl(
                x=means[rows, 0], y=means[rows, 1], customdata=rows.astype(np.int32), name=str(digit), mode="markers",
                marker={"size": 3, "color": DIGIT_COLOURS[digit], "opacity": 0.6}, unselected={"marker": {"opacity": 0.4}},
                hovertemplate=f"a {digit}: test image #%{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )  # fmt: skip
    if picked is not None:
        ring = {"size": 16, "symbol": "circle-open", "color": "black", "line": {"width": 2}}
        fig.add_trace(point_trace(means[picked, 0], means[picked, 1], "picked", marker=ring))
    if upload is not None and "mean" in upload:
        (m1, m2), (s1, s2) = upload["mean"], np.exp(0.5 * upload["log_var"])
        angle = np.linspace(0, 2 * np.pi, 65)
        ellipse = {"color": "black", "dash": "dot"}
        fig.add_trace(point_trace(m1 + s1 * np.cos(angle), m2 + s2 * np.sin(angle), "1 sigma", "lines", line=ellipse))
        star = {"size": 18, "symbol": "star", "color": "gold", "line": {"width": 1.5, "color": "black"}}
        fig.add_trace(point_trace(m1, m2, "your digit", marker=star))
    if here is not None:
        halo = {"size": 22, "symbol": "x-thin", "line": {"width": 8, "color": "white"}}
        fig.add_trace(point_trace(here[0], here[1], "sliders", marker=halo, showlegend=False))
        cross = {"size": 20, "symbol": "x-thin", "line": {"width": 4, "color": "red"}}
        fig.add_trace(point_trace(here[0], here[1], "sliders", marker=cross))
    for r in (1, 2):
        fig.add_shape(type="circle", x0=-r, y0=-r, x1=r, y1=r, line={"color": "grey", "dash": "dash", "width": 1})
    axis = {"range": [-Z_LIMIT * 1.02, Z_LIMIT * 1.02], "zeroline": False}
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="keep",
        xaxis=axis | {"title": "z1"}, yaxis=axis | {"title": "z2", "scaleanchor": "x"},
        legend={"itemsizing": "constant"},
    )  # fmt: skip
    return fig


def grid_figure(png: bytes, n: int, here: tuple[float, float]) -> go.Figure:
    """The grid picture on z axes with a ring where the sliders point. The picture is sent as it was
    cached, so a slider step costs a marker, not a new 200 kB PNG."""
    edge = Z_LIMIT + Z_LIMIT / (n - 1)  # cell centres sit on the linspace: the picture reaches half a cell further
    ring = {"size": 26, "symbol": "circle-open", "color": "red", "line": {"width": 3}}
    fig = go.Figure(point_trace(here[0], here[1], "sliders", marker=ring, showlegend=False))
    fig.add_layout_image(
        source="data:image/png;base64," + base64.b64encode(png).decode(), xref="x", yref="y", x=-edge, y=edge,
        sizex=2 * edge, sizey=2 * edge, sizing="stretch", layer="below",
    )  # fmt: skip
    axis = {"range": [-edge, edge], "showgrid": False, "zeroline": False}
    fig.update_layout(
        height=600, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="black",
        xaxis=axis | {"title": "z1"}, yaxis=axis | {"title": "z2", "scaleanchor": "x"},
    )  # fmt: skip
    return fig


def loss_figure(history: list[dict], height: int = 260) -> go.Figure:
    """Reconstruction, KL and the training loss per epoch, train (solid) and test (dashed), in nats."""
    panels = [
        ("reconstruction", "reconstruction -log p(x|z)"),
        ("kl", "KL(q(z|x) || p(z))"),
        ("loss", "loss = rec + w KL"),
    ]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title in panels])
    epochs = [entry["epoch"] for entry in history]
    for col, (key, _) in enumerate(panels, start=1):
        for prefix, dash in (("", "solid"), ("val_", "dash")):
            values = [entry.get(prefix + key) for entry in history]
            name = "test" if prefix else "train"
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=values,
                    mode="lines+markers",
                    name=name,
                    showlegend=col == 1,
                    line={"dash": dash, "color": "#1f77b4" if prefix else "#d62728"},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.3}
    )
    return fig


# ------------------------------------------------------------------------ panels


def run_picker(runs: list[catalog.RunInfo]) -> catalog.RunInfo | None:
    """Sidebar: pick a run (also ?run=runs/name in the URL); broken runs listed with their reason."""
    usable = {info.name: info for info in runs if info.ok}
    broken = [info for info in runs if not info.ok]
    st.sidebar.header("Model")
    if not usable:
        st.sidebar.warning("No trained run found. Train one below, or: python train.py --out runs/first")
    else:
        wanted = st.query_params.get("run")
        if st.session_state.get("run") not in usable:  # first visit, or the run went away
            st.session_state.run = wanted if wanted in usable else next(iter(usable))
            if wanted and wanted not in usable:
                st.sidebar.warning(f"Run {wanted!r} from the URL is not available.")
        name = st.sidebar.selectbox("Run", list(usable), key="run", format_func=lambda n: usable[n].label)
        st.query_params["run"] = name
    if broken:
        with st.sidebar.expander(f"{len(broken)} run(s) cannot be opened"):
            for info in broken:
                st.markdown(f"**{info.name}**: {info.problem}")
    return usable.get(st.session_state.get("run"))


def run_facts(info: catalog.RunInfo) -> None:
    """Sidebar: the selected run's settings and loss components in nats."""
    config, last = info.config, (info.history[-1] if info.history else {})
    size = f"{config.subset:,}" if config.subset else "all"
    st.sidebar.caption(
        f"kl_weight **{config.kl_weight:g}** · {len(info.history)} epochs · latent_dim {config.latent_dim} · "
        f"hidden {list(config.hidden)} · {size} {config.dataset} training images"
    )
    if last:
        rec, kl = last["val_reconstruction"], last["val_kl"]
        st.sidebar.markdown(
            "| test set, last epoch | nats |\n|---|---:|\n"
            f"| reconstruction -log p(x\\|z) | {rec:.1f} |\n| KL(q(z\\|x) \\|\\| p(z)) | {kl:.2f} |\n"
            f"| -ELBO = rec + KL | {rec + kl:.1f} |\n| loss = rec + {config.kl_weight:g} KL | {last['val_loss']:.1f} |"
        )
    figures = metric_rows(info.metrics)
    if figures:
        rows = "".join(f"| {label} | {value} |\n" for label, value in figures)
        st.sidebar.markdown(f"| metrics.json (test set) | value |\n|---|---:|\n{rows}")
    st.sidebar.caption(
        "Nats: -ln of a probability. Reconstruction is how surprised the decoder is by the real pixels; KL is how "
        "far each code's distribution q(z|x) sits from the prior N(0, I). Their sum bounds -log p(x) from above."
    )


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """The figures of metrics.json (written by vae.evaluate) that mean something to a student; absent ones are
    skipped, so runs evaluated by older or newer code show what they have."""
    groups = {name: group for name, group in metrics.items() if isinstance(group, dict)}
    test, iwae, exact, coverage = (groups.get(name, {}) for name in ("test", "iwae", "exact", "coverage"))
    rows = [(f"test {key.replace('_', ' ')}", value) for key, value in test.items()]
    rows.append((f"IWAE -log p(x), k={iwae.get('k')}", iwae.get("nll")))
    rows.append(("exact -log p(x) (quadrature)", exact.get("nll")))
    rows.append(("digits the decoder draws, of 10", coverage.get("n_digits")))
    share = coverage.get("confident_share")
    rows.append(("map cells that are clearly a digit", None if share is None else f"{share:.0%}"))
    return [(label, f"{v:.2f}" if isinstance(v, float) else str(v)) for label, v in rows if v is not None]


def apply_selection(latents: dict) -> None:
    """A new scatter selection moves the sliders: remembered here, applied by the full rerun it asks for
    (the sliders live in another fragment, and only a full run may set a widget's state before it exists)."""
    event = st.session_state.get("scatter")
    selection = event["selection"] if event else None
    if not selection:
        return
    points = selection.get("points") or []
    fingerprint = json.dumps([selection.get("box"), points[:1], len(points)], default=str)
    if fingerprint == st.session_state.get("applied_selection"):
        return
    st.session_state.applied_selection = fingerprint
    target = selection_target(selection, latents["mean"])
    if target is not None:
        st.session_state.pending_move, st.session_state.picked = target
        st.rerun()


def apply_pending_move() -> None:
    """Runs before the sliders are created, the only moment their state may be set."""
    target = st.session_state.pop("pending_move", None)
    if target is not None:
        move_sliders(*target)


@st.fragment
def digit_panel(info: catalog.RunInfo) -> None:
    """Sliders -> digit. For a 2-D code the sliders, the digit and the pad run in the browser (vae.pad):
    a step is drawn at once, with no server round trip, and Python hears the point when a step ends."""
    run = load(info.name, info.version)
    st.subheader("1 · Two numbers make a digit")
    for key in ("z1", "z2"):  # state, not a default value: the scatter, the pad and the upload panel move them too
        st.session_state.setdefault(key, 0.0)
    if run.config.latent_dim == 2:
        latent_pad(
            run.model,
            z=(st.session_state.z1, st.session_state.z2),
            extent=Z_LIMIT,
            latents=run.latents["mean"],
            labels=run.latents["labels"],
            key="pad",
            on_release=follow_pad,
            size=280,
            moves=st.session_state.get("z_moves", 0),
        )
        st.caption(
            "Move a slider (or focus it and use the arrow keys), or drag the point on the plane below: your "
            "browser runs the decoder, so the digit follows at once. The faint dots are test digits' codes."
        )
    else:  # no pad beyond two dimensions: server-side sliders over z1 and z2, the other coordinates at 0
        z1 = st.slider("z1", -Z_LIMIT, Z_LIMIT, step=0.1, key="z1", format="%.2f")
        z2 = st.slider("z2", -Z_LIMIT, Z_LIMIT, step=0.1, key="z2", format="%.2f")
        show(st, decode(info, [[z1, z2]])[0], f"decoder(z = ({z1:.2f}, {z2:.2f}))")
    st.caption(
        "The decoder turns any point z = (z1, z2) into pixel probabilities. Training pushed the codes of real "
        "digits towards the prior N(0, I), so points within about 2 of the origin decode to digit-like shapes; "
        "far outside, the decoder extrapolates."
    )


def follow_pad(point: tuple[float, float]) -> None:
    """The user moved the point in the browser: remember it (not a move of ours, so the page is not told)."""
    st.session_state.z1, st.session_state.z2 = point


@st.fragment
def map_panel(info: catalog.RunInfo) -> None:
    """The test set's codes; a click or a box moves the sliders."""
    run = load(info.name, info.version)
    apply_selection(run.latents)
    here = (st.session_state.get("z1", 0.0), st.session_state.get("z2", 0.0))
    st.subheader("2 · Where the test digits land")
    picked = st.session_state.get("picked")
    picked = picked if picked is not None and picked < len(run.latents["mean"]) else None
    st.plotly_chart(
        session_scatter(info, run, here, picked),
        key="scatter",
        on_select="rerun",
        selection_mode=("points", "box"),
        config={"displaylogo": False},
    )
    outside = int((np.abs(run.latents["mean"][:, :2]) > Z_LIMIT).any(axis=1).sum())
    st.caption(
        "Each dot is the encoder's mean code for one of the 10,000 test images, coloured by its label. Click a "
        "dot to jump there, or pick the box tool (top right of the map) and drag a box anywhere to jump to its "
        "centre. Dashed circles: 1 and 2 sigma of the prior. The KL term pulls every code towards the origin; "
        "reconstruction pulls digits apart so the decoder can tell them apart: the clusters are the compromise. "
        f"The red cross shows the sliders, z = ({here[0]:.2f}, {here[1]:.2f}), as of this map's last redraw (the "
        "plane on the left follows every move)."
        + (f" {outside} codes lie outside the slider range." if outside else "")
    )
    st.button("Mark the sliders' point on the map", key="refresh_map")  # reruns only this fragment
    if picked is not None:
        picked_digit(info, run, picked)


def session_scatter(info: catalog.RunInfo, run: Run, here: tuple[float, float], picked: int | None) -> go.Figure:
    """This session's scatter: rebuilt when what it shows changes, else only the slider marker moves
    (rebuilding 10,000 points costs about four times as much on every slider step)."""
    upload = uploaded(info)
    shows = (info.name, info.version, picked, None if upload is None else str(upload.get("mean")))
    cached = st.session_state.get("scatter_figure")
    if cached is None or cached[0] != shows:
        cached = st.session_state.scatter_figure = (shows, scatter_figure(run.latents, here, picked, upload))
    return cached[1].update_traces(x=[here[0]], y=[here[1]], selector={"name": "sliders"})


def picked_digit(info: catalog.RunInfo, run: Run, row: int) -> None:
    """The clicked test digit next to the decoding of its mean code."""
    label = int(run.latents["labels"][row])
    images_, why_not = test_images(run.config.dataset)
    if images_ is not None and len(images_) != len(run.latents["mean"]):
        images_, why_not = None, f"latents.npz has {len(run.latents['mean'])} codes, the test set {len(images_)} images"
    a, b, c = st.columns([1, 1, 2])
    if images_ is not None:
        show(a, images_[row] / 255.0, f"test image #{row} (a {label})", scale=5)
    else:
        a.info(f"Test image #{row} (a {label}) is not on this machine: {why_not}")
    show(b, decode(info, run.latents["mean"][row : row + 1, :2])[0], "decoded from its mean code", scale=5)
    c.caption(
        "The reconstruction is blurrier than the original: two numbers cannot hold every stroke, so the decoder "
        "draws the average digit of that neighbourhood."
    )


@st.fragment
def latent_grid(info: catalog.RunInfo) -> None:
    here = (st.session_state.get("z1", 0.0), st.session_state.get("z2", 0.0))
    st.subheader("3 · The whole map, decoded")
    controls, picture = st.columns([1, 3], gap="large")
    with controls:
        n = st.slider("digits per side", 10, 30, 20, key="grid_n")
        st.caption(
            f"The seed tutorial's picture: an evenly spaced {n} x {n} grid over [-{Z_LIMIT:g}, {Z_LIMIT:g}] in both "
            "coordinates, each point decoded. Neighbouring codes give similar digits: the decoder is smooth, and "
            "the KL term left no holes between the clusters. The red ring is where the sliders point."
        )
        png = grid_png(info.name, info.version, n)
        st.download_button(
            "Download PNG", png, file_name=f"{info.name.replace('/', '-')}-grid{n}.png", mime="image/png"
        )
        show_map = st.toggle("Label each cell with the digit a classifier reads", key="digit_map")
        if show_map:
            st.caption(
                "A separate MNIST classifier (99 % test accuracy, pretrained/classifier.keras) reads every cell. "
                "Bold labels: softmax > 0.9; faint: the classifier hesitates, usually where one digit turns into "
                "another (4 into 9, 3 into 5 into 8)."
            )
    fig = grid_figure(png, n, here)
    if show_map:
        labels = digit_map(info.name, info.version, n)
        if labels is None:
            st.info("No classifier at pretrained/classifier.keras: retrain it with `python -m vae.classifier`.")
        else:
            fig.add_trace(digit_map_trace(labels))
    picture.plotly_chart(fig, key="grid", config={"displaylogo": False})


@st.cache_resource(show_spinner="Loading the digit classifier...")
def classifier() -> inference.NumpyClassifier | None:
    """None where the file is missing: the map layer is optional, the app must not depend on it."""
    return inference.NumpyClassifier.load() if inference.CLASSIFIER_PATH.exists() else None


@st.cache_data(max_entries=32, show_spinner="Reading the grid with the classifier...")
def digit_map(name: str, version: tuple, n: int) -> generate.DigitMap | None:
    model = classifier()
    return None if model is None else generate.latent_map(load(name, version).model, model, n=n, extent=Z_LIMIT)


def digit_map_trace(labels) -> go.Scatter:
    """One text label per grid cell, in the cell's own colour; confident cells bold and opaque."""
    z1, z2 = np.meshgrid(labels.z1, labels.z2)
    text, colours, hover = [], [], []
    for digit, p in zip(labels.labels.ravel(), labels.confidence.ravel(), strict=True):
        sure = p > 0.9
        text.append(f"<b>{digit}</b>" if sure else str(digit))
        colours.append(DIGIT_COLOURS[digit] if sure else "rgba(200,200,200,0.6)")
        hover.append(f"classifier: {digit} ({p:.0%})")
    return go.Scatter(
        x=z1.ravel(), y=z2.ravel(), mode="text", text=text, textfont={"color": colours, "size": 13},
        hovertext=hover, hoverinfo="text", showlegend=False, name="classifier",
    )  # fmt: skip


def upload_panel(info: catalog.RunInfo) -> None:
    st.subheader("4 · Your own digit")
    left, right = st.columns([1, 3], gap="large")
    with left:
        st.file_uploader(
            f"A digit image (PNG, JPEG, BMP, WebP, GIF; at most {MAX_UPLOAD_MB} MB)",
            type=["png", "jpg", "jpeg", "bmp", "webp", "gif"],
            key="upload",
            max_upload_size=MAX_UPLOAD_MB,
        )
        st.caption(
            "Your picture is made MNIST-like (white on black, fitted into 20 x 20, centred by mass in 28 x 28), "
            "then encoded: the star on the map is its mean code, the dotted ellipse one standard deviation of "
            "q(z|x). A wide ellipse means the encoder is unsure where it belongs."
        )
    result = uploaded(info)
    if result is None:
        return
    with right:
        if "error" in result:
            st.error(result["error"])
            return
        for note in result["notes"]:
            st.info(note)
        a, b, c = st.columns(3)
        show(a, result["original"], "your image", scale=1)
        show(b, result["digit"], "as MNIST sees it (28 x 28)", scale=8)
        show(c, result["reconstruction"], "its reconstruction", scale=8)
        (m1, m2), (s1, s2) = result["mean"], np.exp(0.5 * result["log_var"])
        st.markdown(f"Code: z = ({m1:.2f} ± {s1:.2f}, {m2:.2f} ± {s2:.2f}): the gold star on the map above.")
        st.button("Move the sliders to my digit", on_click=move_sliders, args=(m1, m2))


def move_sliders(z1: float, z2: float) -> None:
    """The app moves the point (a map click, an upload): counted, so the page's sliders follow."""
    st.session_state.z1 = float(np.clip(z1, -Z_LIMIT, Z_LIMIT))
    st.session_state.z2 = float(np.clip(z2, -Z_LIMIT, Z_LIMIT))
    st.session_state.z_moves = st.session_state.get("z_moves", 0) + 1


def training_panel() -> None:
    st.subheader("5 · Retrain: what does the KL weight do?")
    runs_dir = catalog.roots()["runs"]
    left, right = st.columns([1, 2], gap="large")
    with left:
        preset = st.radio("kl_weight", [*KL_PRESETS, "other"], key="kl_preset", horizontal=True)
        if preset == "other":
            kl_weight = st.select_slider(
                "kl_weight (log scale)", KL_CHOICES, value=1.0, key="kl_other", format_func=lambda v: f"{v:g}"
            )
        else:
            kl_weight = KL_PRESETS[preset]
        epochs = st.slider("epochs", int(RETRAIN_EPOCHS.low), int(RETRAIN_EPOCHS.high), 10, key="epochs")
        subset = st.selectbox("training data", list(SUBSETS), format_func=SUBSETS.get, key="subset")
        if st.button("Train", type="primary"):
            try:
                jobs.start(runs_dir, kl_weight, epochs, subset or None)
            except jobs.JobError as err:
                st.warning(str(err))
    with right:
        st.caption(
            "The loss is reconstruction + kl_weight x KL. With kl_weight 1 it is the true negative ELBO. Smaller "
            "weights let codes spread out and reconstructions sharpen, but the map gets holes and samples from "
            "N(0, I) land in them; larger weights (a beta-VAE) pack the codes tightly and blur the digits. Train "
            "two and compare them below. The new run appears in the model picker when it finishes. On all 60,000 "
            "images the retrain uses batch 250 and learning rate 0.002 (10 epochs take about 55 s on an idle "
            "2-core laptop); the subsets use train.py's defaults, batch 128 and learning rate 0.001."
        )
        job = jobs.current(runs_dir)
        (job_live if job is not None and job.running else job_idle)(runs_dir)


def job_view(runs_dir) -> None:
    """Status, progress, live loss curves and the latest samples of the server's training job."""
    job = jobs.current(runs_dir)
    if job is None:
        return
    seen = st.session_state.get("job_seen")
    st.session_state.job_seen = (job.name, job.running)
    if seen is not None and seen != (job.name, job.running):
        st.rerun()  # a job started or ended elsewhere: redraw the page (picker, live or idle polling)
    status, settings = job.status, job.settings
    title = f"**{job.name}** · kl_weight {settings.get('kl_weight', float('nan')):g} · {status.get('state')}"
    if job.running:
        epoch, epochs = status.get("epoch", 0), status.get("epochs", settings.get("epochs"))
        st.progress(job.fraction_done, text=f"{title}: epoch {epoch + 1} of {epochs}, {status.get('progress', 0):.0%}")
        st.button("Cancel training", on_click=jobs.cancel, args=(runs_dir,))
    elif status.get("state") == "finished":
        st.success(f"{title}: {status.get('message', '')}")
        if st.button("Open it in the explorer", on_click=open_run, args=(f"runs/{job.name}",)):
            st.rerun()  # the picker lives outside this fragment
    else:
        st.warning(f"{title}: {status.get('message', '')}")
    history = read_json(job.run_dir / "history.json", default={"epochs": []}).get("epochs", [])
    if history:
        st.plotly_chart(loss_figure(history), key="job_losses")
    samples = sorted((job.run_dir / "samples").glob("epoch_*.png"))
    if samples:
        st.image(
            samples[-1].read_bytes(),
            caption=f"samples after epoch {len(samples)}: grid over the prior, then random z",
            width=280,
        )


@st.fragment(run_every=1)
def job_live(runs_dir) -> None:
    job_view(runs_dir)


@st.fragment(run_every=5)
def job_idle(runs_dir) -> None:
    job_view(runs_dir)


def open_run(name: str) -> None:
    st.session_state.run = name


def compare_panel(runs: list[catalog.RunInfo], current: catalog.RunInfo | None) -> None:
    st.subheader("6 · Compare two runs")
    usable = [info for info in runs if info.ok]
    if len(usable) < 2:
        st.caption("Train a second run to compare two KL weights side by side.")
        return
    if not st.toggle("Show two runs side by side", key="compare"):
        return
    by_name = {info.name: info for info in usable}
    names = list(by_name)
    first = names.index(current.name) if current is not None and current.name in by_name else 0
    chosen = []
    for i, column in enumerate(st.columns(2, gap="large")):
        with column:
            start = first if i == 0 else (first + 1) % len(names)
            name = st.selectbox(
                f"run {'AB'[i]}", names, start, key=f"compare_{i}", format_func=lambda n: by_name[n].label
            )
            info = by_name[name]
            try:
                run = load(info.name, info.version)
            except RunError as err:
                st.error(f"{info.name} cannot be opened: {err}")
                continue
            chosen.append(info)
            st.plotly_chart(scatter_figure(run.latents, height=380), key=f"compare_scatter_{i}")
            st.image(grid_png(info.name, info.version, 15), "15 x 15 latent grid", output_format="PNG")
            st.plotly_chart(loss_figure(info.history, height=220), key=f"compare_losses_{i}")
    bars = go.Figure()
    labels = [f"kl_weight {info.config.kl_weight:g} ({info.name})" for info in chosen]
    for part, colour in (("val_reconstruction", "#1f77b4"), ("val_kl", "#ff7f0e")):
        values = [info.history[-1][part] for info in chosen]
        bars.add_trace(go.Bar(name=part.removeprefix("val_"), x=labels, y=values, marker_color=colour))
    bars.update_layout(barmode="stack", height=300, yaxis_title="test nats per image (stack = -ELBO)", margin={"t": 10})
    st.plotly_chart(bars, key="compare_bars")
    st.caption(
        "Reconstruction and KL pull against each other: the run with the smaller kl_weight buys better "
        "reconstructions with more KL (codes spread wider, far from the prior), the larger weight the reverse. "
        "Their sum, the negative ELBO, is usually best near kl_weight 1, the weight that makes the loss a bound."
    )


def main() -> None:
    st.set_page_config(page_title="VAE latent explorer", page_icon="🔢", layout="wide")
    st.title("A variational autoencoder you can touch")
    st.caption(
        "An encoder squeezes each 28 x 28 MNIST digit into two numbers; a decoder draws a digit from any two "
        "numbers. Trained to reconstruct while keeping the codes close to a standard normal prior."
    )
    runs = catalog.list_runs()
    info = run_picker(runs)
    ready = False
    if info is not None:
        try:
            load(info.name, info.version)
            ready = True
        except RunError as err:
            st.error(f"{info.name} cannot be opened: {err}")
    if ready:
        run_facts(info)
        apply_pending_move()
        left, right = st.columns([2, 3], gap="large")
        with left:
            digit_panel(info)
        with right:
            map_panel(info)
        latent_grid(info)
        upload_panel(info)
    training_panel()
    compare_panel(runs, info if ready else None)


if __name__ == "__main__":
    main()
