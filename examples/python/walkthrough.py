"""micronet-ad from Python, notebook style: run each block in order (or the whole file).

    PYTHONPATH=build/python python3 examples/python/walkthrough.py     # after a build with -DMICRONET_AD_PYTHON=ON
    python3 examples/python/walkthrough.py                              # after pip install (docs/python.md)

Uses the shared data beside the checkout (MICRONET_AD_SHARED overrides).
"""

import os
from pathlib import Path

import numpy as np

import micronet_ad as mad

SHARED = Path(os.environ.get("MICRONET_AD_SHARED", Path(__file__).resolve().parents[3] / "shared"))
SLIDER = SHARED / "data/dcase2020_task2/slider"
FAN = SHARED / "data/mimii/fan"

# %% 1. Inference, as with TensorFlow Lite's interpreter (change the import, keep the calls).
interpreter = mad.Interpreter("medium")  # or model_path="ad_medium_int8.tflite", or the file's bytes
inp = interpreter.get_input_details()[0]
out = interpreter.get_output_details()[0]
patches = np.fromfile(SHARED / "golden/engine/inputs_256x1024.i8", dtype=np.int8).reshape(256, 32, 32, 1)
interpreter.set_tensor(inp["index"], patches[:1])
interpreter.invoke()
print("one window's logits:", interpreter.get_tensor(out["index"]))

# A whole batch in one call, with the GIL released (threads can run other Interpreters meanwhile).
logits = interpreter.run(patches)  # int8 [256, 8], byte-equal to TFLite Micro's reference kernels
print("batch:", logits.shape, logits.dtype, "kernels:", interpreter.kernels)

# %% 2. The front end: what the model sees of a clip.
clip = SLIDER / "test/anomaly_id_00_00000000.wav"
logmel = mad.features(clip)                  # float32 [313, 64] dB
inputs = mad.features(clip, stage="input")   # int8 [13, 32, 32, 1], quantized for the default model
print("log-mel", logmel.shape, "model inputs", inputs.shape)
# Arrays work too (float in ±1 or int16; other rates are resampled), e.g. from librosa or soundfile.
tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.float32)
print("a 1 s tone at 48 kHz:", mad.features(tone, sample_rate=48000).shape)
# The features feed the interpreter: the same 13 windows the scorer runs.
window_logits = interpreter.run(inputs)

# %% 3. Scores: the fields of `micronet-ad score --format json`.
result = mad.score(clip)
print(result)                                # score = mean −softmax[id 00], higher = more anomalous
print("per window:", np.round(result.window_scores, 3))
results = mad.score_files([SLIDER / "test"], threads=2)  # folders are searched, results in order
for r in results:
    print(f"{Path(r.path).name}: {r.score:.4f}")

# %% 4. Your own machine: enrol it from normal clips, then score by distance to its profile.
normal = sorted((FAN / "train").glob("*.wav"))
profile = mad.Profile.fit(normal, name="fan")
profile.save("/tmp/fan.mnprof")              # the CLI's format: `micronet-ad score --profile /tmp/fan.mnprof`
test_clips = sorted((FAN / "test").glob("*.wav"))
verdicts = [profile.score(c) for c in test_clips]
print(profile, "->", sum(v.decision == "anomalous" for v in verdicts), "of", len(verdicts), "judged anomalous")

# %% 5. Metrics, equal to scikit-learn's roc_auc_score.
labels = [Path(v.path).name.startswith("anomaly") for v in verdicts]
distances = [v.distance for v in verdicts]
print(f"fan AUC {mad.auc(labels, distances):.3f}, pAUC {mad.pauc(labels, distances):.3f}")

# %% 6. Errors are exceptions with the CLI's messages.
try:
    interpreter.run(patches.astype(np.float32))
except ValueError as e:
    print("ValueError:", e)
try:
    mad.score("/no/such/normal_id_00_00000000.wav")
except FileNotFoundError as e:
    print("FileNotFoundError:", e)
