"""micronet-ad in Python: bit-exact int8 MicroNet inference, the training front end, anomaly
scores, enrolment and DCASE metrics — NumPy in, NumPy out (docs/python.md).

    import micronet_ad as mad
    it = mad.Interpreter("medium")              # TFLite-Interpreter-shaped, plus run(batch)
    out = it.run(inputs)                        # int8 [N,32,32,1] -> int8 [N,8], GIL released
    x = mad.features("clip.wav", stage="input") # what the CLI's `features` writes
    r = mad.score("normal_id_00_00000000.wav")  # the fields of `score --format json`
    p = mad.Profile.fit(paths, name="pump")     # enrolment; p.score(clip).decision
    mad.auc(y, s), mad.pauc(y, s)               # scikit-learn's roc_auc_score

Errors are Python exceptions carrying the CLI's one-line messages: ValueError for bad arguments
and arrays, OSError for files (FileNotFoundError, IsADirectoryError, AudioFileError).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _micronet_ad as _core
from ._micronet_ad import AudioFileError

__all__ = [
    "AudioFileError", "Interpreter", "ScoreResult", "Profile", "features", "score", "score_files",
    "auc", "pauc", "load_model_info",
]
__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


@functools.lru_cache(maxsize=16)
def _model(name: Optional[str]) -> Any:
    """A validated model, loaded once per name (None: the default model)."""
    return _core._load_model(name)


def _model_of(model: Any) -> Any:
    if model is None or isinstance(model, str):
        return _model(model)
    if isinstance(model, os.PathLike):
        return _model(os.fsdecode(model))
    if isinstance(model, (bytes, bytearray, memoryview)):
        return _core._load_model_bytes(bytes(model))
    raise TypeError(f"model must be a name, a path or bytes, not {type(model).__name__}")


def load_model_info(model: Any = None) -> Dict[str, Any]:
    """Path and SHA-1 of a model ("small", "medium", "large", a path, bytes; None: the default)."""
    m = _model_of(model)
    return {"path": m.path, "sha1": m.sha1}


# ----------------------------------------------------------------------------------------------
# Inference


class Interpreter:
    """Runs a MicroNet int8 model bit-exactly, shaped like ``tf.lite.Interpreter``.

    ``model_path`` is a .tflite path or "small" | "medium" | "large" (the shared ML-zoo models);
    ``model_content`` (or bytes as the first argument) the file's bytes. ``kernels`` picks the
    kernels ("auto", "reference", "avx2", "avxvnni", "avx512vnni", "neon", "neon_dotprod"); all give the
    same bytes. ``num_threads`` is accepted for compatibility and ignored (one inference runs on
    one thread; use several Interpreters for more).
    """

    def __init__(self, model_path: Union[PathLike, bytes, None] = None, model_content: Optional[bytes] = None,
                 kernels: str = "auto", band_fusion: bool = False, num_threads: Optional[int] = None,
                 experimental_delegates: Any = None) -> None:
        del num_threads, experimental_delegates
        if isinstance(model_path, (bytes, bytearray, memoryview)):
            model_content, model_path = bytes(model_path), None
        if (model_path is None) == (model_content is None):
            raise ValueError("give exactly one of model_path and model_content")
        self._model = _model_of(model_content if model_content is not None else model_path)
        self._runner = _core._Runner(self._model, kernels, band_fusion)
        self._input = self._runner.input_details()
        self._output = self._runner.output_details()

    @property
    def kernels(self) -> str:
        """The kernel set "auto" resolved to on this CPU."""
        return self._runner.kernels

    @property
    def model_path(self) -> str:
        return self._model.path

    @staticmethod
    def _details(t: Dict[str, Any]) -> Dict[str, Any]:
        scales = np.asarray(t["scales"], dtype=np.float32)
        zero_points = np.full(len(scales), t["zero_point"], dtype=np.int32)
        shape = np.asarray(t["shape"], dtype=np.int32)
        return {
            "name": t["name"], "index": t["index"], "shape": shape, "shape_signature": shape.copy(),
            "dtype": np.int8,
            "quantization": (float(scales[0]) if len(scales) else 0.0, int(t["zero_point"])),
            "quantization_parameters": {"scales": scales, "zero_points": zero_points,
                                        "quantized_dimension": t["quantized_dimension"]},
            "sparsity_parameters": {},
        }

    def get_input_details(self) -> List[Dict[str, Any]]:
        return [self._details(self._input)]

    def get_output_details(self) -> List[Dict[str, Any]]:
        return [self._details(self._output)]

    def allocate_tensors(self) -> None:
        """Nothing to do: memory is laid out when the Interpreter is made (kept for TFLite scripts)."""

    def resize_tensor_input(self, input_index: int, tensor_size: Sequence[int], strict: bool = False) -> None:
        """Only the model's own shape is accepted; for batches use ``run``."""
        del strict
        if input_index != self._input["index"] or list(tensor_size) != list(self._input["shape"]):
            raise ValueError(f"resize_tensor_input: the input keeps its shape {list(self._input['shape'])}; "
                             "for a batch use run()")

    def set_tensor(self, tensor_index: int, value: np.ndarray) -> None:
        """Copies an int8 array of the input's exact shape into the input tensor."""
        if tensor_index != self._input["index"]:
            raise ValueError(f"set_tensor: tensor {tensor_index} is not the input ({self._input['index']})")
        self._runner.set_input(np.asarray(value))

    def invoke(self) -> None:
        """Runs the model on the input tensor (GIL released)."""
        self._runner.invoke()

    def get_tensor(self, tensor_index: int) -> np.ndarray:
        """A copy of the input, the output or (after invoke) the embedding tensor."""
        return self._runner.tensor(tensor_index)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """int8 [N,32,32,1] (C-contiguous, read in place) -> int8 [N,8], with the GIL released."""
        return self._runner.run(batch)


# ----------------------------------------------------------------------------------------------
# Front end


def features(audio: Union[PathLike, np.ndarray], sample_rate: Optional[float] = None, framing: str = "centered",
             resize: str = "average", stage: str = "logmel", model: Any = None,
             max_seconds: float = 3600.0) -> np.ndarray:
    """The front end's arrays, equal to the CLI's ``features --stage STAGE``.

    ``audio``: a file path (decoded and resampled as the CLI does; ``sample_rate`` must be None)
    or a 1-D float32/float64 (±1 full scale) or int16 array at ``sample_rate`` Hz (default 16000;
    other rates are resampled). ``stage``: "logmel" float32 [frames,64] dB; "patches" float32
    [windows,32,32]; "input" int8 [windows,32,32,1], quantized for ``model`` (default model).
    """
    if _is_path(audio):
        if sample_rate is not None:
            raise ValueError("sample_rate is for arrays: a file's own rate is used")
        rate = 16000.0
    else:
        rate = 16000.0 if sample_rate is None else float(sample_rate)
    m = _model_of(model) if stage == "input" else None
    return _core._features(audio, rate, framing, resize, stage, m, float(max_seconds))


# ----------------------------------------------------------------------------------------------
# Scoring


class ScoreResult:
    """One clip's score: the fields of ``score --format json`` as attributes (``window_scores`` as
    a float64 array); ``to_dict()`` gives the JSON object itself."""

    def __init__(self, fields: Dict[str, Any]) -> None:
        self._fields = fields
        for key, value in fields.items():
            setattr(self, key, value)
        self.window_scores = np.asarray([np.nan if v is None else v for v in fields.get("window_scores", [])],
                                        dtype=np.float64)

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(json.dumps(self._fields))

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __repr__(self) -> str:
        extra = f", decision={self._fields['decision']!r}" if "decision" in self._fields else ""
        return (f"ScoreResult(path={self._fields['path']!r}, machine_id={self._fields['machine_id']!r}, "
                f"score={self._fields['score']!r}, windows={self._fields['windows']}{extra})")


@functools.lru_cache(maxsize=8)
def _session(model: Optional[str], framing: str, resize: str, kernels: str, profile_path: Optional[str],
             thresholds: Optional[str], score_kind: str, max_seconds: float) -> Any:
    return _core._ScoreSession(_model(model), framing, resize, kernels, profile_path, None, thresholds, score_kind,
                               max_seconds)


def _session_for(model: Any, framing: str, resize: str, kernels: str, profile: Any, thresholds: Any,
                 score_kind: Optional[str], max_seconds: float) -> Any:
    kind = score_kind or ""
    thresholds = None if thresholds is None else os.fsdecode(thresholds)
    if isinstance(profile, Profile):
        return profile._session(thresholds, kind, max_seconds, kernels)
    profile_path = None if profile is None else os.fsdecode(profile)
    if model is None or isinstance(model, (str, os.PathLike)):
        name = None if model is None else os.fsdecode(model)
        return _session(name, framing, resize, kernels, profile_path, thresholds, kind, float(max_seconds))
    return _core._ScoreSession(_model_of(model), framing, resize, kernels, profile_path, None, thresholds, kind,
                               float(max_seconds))


def _score_one(session: Any, clip: Union[PathLike, np.ndarray], machine_id: Optional[str],
               sample_rate: Optional[float], name: Optional[str], has_profile: bool) -> ScoreResult:
    if _is_path(clip):
        if sample_rate is not None:
            raise ValueError("sample_rate is for arrays: a file's own rate is used")
        return ScoreResult(json.loads(session.score_file(clip, machine_id or "")))
    if not machine_id and not has_profile:
        raise ValueError("machine_id is needed to score an array (there is no file name to read it from)")
    rate = 16000.0 if sample_rate is None else float(sample_rate)
    return ScoreResult(json.loads(session.score_array(np.asarray(clip), rate, name or "<array>", machine_id or "")))


def score(clip: Union[PathLike, np.ndarray], machine_id: Optional[str] = None, model: Any = None,
          profile: Union[PathLike, "Profile", None] = None, thresholds: Optional[PathLike] = None,
          score_kind: Optional[str] = None, framing: str = "centered", resize: str = "average",
          kernels: str = "auto", sample_rate: Optional[float] = None, name: Optional[str] = None,
          max_seconds: float = 3600.0) -> ScoreResult:
    """Scores one clip as ``micronet-ad score --format json`` does.

    ``clip``: a path (the machine ID from its DCASE name or ``machine_id``) or a 1-D array at
    ``sample_rate`` Hz (then ``machine_id`` or a profile is needed; ``name`` labels it). ``profile``:
    a Profile, a .mnprof file or a folder of them (``--profile``); ``thresholds``: a file from
    ``calibrate``; ``score_kind``: "neg_softmax" (default), "nll" or "distance" (default with a profile).
    """
    session = _session_for(model, framing, resize, kernels, profile, thresholds, score_kind, max_seconds)
    return _score_one(session, clip, machine_id, sample_rate, name, profile is not None)


def score_files(paths: Union[PathLike, Iterable[PathLike]], threads: int = 0, machine_id: Optional[str] = None,
                model: Any = None, profile: Union[PathLike, "Profile", None] = None,
                thresholds: Optional[PathLike] = None, score_kind: Optional[str] = None, framing: str = "centered",
                resize: str = "average", kernels: str = "auto", max_seconds: float = 3600.0,
                return_exceptions: bool = False) -> List[Any]:
    """Scores files and folders (searched recursively for audio, as the CLI) on ``threads``
    workers (0: one per core), results in input order, with the GIL released.

    A clip that fails raises its exception, unless ``return_exceptions``: then the exception
    object takes its place in the list.
    """
    if int(threads) < 0:
        raise ValueError(f"threads must be >= 0 (0: one per core), not {threads}")
    if _is_path(paths):
        paths = [paths]
    expanded = _core._expand_audio_inputs([os.fsdecode(p) for p in paths])
    session = _session_for(model, framing, resize, kernels, profile, thresholds, score_kind, max_seconds)
    good = [path for path, error in expanded if not error]
    scored = iter(session.score_files(good, machine_id or "", int(threads)))
    results: List[Any] = []
    for path, error in expanded:
        item: Any = OSError(error) if error else next(scored)
        if isinstance(item, BaseException):
            if not return_exceptions:
                raise item
            results.append(item)
        else:
            results.append(ScoreResult(json.loads(item)))
    return results


# ----------------------------------------------------------------------------------------------
# Enrolment


class Profile:
    """A machine's profile: what its normal sound looks like in the model's embedding
    (docs/enrolment.md). Fit one with ``Profile.fit``, keep it with ``save``/``load``, score
    clips by their distance to it with ``score``."""

    def __init__(self, handle: Any, model: Any) -> None:
        self._handle = handle
        self._model = model
        self._sessions: Dict[Any, Any] = {}

    @classmethod
    def fit(cls, clips: Sequence[Union[PathLike, np.ndarray]], name: str = "machine", model: Any = None,
            rank: int = 0, compact: bool = False, quantile: float = 1.0, framing: str = "centered",
            resize: str = "average", kernels: str = "auto", sample_rate: Optional[float] = None,
            max_seconds: float = 3600.0) -> "Profile":
        """Enrols from ≥ 2 normal clips (paths or 1-D arrays at ``sample_rate``), as ``enrol``:
        ``rank`` 0 = full, ``compact`` = rank 16; the threshold is the ``quantile`` of the
        leave-one-out clip scores (1.0: the largest)."""
        if _is_path(clips) or isinstance(clips, np.ndarray):
            raise TypeError("clips must be a list of paths or arrays")
        m = _model_of(model)
        rate = 16000.0 if sample_rate is None else float(sample_rate)
        handle = _core._fit_profile(m, name, list(clips), rate, framing, resize, 16 if compact else int(rank),
                                    float(quantile), kernels, float(max_seconds))
        return cls(handle, m)

    @classmethod
    def load(cls, path: PathLike, model: Any = None) -> "Profile":
        """Reads a .mnprof file made for ``model`` (default model); another model's is refused (ValueError)."""
        m = _model_of(model)
        return cls(_core._load_profile(path, m), m)

    def save(self, path: PathLike) -> None:
        """Writes the profile atomically (the CLI's ``enrol --output`` format)."""
        self._handle.save(path)

    def _session(self, thresholds: Optional[str], kind: str, max_seconds: float, kernels: str) -> Any:
        key = (thresholds, kind, float(max_seconds), kernels)
        if key not in self._sessions:
            self._sessions[key] = _core._ScoreSession(self._model, self.framing, self.resize, kernels, None,
                                                      self._handle, thresholds, kind, float(max_seconds))
        return self._sessions[key]

    def score(self, clip: Union[PathLike, np.ndarray], machine_id: Optional[str] = None,
              sample_rate: Optional[float] = None, name: Optional[str] = None, kernels: str = "auto",
              max_seconds: float = 3600.0) -> ScoreResult:
        """Scores a clip by its distance to this profile: ``distance``, ``threshold``, ``decision``."""
        session = self._session(None, "", max_seconds, kernels)
        return _score_one(session, clip, machine_id, sample_rate, name, True)

    name = property(lambda self: self._handle.name, doc="The machine name.")
    threshold = property(lambda self: self._handle.threshold, doc="Clip distances above it are anomalous.")
    threshold_quantile = property(lambda self: self._handle.threshold_quantile)
    rank = property(lambda self: self._handle.rank, doc="Eigenpairs kept (= embedding_size: full).")
    embedding_size = property(lambda self: self._handle.embedding_size)
    clips = property(lambda self: self._handle.clips, doc="Normal clips fitted on.")
    windows = property(lambda self: self._handle.windows)
    shrinkage = property(lambda self: self._handle.shrinkage, doc="Ledoit-Wolf coefficient of the fit.")
    framing = property(lambda self: self._handle.framing)
    resize = property(lambda self: self._handle.resize)
    loo_scores = property(lambda self: np.asarray(self._handle.loo_scores, dtype=np.float64),
                          doc="Leave-one-out clip scores of a fit (empty when loaded).")
    warning = property(lambda self: self._handle.warning)
    bytes = property(lambda self: self._handle.bytes, doc="The encoded .mnprof file.")

    def __repr__(self) -> str:
        return (f"Profile(name={self.name!r}, rank={self.rank}, clips={self.clips}, "
                f"threshold={self.threshold:.6g})")


# ----------------------------------------------------------------------------------------------
# Metrics


def _labels_and_scores(y_true: Any, y_score: Any) -> Any:
    y = np.asarray(y_true).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(f"y_true has {len(classes)} classes: anomaly labels are binary (1/True = anomalous)")
    # scikit-learn's positive class is the greater label.
    positive = (y == classes[-1]) if len(classes) == 2 else np.zeros(len(y), dtype=bool)
    if len(classes) == 1 and classes[0] in (1, True):
        positive = np.ones(len(y), dtype=bool)
    return positive.tolist(), s.tolist()


def auc(y_true: Any, y_score: Any) -> float:
    """ROC AUC, equal to ``sklearn.metrics.roc_auc_score(y_true, y_score)`` (ties count half)."""
    return _core._auc(*_labels_and_scores(y_true, y_score))


def pauc(y_true: Any, y_score: Any, max_fpr: float = 0.1) -> float:
    """Standardized partial AUC (McClish), equal to ``roc_auc_score(y_true, y_score, max_fpr=max_fpr)``."""
    return _core._pauc(*_labels_and_scores(y_true, y_score), float(max_fpr))
