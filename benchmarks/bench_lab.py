"""glassnet lab: training speed and page updates while a browser tab plays.

    python benchmarks/bench_lab.py [--seconds 5]

Starts the lab server, connects as a page does (a WebSocket), sets a 2-8-8-1
network on 500 points (noisy XOR), presses play and counts, over ``--seconds``:
training steps per second (target ≥ 1,000) and page updates per second,
decision-region images included (target ≥ 20); then, still playing, clicks 20
points and times the answer (the trace) from the click to its arrival (target:
median ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time


async def measure(url, seconds):
    import websockets
    async with websockets.connect(url.replace("http", "ws") + "ws", max_size=2 ** 24) as ws:
        async def until(kind):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == kind:
                    return message
        await until("state")
        await ws.send(json.dumps({"cmd": "config", "changes": {
            "data": "xor", "points": 500, "batch_size": 10,
            "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"}]}}))
        await until("state")
        await ws.send(json.dumps({"cmd": "play"}))
        first = await until("state")
        start, updates, last = time.perf_counter(), 0, first
        while time.perf_counter() - start < seconds:
            last = await until("state")
            updates += 1
        elapsed = time.perf_counter() - start
        steps = (last["steps"] - first["steps"]) / elapsed
        latencies = []
        for index in range(20):
            sent = time.perf_counter()
            await ws.send(json.dumps({"cmd": "trace", "split": "train", "index": index}))
            await until("trace")
            latencies.append((time.perf_counter() - sent) * 1000)
        has_regions = "regions" in last and len(last["neurons"]) == 3
        return updates / elapsed, steps, statistics.median(latencies), has_regions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    import glassnet.lab as lab
    url, stop = lab.start()
    try:
        updates, steps, click_ms, regions = asyncio.run(measure(url, args.seconds))
    finally:
        stop()
    print(f"2-8-8-1 on 500 points, {args.seconds:g} s of play:")
    print(f"  training: {steps:,.0f} steps/s (target >= 1,000)")
    print(f"  page updates: {updates:.1f}/s with decision regions and every neuron's image: "
          f"{regions} (target >= 20)")
    print(f"  a click's trace, while playing: median {click_ms:.0f} ms (target <= 100)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
