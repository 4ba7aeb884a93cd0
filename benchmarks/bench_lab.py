"""glassnet lab: training speed, page updates and clicks, alone and with 20 other tabs.

    python benchmarks/bench_lab.py [--seconds 5] [--crowd 20] [--runs 3]

Starts the lab server, connects as its page does (a WebSocket with the lab's
token and Origin), sets a 2-8-8-1 network on 500 points (noisy XOR), presses
play and counts, over ``--seconds``: training steps per second (target ≥ 1,000)
and page updates per second, decision-region images included (target ≥ 20);
then, still playing, clicks 20 points and times the answer (the trace) from the
click to its arrival (target: median ≤ 100 ms).  Then ``--crowd`` more tabs
play too, and the same tab is measured again: the tabs train in turn, so it
gets about 1/(crowd + 1) of the training, but it still gets updates (target ≥ 2
a second) and its clicks are still answered at once (target: median ≤ 100 ms,
slowest ≤ 500 ms).  Each number is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time


async def measure(url, token, seconds, crowd):
    import websockets
    port = int(url.split(":")[2].split("/")[0])

    async def connect():
        return await websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}",
                                        origin=f"http://127.0.0.1:{port}", max_size=2 ** 24)

    async def until(ws, kind):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message

    async def playing(ws):
        first = await until(ws, "state")
        start, updates, last = time.perf_counter(), 0, first
        while time.perf_counter() - start < seconds:
            last = await until(ws, "state")
            updates += 1
        elapsed = time.perf_counter() - start
        latencies = []
        for index in range(20):
            sent = time.perf_counter()
            await ws.send(json.dumps({"cmd": "trace", "split": "train", "index": index}))
            await until(ws, "trace")
            latencies.append((time.perf_counter() - sent) * 1000)
        return {"updates": updates / elapsed,
                "steps": (last["steps"] - first["steps"]) / elapsed,
                "click_ms": statistics.median(latencies), "slowest_ms": max(latencies),
                "regions": "regions" in last and len(last["neurons"]) == 3}

    async with await connect() as ws:
        await until(ws, "state")
        await ws.send(json.dumps({"cmd": "config", "changes": {
            "data": "xor", "points": 500, "batch_size": 10,
            "layers": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"}]}}))
        await until(ws, "state")
        await ws.send(json.dumps({"cmd": "play"}))
        alone = await playing(ws)
        others = [await connect() for _ in range(crowd)]

        async def drain(other):
            try:
                async for _ in other:
                    pass
            except websockets.ConnectionClosed:
                pass
        drains = [asyncio.create_task(drain(other)) for other in others]
        for other in others:
            await other.send(json.dumps({"cmd": "play"}))
        await asyncio.sleep(1.0)
        crowded = await playing(ws)
        for other in others:
            await other.close()
        await asyncio.gather(*drains)
    return alone, crowded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--crowd", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import glassnet.lab as lab
    runs = []
    for _ in range(args.runs):
        url, stop, app = lab._launch()
        try:
            runs.append(asyncio.run(measure(url, app.token, args.seconds, args.crowd)))
        finally:
            stop()

    def median(which, key):
        return statistics.median(run[which][key] for run in runs)
    print(f"2-8-8-1 on 500 points, {args.seconds:g} s of play, median of {args.runs} runs:")
    print(f"  training: {median(0, 'steps'):,.0f} steps/s (target >= 1,000)")
    print(f"  page updates: {median(0, 'updates'):.1f}/s with decision regions and every "
          f"neuron's image: {all(run[0]['regions'] for run in runs)} (target >= 20)")
    print(f"  a click's trace, while playing: median {median(0, 'click_ms'):.0f} ms "
          f"(target <= 100)")
    print(f"with {args.crowd} other tabs playing too, the same tab:")
    print(f"  training: {median(1, 'steps'):,.0f} steps/s, page updates: "
          f"{median(1, 'updates'):.1f}/s (target >= 2)")
    print(f"  a click's trace: median {median(1, 'click_ms'):.0f} ms (target <= 100), "
          f"slowest {median(1, 'slowest_ms'):.0f} ms (target <= 500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
