"""Checkpoint mutants for the fuzzer, and the kill-during-save loop (run as a script).

``python tests/fuzz_checkpoints.py kill-loop TARGET KILLS SEED`` forks a writer that saves
two versions of TARGET in turn (atomic, with a backup), SIGKILLs it at a random moment,
checks the file, and repeats; it prints a JSON summary. Forking from this small, thread-free
process keeps each kill cheap (no new interpreter).
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("format", "architecture", "categories", "settings", "keypoint_names", "model")


@functools.lru_cache(maxsize=1)
def _base_state() -> dict:
    """A small, real state dict: the bundled 'shapes' model's (a 5 MB file)."""
    import torch

    return torch.load(ROOT / "resources" / "models" / "shapes.pth", weights_only=True)


def _mutate_payload(rng: random.Random, payload: dict) -> dict:
    import torch

    payload = dict(payload)
    key = rng.choice(KEYS)
    roll = rng.random()
    if roll < 0.15:
        payload.pop(key, None)
    elif roll < 0.45 and key != "model":
        payload[key] = rng.choice(
            [None, 7, "x", [1, 2], {"min_size": -5}, {"bogus": 1}, ["a"] * 3, {"box_nms_thresh": 2},
             ["__background__", "a", "b", "c", "d", "e"], 10**30, {"rpn_post_nms_top_n_test": 5}]
        )  # fmt: skip
    else:
        state = dict(payload["model"])
        name = rng.choice(sorted(state))
        if rng.random() < 0.3:
            name = "roi_heads.box_predictor.cls_score.weight"
        state[name] = rng.choice(
            [torch.zeros(300_000_000, 0), torch.zeros(0), torch.zeros(2, 2), torch.tensor(3),
             torch.zeros(state[name].shape, dtype=torch.complex64), [1.0], "w",
             torch.zeros(state[name].shape, dtype=torch.int64)]
        )  # fmt: skip
        if rng.random() < 0.1:
            state[rng.choice([1, "extra.weight"])] = torch.zeros(1)
        payload["model"] = state
    return payload


def load_mutated_checkpoint(rng: random.Random, workdir: Path) -> None:
    import torch

    from detector.models.zoo import load_model

    payload = _mutate_payload(rng, _base_state())
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    if rng.random() < 0.2:
        cut = rng.randrange(len(data))
        data = data[:cut] if rng.random() < 0.5 else data[:cut] + b"\x00" + data[cut + 1 :]
    path = workdir / "case.pth"
    path.write_bytes(data)
    plain = rng.random() < 0.2
    if plain:
        load_model("shapes", weights=path, device="cpu")
    else:
        load_model(str(path), device="cpu")


# --------------------------------------------------------------------------- kill loop
def temp_files(target: Path) -> list[str]:
    prefixes = (f".{target.name}.", f".{target.name}~.")
    return sorted(
        p.name
        for p in target.parent.iterdir()
        if p.name.startswith(prefixes) and p.suffix == ".tmp"
    )


def kill_loop(target: Path, kills: int, seed: int) -> dict:
    """SIGKILL a writer ``kills`` times; the file is always one whole version, temps bounded."""
    sys.path.insert(0, str(ROOT))
    from detector.io.files import atomic_write_bytes

    rng = random.Random(seed)
    versions = [bytes([65 + i]) * (512 * 1024) + b"\n" for i in range(3)]
    atomic_write_bytes(target, versions[2])
    os.chmod(target, 0o640)
    bad, max_temps, killed_with_temp = [], 0, 0
    for kill in range(kills):
        pid = os.fork()
        if pid == 0:  # the writer: saves forever until killed
            try:
                count = 0
                while True:
                    atomic_write_bytes(target, versions[count % 2], backup=True)
                    count += 1
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        content = target.read_bytes()
        if content not in versions:
            bad.append(f"kill {kill}: file is {len(content)} bytes of neither version")
        if (os.stat(target).st_mode & 0o777) != 0o640:
            bad.append(f"kill {kill}: mode became {oct(os.stat(target).st_mode & 0o777)}")
        temps = temp_files(target)
        killed_with_temp += bool(temps)
        max_temps = max(max_temps, len(temps))
    atomic_write_bytes(target, versions[0], backup=True)
    return {
        "kills": kills,
        "bad": bad[:10],
        "max_temp_files_after_a_kill": max_temps,
        "kills_that_left_a_temp_file": killed_with_temp,
        "temp_files_after_next_save": len(temp_files(target)),
        "final_mode": oct(os.stat(target).st_mode & 0o777),
    }


if __name__ == "__main__" and sys.argv[1:2] == ["kill-loop"]:
    summary = kill_loop(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(summary))
