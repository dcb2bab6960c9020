"""The floor under benchmarks/slider_roundtrip.py: a slider that waits for the server, with nothing else in the page.

Two Streamlit sliders (z1, z2) and a 280 px digit PNG in a fragment, captioned as the app
captions its digit, but the "decoder" is a constant fill: what remains is Streamlit's round
trip, the browser and the machine. Started by slider_roundtrip.py, not by hand.
"""

import io

import numpy as np
import streamlit as st
from PIL import Image


def png(side: int, value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@st.fragment
def explorer() -> None:
    z1 = st.slider("z1", -4.0, 4.0, 0.0, step=0.1, key="z1", format="%.2f")
    z2 = st.slider("z2", -4.0, 4.0, 0.0, step=0.1, key="z2", format="%.2f")
    shade = int(10 * (z1 + 4) + 80 * (z2 + 4)) % 256  # a new image for every point visited
    st.image(png(280, shade), caption=f"decoder(z = ({z1:.2f}, {z2:.2f}))")


explorer()
