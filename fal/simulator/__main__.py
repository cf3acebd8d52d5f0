"""``python -m fal.simulator --port 8765``: run the simulator without Django."""

from __future__ import annotations

import argparse

from .cli import add_arguments, config_from_options, run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fal.simulator", description="fal-compatible queue simulator")
    add_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    options = vars(parser.parse_args(argv))
    run(config_from_options(options, verbose=options["verbose"]), lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
