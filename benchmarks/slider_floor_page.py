"""The floor under benchmarks/slider_roundtrip.py: the app's slider -> image fragment with nothing else in it.

Same widgets, keys and captions as app.py's explorer (z1, z2, a 280 px digit PNG), but the "decoder" is a constant fill: what remains is Streamlit's
round trip, the browser and the machine. Run by slider_roundtrip.py, not by hand.
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
