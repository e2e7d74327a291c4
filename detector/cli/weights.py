"""``main.py weights list`` and ``main.py weights get ARCH [--weights NAME]``.

``list`` prints one line per architecture and torchvision weights name: size, COCO AP and
whether the file is in torch.hub's cache. ``get`` downloads into that cache with a tqdm bar,
verifying the SHA-256 prefix in the file name; any failure exits non-zero with one message.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="torchvision weights per architecture, cached?")
    listing.add_argument("--arch", default=None, help="only this architecture")
    get = actions.add_parser("get", help="download weights into torch.hub's cache")
    get.add_argument("arch", help="architecture, e.g. fasterrcnn_resnet50_fpn")
    get.add_argument("--weights", default="DEFAULT", help="weights name (DEFAULT, COCO_V1, …)")
    get.add_argument(
        "--mirror",
        default=None,
        help="base URL replacing torchvision's download folder (else $DETSCOPE_WEIGHTS_MIRROR)",
    )
    get.add_argument("--timeout", type=float, default=30.0, help="network timeout, s (30)")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args.arch)
    return _get(args)


def _list(architecture: str | None) -> int:
    from detector.models.weights import cache_dir, list_weights

    entries = list_weights(architecture)
    width = max((len(e.architecture) for e in entries), default=10)
    for entry in entries:
        default = "(default)" if entry.is_default else ""
        state = "cached" if entry.cached else "not cached"
        metrics = entry.metrics_text() or "-"
        print(
            f"{entry.architecture:<{width}}  {entry.name:<12} {default:<9} "
            f"{entry.size_mb:7.1f} MB  {metrics:<28} {state}"
        )
    print(f"cache: {cache_dir()}")
    return 0


def _get(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from detector.models.weights import download_url, download_weights, find_weights

    entry = find_weights(args.arch, args.weights)
    if entry.cached:
        print(f"{entry.architecture} {entry.name}: already cached at {entry.path}")
        return 0
    print(f"downloading {download_url(entry, args.mirror)}", file=sys.stderr)
    with tqdm(total=0, unit="B", unit_scale=True, desc=entry.file_name) as bar:

        def progress(done: int, total: int, _message: str) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        path = download_weights(entry, mirror=args.mirror, progress=progress, timeout=args.timeout)
    print(f"{entry.architecture} {entry.name}: verified and saved to {path}")
    return 0
