"""Start the GUI: ``python main.py [FOLDER] [--model M] [--weights W] [--device D] [--screenshot OUT.png]``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

SCREENSHOT_SIZE = (1600, 1000)
SAMPLES = Path(__file__).resolve().parent.parent / "resources" / "samples" / "shapes"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="DetScope desktop program")
    parser.add_argument("folder", nargs="?", help="image folder (default: the bundled samples)")
    parser.add_argument("--model", default=None, help="architecture name or checkpoint path")
    parser.add_argument(
        "--weights",
        default=None,
        help="with --model ARCH: torchvision weights name (COCO_V1, DEFAULT), 'none' (random "
        "init) or a checkpoint path; cached weights only (main.py weights get downloads)",
    )
    parser.add_argument("--device", default=None, help="auto, cpu or cuda")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="open, wait until the first image is drawn, save a screenshot, exit",
    )
    parser.add_argument(
        "--size",
        metavar="WxH",
        default=None,
        help="with --screenshot: the window size (default 1600x1000; 1366x768 is a laptop)",
    )
    parser.add_argument(
        "--detect",
        action="store_true",
        help="run the model on the first image (with --screenshot: before saving)",
    )
    from app import extensions

    extensions.add_arguments(parser)
    return parser


def _size(text: str | None) -> tuple[int, int]:
    if not text:
        return SCREENSHOT_SIZE
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1366x768") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from detector.models.spec import choice_from_arguments

    given = choice_from_arguments(args.model, args.weights)
    if args.weights is not None and given is None:
        build_parser().error("--weights NAME needs --model ARCH (a checkpoint path alone is fine)")
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # a screenshot shows the default layout and size, not this user's saved ones
        os.environ.setdefault("DETSCOPE_SETTINGS_DIR", tempfile.mkdtemp(prefix="detscope-shot-"))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DetScope")
    window = MainWindow()
    stored = settings()
    model = given.spec if given is not None else str(stored.value("model", "shapes"))
    device = args.device or str(stored.value("device", "auto"))
    window.model_dock.set_choice(model, device)
    window.models.choice = (model, device)
    if given is None and model != "shapes":  # remembered, not asked for: may have gone
        window.models.startup_fallback = ("shapes", device)
    if args.screenshot:
        window.resize(*_size(args.size))
        window.show()
    else:
        from app.settings import first_show

        first_show(window)
        window.first_run_hint.show_if_first_run()
        from app import tour

        tour.first_run(window, args)
    folder = Path(args.folder) if args.folder else SAMPLES
    if folder.is_dir():
        window.open_folder(folder)
    elif args.folder:
        window.show_error("Cannot open folder", f"{folder}: no such folder")
    from app import extensions

    extensions.apply_arguments(window, args)
    if args.screenshot:
        from app.screenshot import capture_when_ready

        return capture_when_ready(
            app,
            window,
            Path(args.screenshot),
            detect=args.detect,
            ready=lambda: extensions.screenshot_ready(window, args),
        )
    if args.detect:
        window.detect_current_when_ready()
    elif not os.environ.get("DETSCOPE_NO_AUTOLOAD"):
        window.models.ensure_loaded()  # torch loads in the background while the user looks
    return app.exec()
