"""Render the README screenshots offscreen into docs/: ``python benchmarks/screenshots.py``.

Each view is the real program (``main.py --screenshot``), so what is saved is what a user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "resources" / "samples" / "shapes"
VIEWS = {
    "annotate.png": [str(SAMPLES)],
    "model_assist.png": [str(SAMPLES), "--detect", "--model", "shapes", "--device", "cpu"],
}


def main() -> int:
    checkpoint = ROOT / "resources" / "models" / "shapes.pth"
    if not checkpoint.is_file():
        print(
            f"warning: {checkpoint.relative_to(ROOT)} is missing: model_assist.png shows the "
            "UNTRAINED shapes model (no predictions above the threshold); run again once "
            "the bundled checkpoint is there"
        )
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DETSCOPE_NO_AUTOLOAD": "1"}
    failures = 0
    for name, args in VIEWS.items():
        env["DETSCOPE_SETTINGS_DIR"] = tempfile.mkdtemp()  # no recovery prompt, no old layout
        command = [sys.executable, str(ROOT / "main.py"), *args, "--screenshot", str(docs / name)]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        print(result.stdout.strip() or result.stderr.strip()[-500:])
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
