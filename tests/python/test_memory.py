"""100,000 calls in a loop keep the resident set flat: no leak per call, on success or error."""

import os

import numpy as np

import micronet_ad as mad

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def test_100k_calls_keep_rss_flat(golden_inputs):
    it = mad.Interpreter("small")
    one = golden_inputs[:1]
    index = it.get_input_details()[0]["index"]
    out_index = it.get_output_details()[0]["index"]
    audio = np.linspace(-0.5, 0.5, 4000, dtype=np.float32)
    bad = golden_inputs[:1].astype(np.float32)
    y, s = [0, 1, 0, 1], [0.1, 0.9, 0.3, 0.4]

    empty = np.zeros((0, 32, 32, 1), np.int8)

    # Mostly calls whose cost is the binding itself (an inference is ~0.1-1 ms), so the loop
    # stays within a few seconds; every path that allocates or raises is in the mix.
    def call(i: int) -> None:
        kind = i % 16
        if kind == 0:
            it.run(one)  # a real inference: array in, array out, GIL released
        elif kind < 6:
            it.run(empty)
        elif kind < 9:
            it.set_tensor(index, one)
            it.get_tensor(out_index)
        elif kind < 12:
            mad.auc(y, s)
        elif kind < 15:
            try:
                it.run(bad)  # the error path: an exception built and dropped
            except ValueError:
                pass
        elif i % 256 == 15:
            mad.features(audio, stage="patches")  # a short clip through the front end

    for i in range(5_000):  # warm up: allocator pools, caches
        call(i)
    before = rss_bytes()
    for i in range(100_000):
        call(i)
    grown = rss_bytes() - before
    print(f"RSS {before} -> {before + grown} bytes over 100,000 calls")
    assert grown < 2 * 1024 * 1024, f"RSS grew by {grown} bytes over 100,000 calls"
