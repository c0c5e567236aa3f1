#!/usr/bin/env bash
# Sets up, builds and runs the main job: describe the default model, run it on ML-zoo's own
# test vector (checking the output against ML-zoo's expected output), then score the shared
# slider recordings with the default model (ad_medium, embedded in the binary), calibrate
# thresholds on the normal training clips and evaluate the test clips (AUC/pAUC, HTML report);
# then enrol a machine none of the models was trained on (MIMII fan) from its normal train/ clips
# and evaluate its test/ clips by distance to that profile.
set -euo pipefail
source "$(dirname "$0")/shared_data.sh"  # cd to the top, MICRONET_AD_SHARED checked
bash scripts/setup-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMICRONET_AD_SHARED="$MICRONET_AD_SHARED" >/dev/null
cmake --build build -j"$(nproc)" --target micronet-ad

./build/micronet-ad inspect medium
echo
./build/micronet-ad infer --model medium --input "$MICRONET_AD_SHARED/golden/engine/ad_medium_mlzoo_ifm0.npy" \
                          --output build/ad_medium_ofm0.npy
if cmp -s <(tail -c 8 build/ad_medium_ofm0.npy) <(tail -c 8 "$MICRONET_AD_SHARED/golden/engine/ad_medium_mlzoo_ofm0.npy"); then
  echo "ML-zoo test vector: output equals ML-zoo's expected output (bit-exact)"
else
  echo "ML-zoo test vector: output DIFFERS from ML-zoo's expected output" >&2
  exit 1
fi

echo
slider="$MICRONET_AD_SHARED/data/dcase2020_task2/slider"
echo "Scoring the shared slider clips (default model; higher score = more anomalous):"
./build/micronet-ad score "$slider/test" "$slider/train"

echo
echo "Thresholds per machine ID from the normal training clips (90 % quantile):"
./build/micronet-ad calibrate --quantile 0.9 --output build/slider_thresholds.json "$slider"
echo
echo "DCASE evaluation of the slider test clips with those thresholds:"
./build/micronet-ad eval --thresholds build/slider_thresholds.json --out build/eval --report build/eval/report.html "$slider"
echo "Score CSVs, result.csv and decisions in build/eval/; report: build/eval/report.html"

echo
fan="$MICRONET_AD_SHARED/data/mimii/fan"
echo "Enrolling a machine the models never heard (MIMII fan, 10 normal clips) and scoring new clips by distance:"
./build/micronet-ad enrol --output build/fan.mnprof "$fan/train"
./build/micronet-ad score --profile build/fan.mnprof "$fan/test"
echo
echo "DCASE evaluation of the fan test clips against its profile (enrols <root>/fan/train first):"
./build/micronet-ad eval --enrol --out build/eval_fan --report build/eval_fan/report.html "$MICRONET_AD_SHARED/data/mimii"
echo "Profiles in build/eval_fan/profiles/; score CSVs, result.csv, decisions and report in build/eval_fan/"
