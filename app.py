"""A variational autoencoder you can touch: `streamlit run app.py`, then open http://localhost:8501

The frame of the app: page settings, the language, the run picker with the run's facts, and the
pages. The panels live in vae/ui/ (one module per panel group, prose in vae/ui/locales/); the model,
the data and the files belong to the vae package.

Pages have different lifetimes, so each is a file: exploring one run (vae/ui/pages/explore.py), and
training and comparing runs (vae/ui/pages/train.py), whose job polling would otherwise rerun the
explorer's panels. ?run= and ?lang= are kept in the URL across page switches.
"""

import streamlit as st

from vae.ui import frame
from vae.ui.i18n import t

PAGES = (
    ("explore", ":material/scatter_plot:", True),
    ("train", ":material/model_training:", False),
    ("board", ":material/dashboard:", False),
)


def main() -> None:
    frame.setup()
    pages = [
        st.Page(f"vae/ui/pages/{name}.py", title=t(f"nav.{name}"), icon=icon, url_path=name, default=default)
        for name, icon, default in PAGES
    ]
    st.navigation(pages).run()


main()
