"""Baseline: the same jobs as a plain script with the official `fal-client` package.

For each job: `fal_client.subscribe(...)` (submit, poll status every 0.1 s, fetch the result),
then download every output file with one shared `httpx.Client` into a temp folder. No
database, no verification, no thumbnails: the least work a script can do to keep the files.

fal-client speaks HTTPS to `FAL_QUEUE_RUN_HOST` (read once, when fal_client is imported),
so this starts its own TLS simulator (trustme CA, trusted through SSL_CERT_FILE) and sets
the environment before importing fal_client. Status and result use the URLs the submit
answer returned (https://127.0.0.1:<port>/fal-ai/flux-1/requests/<id>[/status]).

    python bench/fal_client_baseline.py --jobs 200 --threads 32 --sequential
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    MODEL_ID, completed_walls, dist_ms, machine_busy, print_table, process_cpu, process_tree_cpu, status_polls, temp_dir,
)
from _simulator_process import zero_time_simulator  # noqa: E402



def run_baseline(jobs: int, image_size: str, thread_counts: list[int], *, workdir: str,
                 simulator_in_process: bool = False) -> dict[int, dict]:
    """Run `jobs` subscribe+download jobs once per entry of `thread_counts` (1 = sequential).

    Returns, per thread count, the wall time, per-job delays (upstream completed -> file
    written), the number of files and of status polls. The simulator runs in a process of its
    own (like fal) unless `simulator_in_process`.
    """
    tls_dir = os.path.join(workdir, "baseline-tls")
    os.mkdir(tls_dir)
    with zero_time_simulator(in_process=simulator_in_process, tls_dir=tls_dir) as (sim, ca_path):
        sim_cpu = (lambda: process_tree_cpu(sim.pid)) if not simulator_in_process else (lambda: 0.0)
        port = sim.base_url.rsplit(":", 1)[1]
        os.environ.update({"FAL_QUEUE_RUN_HOST": f"127.0.0.1:{port}", "FAL_KEY": "x", "SSL_CERT_FILE": ca_path})
        if "fal_client" in sys.modules:  # the host is read at import time
            raise RuntimeError("run_baseline must import fal_client itself, once per process")
        import fal_client
        import httpx

        figures = {}
        for threads in thread_counts:
            out = Path(workdir) / f"out-{threads}"
            out.mkdir()
            saved_at: dict[str, float] = {}
            http = httpx.Client(timeout=60)
            polls_before = status_polls(sim)

            def one(i: int) -> None:
                request_ids: list[str] = []
                result = fal_client.subscribe(MODEL_ID, {"prompt": f"bench job {i}", "image_size": image_size,
                                                         "num_images": 1}, on_enqueue=request_ids.append)
                for k, image in enumerate(result["images"]):
                    response = http.get(image["url"])
                    response.raise_for_status()
                    (out / f"{i}-{k}.jpg").write_bytes(response.content)
                saved_at[request_ids[0]] = time.time()

            cpu_before, busy_before, sim_before = process_cpu(), machine_busy(), sim_cpu()
            started = time.time()
            if threads <= 1:
                for i in range(jobs):
                    one(i)
            else:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    list(pool.map(one, range(jobs)))
            ended = time.time()
            cpu_used, busy = process_cpu() - cpu_before, machine_busy() - busy_before
            sim_used = sim_cpu() - sim_before
            http.close()
            walls = completed_walls(sim, list(saved_at))
            figures[threads] = {
                "wall": ended - started,
                "cpu": cpu_used, "busy": busy, "sim_cpu": sim_used,
                "save_delays": [saved_at[rid] - walls[rid] for rid in saved_at],
                "files": len(list(out.iterdir())),
                "status_polls": status_polls(sim) - polls_before,
            }
        # Close fal-client's pooled connections so the simulator stops without waiting on them.
        fal_client.sync_client._client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--image-size", default="square", help="fal image_size preset (default square = 512x512)")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--sequential", action="store_true", help="also run the jobs one after another")
    parser.add_argument("--simulator-in-process", action="store_true", help="the simulator shares this process")
    args = parser.parse_args()
    with temp_dir("fal-baseline-") as workdir:
        counts = [args.threads] + ([1] if args.sequential else [])
        figures = run_baseline(args.jobs, args.image_size, counts, workdir=workdir,
                               simulator_in_process=args.simulator_in_process)
    rows = []
    for threads, fig in figures.items():
        name = "sequential" if threads == 1 else f"{threads} threads"
        rows += [(f"fal-client, {name}: wall", f"{fig['wall']:.2f} s  ({fig['files']} files)"),
                 ("  process CPU (fal-client" + (" + simulator)" if args.simulator_in_process else ")"),
                  f"{fig['cpu']:.2f} s  (whole machine: {fig['busy']:.2f} s)"),
                 *([("  simulator process CPU", f"{fig['sim_cpu']:.2f} s")] if not args.simulator_in_process else []),
                 ("  upstream completed -> file saved", dist_ms(fig["save_delays"]))]
    print_table(f"fal-client baseline: {args.jobs} jobs, {MODEL_ID}, image_size={args.image_size}", rows)


if __name__ == "__main__":
    main()
