"""features() equal to the CLI's .npy, score()/score_files() equal to `score --format json`."""

import json
import shutil

import numpy as np
import pytest

import micronet_ad as mad
from conftest import ANOMALY_CLIP, NORMAL_CLIP, SLIDER, cli_json, read_wav_int16, run_cli, shared


@pytest.mark.parametrize("stage", ["logmel", "patches", "input"])
@pytest.mark.parametrize("framing,resize", [("centered", "average"), ("kit", "decimate")])
def test_features_equal_cli_npy(tmp_path, stage, framing, resize):
    out = tmp_path / "f.npy"
    run_cli("features", ANOMALY_CLIP, "--stage", stage, "--framing", framing, "--resize", resize, "-o", out)
    expected = np.load(out)
    got = mad.features(ANOMALY_CLIP, stage=stage, framing=framing, resize=resize)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_features_from_arrays_equal_file():
    pcm = read_wav_int16(NORMAL_CLIP)
    from_file = mad.features(NORMAL_CLIP, stage="input")
    np.testing.assert_array_equal(mad.features(pcm, stage="input"), from_file)
    np.testing.assert_array_equal(mad.features(pcm.astype(np.float32) / 32768, stage="input"), from_file)
    np.testing.assert_array_equal(mad.features(pcm / 32768.0, stage="input"), from_file)


def test_features_match_golden_frontend():
    # The golden clip was computed in float64: equal within float32 rounding of dB values.
    golden = np.fromfile(shared("golden/frontend/clip_slider_anomaly_id_00/centered_logmel_db_313x64.f32"),
                         dtype=np.float32).reshape(313, 64)
    np.testing.assert_allclose(mad.features(ANOMALY_CLIP), golden, atol=2e-3)


def test_resampled_array_has_the_same_length():
    pcm = read_wav_int16(NORMAL_CLIP).astype(np.float32) / 32768
    at_8k = pcm[::2].copy()
    assert mad.features(at_8k, sample_rate=8000).shape == mad.features(pcm).shape


def test_bad_audio_arrays_raise_value_error():
    good = np.zeros(16000, np.float32)
    bad = good.copy()
    bad[100] = np.nan
    with pytest.raises(ValueError, match="non-finite sample .* at index 100"):
        mad.features(bad)
    with pytest.raises(ValueError, match="beyond"):
        mad.features(good + 5000)
    with pytest.raises(ValueError, match="1-D"):
        mad.features(np.zeros((2, 16000), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        mad.features(np.zeros(32000, np.float32)[::2])
    with pytest.raises(ValueError, match="got int32"):
        mad.features(np.zeros(16000, np.int32))
    with pytest.raises(ValueError, match="no samples"):
        mad.features(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="sample_rate"):
        mad.features(good, sample_rate=10)
    with pytest.raises(ValueError, match="stage 'mel'"):
        mad.features(good, stage="mel")
    with pytest.raises(ValueError, match="sample_rate is for arrays"):
        mad.features(NORMAL_CLIP, sample_rate=16000)
    with pytest.raises(ValueError, match="machine_id is needed"):
        mad.score(good)


def cli_clips(*args):
    return cli_json("score", "--format", "json", *args)["clips"]


def test_score_equals_cli_json():
    expected = cli_clips(ANOMALY_CLIP, NORMAL_CLIP)
    got = [mad.score(ANOMALY_CLIP).to_dict(), mad.score(str(NORMAL_CLIP)).to_dict()]
    assert got == expected
    r = mad.score(ANOMALY_CLIP)
    assert r.machine_id == "00" and r.windows == 13 and r.window_scores.shape == (13,)
    assert r.score == pytest.approx(-0.101, abs=1e-3)  # README's measured anomaly score


def test_score_options_equal_cli_json():
    expected = cli_clips("--framing", "kit", "--resize", "decimate", "--score-kind", "nll", "--model", "small",
                         ANOMALY_CLIP)
    got = mad.score(ANOMALY_CLIP, framing="kit", resize="decimate", score_kind="nll", model="small")
    assert [got.to_dict()] == expected


def test_score_array_equals_file():
    pcm = read_wav_int16(ANOMALY_CLIP)
    by_file = mad.score(ANOMALY_CLIP).to_dict()
    by_array = mad.score(pcm, machine_id="00", name=str(ANOMALY_CLIP)).to_dict()
    assert by_array == by_file


@pytest.mark.parametrize("threads", [1, 2])
def test_score_files_equals_cli_json(threads):
    expected = cli_clips("--threads", "2", SLIDER / "test")
    got = mad.score_files([SLIDER / "test"], threads=threads)
    assert [r.to_dict() for r in got] == expected


def test_file_errors(tmp_path):
    corrupt = tmp_path / "normal_id_00_00000009.wav"
    corrupt.write_bytes(b"RIFF" + b"\x00" * 100)
    done = run_cli("score", corrupt, check=False)
    assert done.returncode == 1
    cli_message = done.stderr.strip().splitlines()[0].removeprefix("micronet-ad: error: ")
    with pytest.raises(mad.AudioFileError) as info:
        mad.score(corrupt)
    assert str(info.value) == cli_message
    assert isinstance(info.value, OSError) and info.value.kind == "not_audio"

    truncated = tmp_path / "normal_id_00_00000008.wav"
    truncated.write_bytes(NORMAL_CLIP.read_bytes()[:50000])
    with pytest.raises(mad.AudioFileError) as info:
        mad.features(truncated)
    assert info.value.kind == "truncated_audio"

    missing = tmp_path / "normal_id_00_00000007.wav"
    with pytest.raises(FileNotFoundError, match="normal_id_00_00000007.wav"):
        mad.score(missing)
    with pytest.raises(ValueError, match="machine ID"):
        mad.score(tmp_path / "clip.wav")

    good = tmp_path / "normal_id_00_00000000.wav"
    shutil.copy(NORMAL_CLIP, good)
    results = mad.score_files([good, corrupt, missing], return_exceptions=True)
    assert isinstance(results[0], mad.ScoreResult)
    assert isinstance(results[1], mad.AudioFileError) and isinstance(results[2], FileNotFoundError)
    with pytest.raises(mad.AudioFileError):
        mad.score_files([good, corrupt])
    assert mad.score_files([]) == []
    with pytest.raises(ValueError, match="threads"):
        mad.score_files([good], threads=-1)
    with pytest.raises(OSError, match="no audio"):
        mad.score_files([tmp_path / "empty_dir"] if (tmp_path / "empty_dir").mkdir() is None else [])
    with pytest.raises(TypeError):
        mad.Interpreter(12345)


def test_thresholds_file_equals_cli(tmp_path):
    thresholds = tmp_path / "t.json"
    run_cli("calibrate", "--quantile", "0.9", "-o", thresholds, SLIDER / "train")
    expected = cli_clips("--thresholds", thresholds, ANOMALY_CLIP)
    got = mad.score(ANOMALY_CLIP, thresholds=thresholds).to_dict()
    assert [got] == expected and got["decision"] == "anomalous"
    assert json.loads(json.dumps(got))["threshold"] == expected[0]["threshold"]
