#!/usr/bin/env python3
"""Per-operator comparison of two micronet-ad builds, for kernel work on a noisy machine.

    python3 bench/compare_builds.py BEFORE/micronet-ad AFTER/micronet-ad [--model small]
        [--rounds 8] [--control 4] [--iterations 500]

The shared machines this project runs on flip between speeds (the same binary a few seconds apart
can differ by 1.5x), so absolute times from separate runs do not compare. Here the two binaries
run in interleaved rounds, and within each run every operator's median is divided by the median of
a control operator the change does not touch (by default operator 4, a 1x1 convolution in all
three models). The medians of those ratios are compared, and printed as microseconds at the
control operator's overall median. Give a control the change leaves alone, or the ratios mislead.
"""
import argparse
import json
import statistics
import subprocess


def run(binary, model, iterations):
    out = subprocess.run([binary, "bench", "--model", model, "--no-clip", "--iterations", str(iterations), "--json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--model", default="small")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--control", type=int, default=4, help="index of an operator the change does not touch")
    p.add_argument("--iterations", type=int, default=500)
    a = p.parse_args()
    runs = {a.before: [], a.after: []}
    for r in range(a.rounds):
        for binary in (a.before, a.after) if r % 2 == 0 else (a.after, a.before):
            runs[binary].append(run(binary, a.model, a.iterations))
    control_us = statistics.median(d["ops"][a.control]["median_us"] for v in runs.values() for d in v)

    def scaled(binary, i):
        return control_us * statistics.median(d["ops"][i]["median_us"] / d["ops"][a.control]["median_us"]
                                              for d in runs[binary])

    first = runs[a.before][0]
    print(f"{first['model']} ({first['kernels']}): {a.rounds} interleaved rounds, times scaled to operator "
          f"{a.control} at {control_us:.1f} us")
    total_before = total_after = 0.0
    for i, op in enumerate(first["ops"]):
        before, after = scaled(a.before, i), scaled(a.after, i)
        total_before += before
        total_after += after
        print(f"  {op['index']:2d} {op['op']:18s} {before:8.1f} -> {after:8.1f} us  {before / after:5.2f}x")
    print(f"  operators summed   {total_before:8.1f} -> {total_after:8.1f} us  {total_before / total_after:5.2f}x")


if __name__ == "__main__":
    main()
