"""Small run-directory tools: python -m vae {export,overview} ... (--help on each)."""

from __future__ import annotations

import argparse
import sys


def export(args: argparse.Namespace) -> None:
    from vae.export import export_run

    print(export_run(args.src, args.dest))


def overview(args: argparse.Namespace) -> None:
    from PIL import Image

    from vae.generate import overview_image
    from vae.io import load_run

    run = load_run(args.run_dir, compile=False)
    if run.latents is None:
        raise SystemExit(f"{args.run_dir} has no latents.npz yet (it is written when training ends)")
    Image.fromarray(overview_image(run.model, run.latents)).save(args.out)
    print(args.out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vae", description=__doc__)
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub = commands.add_parser("export", help="copy a run without optimizer state (for pretrained/)")
    sub.add_argument("src", help="the run directory to copy")
    sub.add_argument("dest", help="where the load-only copy goes")
    sub.set_defaults(handler=export)
    sub = commands.add_parser("overview", help="latent grid beside latent scatter as one PNG (the README picture)")
    sub.add_argument("run_dir", help="a run directory")
    sub.add_argument("out", help="the PNG file to write")
    sub.set_defaults(handler=overview)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
