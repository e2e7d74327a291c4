"""Render a screenshot of every Inspect stage of the first sample image to docs/.

    .venv/bin/python benchmarks/inspect_screenshots.py [FOLDER] [--out docs]

Each stage runs ``main.py FOLDER --screenshot docs/inspect_<stage>.png --stage <stage>`` in
its own process (the same path a user takes), so every picture is what the program shows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from app.inspect.dock import STAGE_KEYS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "resources/samples/shapes"))
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--stages", nargs="*", default=STAGE_KEYS)
    parser.add_argument("--model", default="shapes")
    args = parser.parse_args()
    environment = {**os.environ, "DETSCOPE_SETTINGS_DIR": tempfile.mkdtemp(prefix="detscope-")}
    failures = 0
    for stage in args.stages:
        out = Path(args.out) / f"inspect_{stage}.png"
        command = [
            sys.executable,
            str(ROOT / "main.py"),
            args.folder,
            "--screenshot",
            str(out),
            "--stage",
            stage,
            "--model",
            args.model,
        ]
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=False, env=environment
        )
        print(f"{stage:10s} -> {out} (exit {result.returncode})")
        if result.returncode:
            failures += 1
            print(result.stderr[-2000:])
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
