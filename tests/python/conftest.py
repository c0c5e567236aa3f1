"""Shared fixtures: the shared data folder, the CLI to compare against, and helpers.

A missing shared file or CLI fails the test (never a skip). MICRONET_AD_SHARED and
MICRONET_AD_CLI locate them (ctest sets both); defaults: ../shared and build/micronet-ad.
"""

import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MICRONET_AD_SHARED", REPO.parent / "shared"))
CLI = Path(os.environ.get("MICRONET_AD_CLI", REPO / "build" / "micronet-ad"))
SLIDER = SHARED / "data" / "dcase2020_task2" / "slider"
ANOMALY_CLIP = SLIDER / "test" / "anomaly_id_00_00000000.wav"
NORMAL_CLIP = SLIDER / "test" / "normal_id_00_00000000.wav"
FAN_TRAIN = SHARED / "data" / "mimii" / "fan" / "train"


def shared(relative: str) -> Path:
    path = SHARED / relative
    assert path.exists(), f"shared file missing: {path}"
    return path


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    assert CLI.exists(), f"CLI missing: {CLI} (set MICRONET_AD_CLI)"
    done = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def cli_json(*args: str) -> dict:
    return json.loads(run_cli(*args).stdout)


def read_wav_int16(path: Path) -> np.ndarray:
    """A 16-bit mono WAV's samples, read without micronet_ad (the standard library's wave)."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


@pytest.fixture(scope="session")
def golden_inputs() -> np.ndarray:
    raw = np.fromfile(shared("golden/engine/inputs_256x1024.i8"), dtype=np.int8)
    return raw.reshape(256, 32, 32, 1)
