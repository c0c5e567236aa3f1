"""The Python package's speed (docs/python.md; not part of CI):

    PYTHONPATH=build/python python3 examples/python/bench_python.py [--clips DIR]

µs per inference from Python (single call via set_tensor/invoke/get_tensor, single call via
run, and run on a batch of 256), score_files clips/s with 1 and 2 threads, import time. Compare
with `build/micronet-ad bench --model MODEL --no-clip`.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("MICRONET_AD_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def median_us(fn, repeats: int, per_call: int = 1) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / per_call * 1e6)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", default=str(SHARED / "data/dcase2020_task2/slider/train"))
    parser.add_argument("--models", default="small,medium,large")
    args = parser.parse_args()

    # Import time in a fresh interpreter (numpy included, as a user pays it).
    code = "import time; t = time.perf_counter(); import micronet_ad; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
               for _ in range(5)]
    code_np = "import numpy, time; t = time.perf_counter(); import micronet_ad; print(time.perf_counter() - t)"
    imports_np = [float(subprocess.run([sys.executable, "-c", code_np], capture_output=True, text=True,
                                       check=True).stdout) for _ in range(5)]
    print(f"import micronet_ad: {np.median(imports) * 1e3:.1f} ms (with numpy), "
          f"{np.median(imports_np) * 1e3:.1f} ms (numpy already imported)")

    import micronet_ad as mad

    inputs = np.fromfile(SHARED / "golden/engine/inputs_256x1024.i8", dtype=np.int8).reshape(256, 32, 32, 1)
    for model in args.models.split(","):
        it = mad.Interpreter(model)
        idx = it.get_input_details()[0]["index"]
        out = it.get_output_details()[0]["index"]
        one = inputs[:1]

        def tflite_style():
            it.set_tensor(idx, one)
            it.invoke()
            it.get_tensor(out)

        it.run(inputs)  # warm up
        single = median_us(tflite_style, 2000)
        run_one = median_us(lambda: it.run(one), 2000)
        batch = median_us(lambda: it.run(inputs), 20, per_call=256)
        print(f"ad_{model} ({it.kernels}): set_tensor+invoke+get_tensor {single:.1f} µs, run(1) {run_one:.1f} µs, "
              f"run(256) {batch:.1f} µs per inference")

    clips = sorted(Path(args.clips).glob("*.wav"))
    for threads in (1, 2):
        mad.score_files(clips[:4], threads=threads)  # warm up
        start = time.perf_counter()
        results = mad.score_files(clips, threads=threads)
        seconds = time.perf_counter() - start
        print(f"score_files: {len(results)} clips, {threads} thread(s): {len(results) / seconds:.1f} clips/s")


if __name__ == "__main__":
    main()
