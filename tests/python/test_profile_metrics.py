"""Enrolment equal to the CLI's `enrol` and `score --profile`; auc/pauc equal to scikit-learn."""

import csv

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import micronet_ad as mad
from conftest import ANOMALY_CLIP, FAN_TRAIN, SHARED, cli_json, read_wav_int16, run_cli, shared

FAN_TEST = SHARED / "data" / "mimii" / "fan" / "test"


def fan_clips(n):
    clips = sorted(FAN_TRAIN.glob("normal_*.wav"))[:n]
    assert len(clips) == n, f"shared fan clips missing in {FAN_TRAIN}"
    return clips


@pytest.fixture(scope="module")
def fan_profile():
    return mad.Profile.fit(fan_clips(6), name="fan")


def test_fit_equals_cli_enrol(tmp_path, fan_profile):
    out = tmp_path / "fan.mnprof"
    run_cli("enrol", "--name", "fan", "--output", out, *fan_clips(6))
    assert fan_profile.bytes == out.read_bytes()
    assert fan_profile.name == "fan" and fan_profile.clips == 6 and fan_profile.rank == 276
    assert fan_profile.loo_scores.shape == (6,)
    assert fan_profile.threshold == pytest.approx(fan_profile.loo_scores.max(), rel=1e-6)


def test_compact_fit_from_arrays_equals_cli(tmp_path):
    clips = fan_clips(4)
    out = tmp_path / "fan16.mnprof"
    run_cli("enrol", "--compact", "--name", "fan16", "--output", out, *clips)
    arrays = [read_wav_int16(c) for c in clips]
    assert mad.Profile.fit(arrays, name="fan16", compact=True).bytes == out.read_bytes()


def test_profile_score_equals_cli(tmp_path, fan_profile):
    path = tmp_path / "fan.mnprof"
    fan_profile.save(path)
    test_clip = sorted(FAN_TEST.glob("anomaly_*.wav"))[0]
    expected = cli_json("score", "--format", "json", "--profile", path, test_clip)["clips"]
    loaded = mad.Profile.load(path)
    assert loaded.bytes == fan_profile.bytes and loaded.loo_scores.size == 0
    got = loaded.score(test_clip).to_dict()
    assert [got] == expected
    assert got["decision"] in ("anomalous", "normal") and got["distance"] == got["score"]
    assert [fan_profile.score(test_clip).to_dict()] == expected
    assert [mad.score(test_clip, profile=path).to_dict()] == expected
    # A folder of profiles, the clip's found by machine name (as --profile DIR --machine-id).
    by_name = cli_json("score", "--format", "json", "--profile", tmp_path, "--machine-id", "fan", test_clip)
    assert [mad.score(test_clip, profile=tmp_path, machine_id="fan").to_dict()] == by_name["clips"]
    with pytest.raises(ValueError, match="no profile for machine"):
        mad.score(test_clip, profile=tmp_path)


def test_profile_errors(tmp_path, fan_profile):
    path = tmp_path / "fan.mnprof"
    fan_profile.save(path)
    with pytest.raises(ValueError, match="model"):
        mad.Profile.load(path, model="small")
    corrupt = tmp_path / "bad.mnprof"
    corrupt.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(OSError, match="bad.mnprof"):
        mad.Profile.load(corrupt)
    with pytest.raises(FileNotFoundError):
        mad.Profile.load(tmp_path / "none.mnprof")
    with pytest.raises(ValueError, match="2"):
        mad.Profile.fit(fan_clips(1))
    with pytest.raises(FileNotFoundError):
        fan_profile.save(tmp_path / "no" / "such" / "dir" / "p.mnprof")


def read_scores(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    labels = np.array([r[0].startswith("anomaly") for r in rows])
    return labels, np.array([float(r[1]) for r in rows])


@pytest.mark.parametrize("machine", ["00", "02", "04", "06"])
def test_auc_pauc_equal_sklearn_on_golden_csvs(machine):
    y, s = read_scores(shared(f"golden/metrics/anomaly_score_slider_id_{machine}.csv"))
    assert mad.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert mad.pauc(y, s) == pytest.approx(roc_auc_score(y, s, max_fpr=0.1), abs=1e-12)
    assert mad.pauc(y, s, max_fpr=0.3) == pytest.approx(roc_auc_score(y, s, max_fpr=0.3), abs=1e-12)
    with open(shared("golden/metrics/expected_auc_pauc.csv")) as f:
        row = next(r for r in csv.DictReader(f) if r["file"] == f"anomaly_score_slider_id_{machine}.csv")
    assert mad.auc(y, s) == pytest.approx(float(row["auc"]), abs=1e-9)
    assert mad.pauc(y, s) == pytest.approx(float(row["pauc_p0.1_mcclish"]), abs=1e-9)


def test_auc_ties_and_labels_like_sklearn():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 10, 300).astype(float)  # many ties
    assert mad.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert mad.pauc(y, s, 0.05) == pytest.approx(roc_auc_score(y, s, max_fpr=0.05), abs=1e-12)
    assert mad.auc(y * 2 - 1, s) == pytest.approx(roc_auc_score(y * 2 - 1, s), abs=1e-12)
    with pytest.raises(ValueError, match="Only one class"):
        mad.auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError):
        mad.auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError):
        mad.auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        mad.pauc([0, 1], [0.1, 0.2], max_fpr=0)


def test_score_against_profile_of_an_array(fan_profile):
    pcm = read_wav_int16(ANOMALY_CLIP)
    r = fan_profile.score(pcm)
    assert r.distance > 0 and r.threshold == pytest.approx(fan_profile.threshold)
