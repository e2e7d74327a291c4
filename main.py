"""DetScope: open the GUI (default) or run a command-line tool.

python main.py [FOLDER] [--screenshot OUT.png ...]   the desktop program
python main.py detect|eval|diagnose|convert|synth|train ...   command-line tools (--help on each)
"""

from __future__ import annotations

import sys
from importlib import import_module

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "detect": ("detector.cli.detect", "run a detector over images or a folder, write COCO JSON"),
    "eval": ("detector.cli.evaluate", "evaluate detections against ground truth (COCO AP, PR)"),
    "diagnose": (
        "detector.cli.diagnose",
        "what costs AP (TIDE, COCO analyze) and where the pipeline loses objects",
    ),
    "convert": ("detector.cli.convert", "convert annotations between COCO, VOC, YOLO, LabelMe"),
    "synth": ("detector.cli.synth", "write a synthetic 'shapes' dataset with exact masks"),
    "train": ("detector.cli.train", "train or fine-tune a detector on a COCO folder"),
}


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="main.py",
        description=__doc__.split("\n\n")[0],
        epilog="Without a command, opens the GUI: python main.py [FOLDER] (options: main.py gui --help).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name in sys.argv[1:2]:  # import only the command being run (torch is slow to load)
            import_module(module_name).add_arguments(command_parser)
    sub.add_parser("gui", help="open the desktop program (the default): main.py gui --help")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        from app.launch import main as gui_main

        return gui_main(argv[1:] if argv[:1] == ["gui"] else argv)
    sys.argv[1:] = argv
    args = build_parser().parse_args(argv)
    from detector.errors import DetScopeError

    try:
        return int(import_module(COMMANDS[args.command][0]).run(args) or 0)
    except DetScopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
