"""Small run-directory tools.

python -m vae export SRC_RUN DEST_RUN     copy a run without optimizer state (for pretrained/)
python -m vae overview RUN_DIR OUT.png    latent grid beside latent scatter (the README picture)
"""

import sys

from PIL import Image

from vae.generate import overview_image
from vae.io import export_run, load_run


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "export":
        print(export_run(argv[1], argv[2]))
    elif len(argv) == 3 and argv[0] == "overview":
        run = load_run(argv[1], compile=False)
        Image.fromarray(overview_image(run.model, run.latents)).save(argv[2])
        print(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
