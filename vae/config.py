"""The run configuration: a plain dataclass, saved beside the model as config.json."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

IMAGE_SIZE = 28  # MNIST and Fashion-MNIST: 28 x 28 grey pixels, flattened to 784
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
N_CLASSES = 10  # digits, or Fashion-MNIST's ten kinds of clothing
LR_SCHEDULES = ("constant", "cosine")  # vae.training.epoch_lr

# The seed tutorial weighted per-pixel *mean* BCE against 0.0001 x summed KL. Our
# reconstruction is the *sum* over 784 pixels (nats per image), i.e. 784 x theirs, so
# the same balance is kl_weight = 784 x 0.0001 = 0.0784.
KL_PRESETS = {"seed tutorial (0.0784)": 0.0784, "true ELBO (1)": 1.0, "strong beta (4)": 4.0}


@dataclass
class VAEConfig:
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)
    kl_weight: float = 1.0
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    dataset: str = "mnist"
    subset: int | None = None  # train on the first N training images (quick demos, tests)
    binarize: bool = False  # dynamic binarization of the training images
    kl_warmup_epochs: int = 0  # KL weight ramps linearly from kl_weight / N to kl_weight over the first N epochs
    lr_schedule: str = "constant"  # or "cosine": lr decays to 0 over `epochs` (vae.training.epoch_lr)
    augment: bool = False  # the encoder sees vae.augment's distortions, the loss the clean image
    code_consistency: float = 0.0  # with augment: > 0 keeps the ELBO on clean images and pulls distorted codes
    # onto clean ones with this weight (VAE._consistency) instead of reconstructing clean from distorted
    label_weight: float = 0.0  # > 0: a small head reads the digit from the sampled code, and its cross-entropy
    # on the training labels joins the loss with this weight (VAE._label_loss): semi-supervised, it keeps the
    # digits apart on the 2-D map (pretrained/README.md has what it did to the likelihood and foreign digits)
    version: int = 1  # bump when a saved run can no longer be read by this code

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.latent_dim < 1 or not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"latent_dim and hidden sizes must be positive: {self}")
        weights = (self.kl_weight, self.lr, self.label_weight, self.code_consistency)
        if not all(math.isfinite(w) for w in weights):  # NaN passes every comparison below
            raise ValueError(f"kl_weight, lr, label_weight and code_consistency must be finite numbers: {self}")
        if self.kl_weight < 0 or self.batch_size < 1 or self.lr <= 0 or self.epochs < 0:
            raise ValueError(f"kl_weight >= 0, batch_size >= 1, lr > 0, epochs >= 0 required: {self}")
        if self.kl_warmup_epochs < 0 or self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"kl_warmup_epochs >= 0 and lr_schedule in {LR_SCHEDULES} required: {self}")
        if self.label_weight < 0 or self.code_consistency < 0 or (self.code_consistency > 0 and not self.augment):
            raise ValueError(f"label_weight >= 0 and code_consistency >= 0 (> 0 only with augment) required: {self}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"hidden": list(self.hidden)}

    @classmethod
    def from_dict(cls, data: dict) -> VAEConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)} (written by a newer version?)")
        return cls(**data)
