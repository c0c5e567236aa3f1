"""Interpreter: byte-equal to the golden TFLite Micro outputs (TensorFlow Lite's own Python
interpreter is not installable here, so the golden data is the reference), the TFLite call
shape, and bad inputs."""

import numpy as np
import pytest

import micronet_ad as mad
from conftest import shared

MODELS = ["small", "medium", "large"]


def golden_outputs(model: str) -> np.ndarray:
    return np.fromfile(shared(f"golden/engine/ad_{model}_outputs_256x8.i8"), dtype=np.int8).reshape(256, 8)


@pytest.mark.parametrize("model", MODELS)
def test_run_is_byte_equal_to_golden(model, golden_inputs):
    out = mad.Interpreter(model).run(golden_inputs)
    assert out.dtype == np.int8 and out.shape == (256, 8)
    np.testing.assert_array_equal(out, golden_outputs(model))


@pytest.mark.parametrize("model", MODELS)
def test_tflite_call_shape_is_byte_equal(model, golden_inputs):
    it = mad.Interpreter(model_path=str(shared(f"models/ad_{model}_int8.tflite")))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert list(inp["shape"]) == [1, 32, 32, 1] and inp["dtype"] == np.int8
    assert list(out["shape"]) == [1, 8] and out["dtype"] == np.int8
    scale, zero_point = inp["quantization"]
    assert scale > 0 and -128 <= zero_point <= 127
    expected = golden_outputs(model)
    for i in (0, 1, 77, 255):
        it.set_tensor(inp["index"], golden_inputs[i:i + 1])
        it.invoke()
        np.testing.assert_array_equal(it.get_tensor(out["index"]), expected[i:i + 1])


def test_model_bytes_and_reference_kernels(golden_inputs):
    content = shared("models/ad_small_int8.tflite").read_bytes()
    reference = mad.Interpreter(content, kernels="reference")
    assert reference.kernels == "reference"
    np.testing.assert_array_equal(reference.run(golden_inputs[:8]), golden_outputs("small")[:8])
    fused = mad.Interpreter(model_content=content, band_fusion=True)
    np.testing.assert_array_equal(fused.run(golden_inputs[:8]), golden_outputs("small")[:8])


def test_mlzoo_test_vector():
    ifm = np.load(shared("golden/engine/ad_medium_mlzoo_ifm0.npy"))
    ofm = np.load(shared("golden/engine/ad_medium_mlzoo_ofm0.npy"))
    out = mad.Interpreter("medium").run(np.ascontiguousarray(ifm.reshape(-1, 32, 32, 1).astype(np.int8)))
    np.testing.assert_array_equal(out.reshape(ofm.shape), ofm)


def test_embedding_tensor_after_invoke(golden_inputs):
    it = mad.Interpreter("medium")
    index = it._model.embedding_tensor
    with pytest.raises(ValueError, match="after invoke"):
        it.get_tensor(index)
    it.set_tensor(it.get_input_details()[0]["index"], golden_inputs[:1])
    it.invoke()
    assert it.get_tensor(index).size == 276


def test_strided_set_tensor_is_copied(golden_inputs):
    """TFLite's set_tensor accepts any layout; the values, not the strides, count."""
    it = mad.Interpreter("small")
    idx = it.get_input_details()[0]["index"]
    fortran = np.asfortranarray(golden_inputs[3:4])
    it.set_tensor(idx, fortran)
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), golden_outputs("small")[3:4])


def test_bad_inputs_raise_value_error(golden_inputs):
    it = mad.Interpreter("small")
    with pytest.raises(ValueError, match="must be int8, got float32"):
        it.run(golden_inputs.astype(np.float32))
    with pytest.raises(ValueError, match=r"int8 \[N,32,32,1\], got \[4,32,32\]"):
        it.run(golden_inputs[:4, :, :, 0])
    with pytest.raises(ValueError, match="C-contiguous"):
        it.run(golden_inputs[::2])
    with pytest.raises(ValueError, match="C-contiguous"):
        it.run(np.asfortranarray(golden_inputs[:4]))
    with pytest.raises(ValueError, match="set_tensor"):
        it.set_tensor(it.get_input_details()[0]["index"], golden_inputs[:2])
    with pytest.raises(ValueError, match="not the input"):
        it.set_tensor(12345, golden_inputs[:1])
    with pytest.raises(ValueError, match="is not kept"):
        it.get_tensor(5)
    with pytest.raises(ValueError, match="kernels 'fast'"):
        mad.Interpreter("small", kernels="fast")
    assert it.run(np.zeros((0, 32, 32, 1), np.int8)).shape == (0, 8)


def test_bad_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tflite"):
        mad.Interpreter(str(tmp_path / "nope.tflite"))
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(shared("models/ad_small_int8.tflite").read_bytes()[:5000])
    with pytest.raises(OSError, match="corrupt.tflite"):
        mad.Interpreter(str(corrupt))
    with pytest.raises(ValueError):
        mad.Interpreter(b"not a model at all")
    with pytest.raises(IsADirectoryError):
        mad.Interpreter(str(tmp_path))


def test_threads_share_and_split_interpreters(golden_inputs):
    """run() releases the GIL: threads on one Interpreter (serialised) or on their own give the
    golden bytes."""
    from concurrent.futures import ThreadPoolExecutor

    shared_it = mad.Interpreter("small")
    expected = golden_outputs("small")

    def job(k):
        own = mad.Interpreter("small") if k % 2 else shared_it
        lo = (k * 32) % 256
        return lo, shared_it.run(golden_inputs[lo:lo + 32]), own.run(golden_inputs[lo:lo + 32])

    with ThreadPoolExecutor(4) as pool:
        for lo, a, b in pool.map(job, range(8)):
            np.testing.assert_array_equal(a, expected[lo:lo + 32])
            np.testing.assert_array_equal(b, expected[lo:lo + 32])
