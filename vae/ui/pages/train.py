"""Retrain with another KL weight in the background, and compare runs side by side."""

import streamlit as st

from vae.ui import frame, replay, training
from vae.ui.i18n import t

st.title(t("train.title"))
training.training_panel()
shared = frame.current()
replay.replay_panel(shared.runs, shared.info)
training.compare_panel(shared.runs, shared.info)
