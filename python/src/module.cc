// micronet_ad._micronet_ad: the compiled half of the Python package. It only converts between
// Python objects and python_api.h (where all the work and checks are) and releases the GIL
// around inference and scoring. micronet_ad/__init__.py builds the public API on top.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "host/detect/batch_scorer.h"
#include "host/io/sha1.h"
#include "python_api.h"

namespace py = pybind11;
namespace api = micronet_ad::python;
using micronet_ad::TensorInfo;

namespace {

// The view of a NumPy array that python_api.h checks (the array must stay alive while it is used).
api::ArrayView view_of(const py::array& array) {
  api::ArrayView view;
  view.data = array.data();
  view.kind = array.dtype().kind();
  view.itemsize = static_cast<int>(array.itemsize());
  view.shape.assign(array.shape(), array.shape() + array.ndim());
  view.c_contiguous = (array.flags() & py::array::c_style) != 0;
  return view;
}

// Hands a vector to NumPy without copying: the array owns it through a capsule.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values, const std::vector<std::int64_t>& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), owned->data(), owner);
}

py::object audio_file_error_class;  // micronet_ad.AudioFileError, an OSError

// The Python exception an error outcome stands for, with the C++ message unchanged.
py::object exception_object(const api::ScoreOutcome& o) {
  using Type = api::ScoreOutcome::ErrorType;
  auto make = [&](PyObject* type) { return py::reinterpret_borrow<py::object>(type)(o.error); };
  switch (o.type) {
    case Type::kFileNotFound:
      return make(PyExc_FileNotFoundError);
    case Type::kIsDirectory:
      return make(PyExc_IsADirectoryError);
    case Type::kFile:
      return make(PyExc_OSError);
    case Type::kAudio: {
      py::object e = audio_file_error_class(o.error);
      e.attr("kind") = o.audio_kind;
      return e;
    }
    case Type::kValue:
      return make(PyExc_ValueError);
    case Type::kRuntime:
    case Type::kNone:
      break;
  }
  return make(PyExc_RuntimeError);
}

void translate_exception(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const py::builtin_exception&) {
    throw;  // pybind11's own (TypeError, ...): its translator maps them
  } catch (const py::error_already_set&) {
    throw;
  } catch (const api::FileError&) {
  } catch (const api::AudioFileError&) {
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
    return;
  }
  // Only the exceptions caught above reach here; everything else goes to pybind11's own translators.
  api::ScoreOutcome outcome;
  try {
    std::rethrow_exception(error);
  } catch (...) {
    outcome = api::outcome_from_current_exception();
  }
  const py::object e = exception_object(outcome);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(e.ptr())), e.ptr());
}

// A model name or path; None is the default model.
std::string model_name(const py::object& model) {
  return model.is_none() ? std::string() : py::str(model).cast<std::string>();
}

bool is_path(const py::handle& h) { return py::isinstance<py::str>(h) || py::hasattr(h, "__fspath__"); }
std::string path_string(const py::handle& h) {
  return py::module_::import("os").attr("fsdecode")(h).cast<std::string>();
}

// Samples from a path or an array (at sample_rate Hz).
std::vector<float> samples_of(const py::handle& source, double sample_rate, double max_seconds) {
  if (is_path(source)) {
    const std::string path = path_string(source);
    py::gil_scoped_release release;
    return api::samples_from_file(path, max_seconds);
  }
  const py::array array = py::array::ensure(source);
  if (!array) throw std::invalid_argument("audio must be a path or a NumPy array");
  return api::samples_from_array(view_of(array), sample_rate);
}

using ModelPtr = std::shared_ptr<const micronet_ad::host::ModelFile>;
// micronet_ad._Model: a loaded model shared by the objects made from it (pybind11 holders cannot be const).
struct ModelHandle {
  ModelPtr file;
};

py::dict tensor_dict(const TensorInfo& t) {
  py::dict d;
  d["name"] = t.name;
  d["index"] = t.index;
  d["shape"] = std::vector<int>(t.shape.dims, t.shape.dims + t.shape.rank);
  d["scales"] = std::vector<float>(t.scales, t.scales + t.num_scales);
  d["zero_point"] = t.zero_point;
  d["quantized_dimension"] = t.quantized_dim;
  return d;
}

micronet_ad::host::EnrolSettings enrol_settings(const std::string& framing, const std::string& resize, int rank,
                                                double quantile, const std::string& kernels, double max_seconds) {
  micronet_ad::host::EnrolSettings s;
  s.framing = api::parse_framing_name(framing);
  s.resize = api::parse_resize_name(resize);
  if (rank < 0) throw std::invalid_argument("rank must be ≥ 0 (0: full)");
  s.rank = static_cast<std::uint32_t>(rank);
  s.quantile = quantile;
  s.kernels = api::parse_kernels(kernels);
  s.max_seconds = max_seconds;
  return s;
}

}  // namespace

PYBIND11_MODULE(_micronet_ad, m) {
  m.doc() = "micronet-ad's compiled core (use the micronet_ad package)";
  audio_file_error_class = py::reinterpret_borrow<py::object>(
      PyErr_NewExceptionWithDoc("micronet_ad.AudioFileError",
                                "An audio file that exists but cannot be used (not audio, truncated, empty, ...). "
                                "`kind` says which, as the HTTP service does.",
                                PyExc_OSError, nullptr));
  audio_file_error_class.dec_ref();  // PyErr_NewException returned a new reference
  m.attr("AudioFileError") = audio_file_error_class;
  py::register_exception_translator(translate_exception);

  py::class_<ModelHandle>(m, "_Model")
      .def_property_readonly("path", [](const ModelHandle& m) { return m.file->path; })
      .def_property_readonly(
          "sha1",
          [](const ModelHandle& m) { return micronet_ad::host::sha1_hex(m.file->bytes(), m.file->model.size()); })
      .def_property_readonly("embedding_tensor", [](const ModelHandle& m) { return m.file->model.embedding_tensor(); });
  m.def("_load_model", [](const py::object& model) { return ModelHandle{api::load_model(model_name(model))}; });
  m.def("_load_model_bytes", [](const py::bytes& content) {
    const std::string bytes = content;  // copied: the model outlives the Python object
    return ModelHandle{api::load_model_from_bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())};
  });

  py::class_<api::Runner>(m, "_Runner")
      .def(py::init([](const ModelHandle& model, const std::string& kernels, bool band_fusion) {
        return std::make_unique<api::Runner>(model.file, api::parse_kernels(kernels), band_fusion);
      }))
      .def_property_readonly("kernels", &api::Runner::kernels)
      .def_property_readonly("memory_bytes", &api::Runner::memory_bytes)
      .def("input_details", [](const api::Runner& r) { return tensor_dict(r.input_info()); })
      .def("output_details", [](const api::Runner& r) { return tensor_dict(r.output_info()); })
      .def("set_input",
           [](api::Runner& r, const py::array& value) {
             std::vector<std::int64_t> strides(value.strides(), value.strides() + value.ndim());
             r.set_input(view_of(value), strides.data());
           })
      .def("invoke", &api::Runner::invoke, py::call_guard<py::gil_scoped_release>())
      .def("tensor",
           [](const api::Runner& r, int index) {
             std::vector<std::int8_t> bytes = r.tensor_bytes(index);
             const TensorInfo t = r.file().model.tensor(index);
             return to_numpy(std::move(bytes), std::vector<std::int64_t>(t.shape.dims, t.shape.dims + t.shape.rank));
           })
      .def("run", [](api::Runner& r, const py::array& batch) {
        const api::ArrayView view = view_of(batch);
        api::Runner::check_batch(view, r.input_info());
        const auto outputs = static_cast<py::ssize_t>(r.output_info().bytes);
        py::array_t<std::int8_t> out({static_cast<py::ssize_t>(view.shape[0]), outputs});
        std::int8_t* out_data = out.mutable_data();
        {
          py::gil_scoped_release release;
          r.run(view, out_data);
        }
        return out;
      });

  m.def("_features",
        [](const py::object& source, double sample_rate, const std::string& framing, const std::string& resize,
           const std::string& stage, const py::object& model, double max_seconds) -> py::object {
          const api::Stage which = api::parse_stage(stage);
          const micronet_ad::Framing f = api::parse_framing_name(framing);
          const micronet_ad::Resize z = api::parse_resize_name(resize);
          ModelPtr file;
          if (which == api::Stage::kInput) file = model.cast<const ModelHandle&>().file;
          const std::vector<float> samples = samples_of(source, sample_rate, max_seconds);
          api::FeatureArray features;
          {
            py::gil_scoped_release release;
            features = api::compute_features(samples, f, z, which, file.get());
          }
          if (which == api::Stage::kInput) return to_numpy(std::move(features.bytes), features.shape);
          return to_numpy(std::move(features.floats), features.shape);
        });

  py::class_<api::ProfileHandle>(m, "_Profile")
      .def_property_readonly("name", [](const api::ProfileHandle& p) { return p.file->name(); })
      .def_property_readonly("source", [](const api::ProfileHandle& p) { return p.file->source(); })
      .def_property_readonly("threshold",
                             [](const api::ProfileHandle& p) { return p.file->profile().header().threshold; })
      .def_property_readonly("threshold_quantile",
                             [](const api::ProfileHandle& p) { return p.file->profile().header().threshold_quantile; })
      .def_property_readonly("rank", [](const api::ProfileHandle& p) { return p.file->profile().header().rank; })
      .def_property_readonly("embedding_size",
                             [](const api::ProfileHandle& p) { return p.file->profile().header().embedding_size; })
      .def_property_readonly("clips", [](const api::ProfileHandle& p) { return p.file->profile().header().clips; })
      .def_property_readonly("windows", [](const api::ProfileHandle& p) { return p.file->profile().header().windows; })
      .def_property_readonly("shrinkage",
                             [](const api::ProfileHandle& p) { return p.file->profile().header().shrinkage; })
      .def_property_readonly("framing",
                             [](const api::ProfileHandle& p) { return to_string(p.file->profile().header().framing); })
      .def_property_readonly("resize",
                             [](const api::ProfileHandle& p) { return to_string(p.file->profile().header().resize); })
      .def_property_readonly("loo_scores", [](const api::ProfileHandle& p) { return p.loo_scores; })
      .def_property_readonly("warning", [](const api::ProfileHandle& p) { return p.warning; })
      .def_property_readonly("bytes",
                             [](const api::ProfileHandle& p) {
                               const auto& b = p.file->bytes();
                               return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
                             })
      .def("save", [](const api::ProfileHandle& p, const py::object& path) {
        const std::string target = path_string(path);
        api::save_profile(p, target);
      });
  m.def("_load_profile", [](const py::object& path, const ModelHandle& model) {
    const std::string source = path_string(path);
    return api::load_profile(source, *model.file);
  });
  m.def("_fit_profile", [](const ModelHandle& model, const std::string& name, const py::list& clips, double sample_rate,
                           const std::string& framing, const std::string& resize, int rank, double quantile,
                           const std::string& kernels, double max_seconds) {
    const micronet_ad::host::EnrolSettings settings =
        enrol_settings(framing, resize, rank, quantile, kernels, max_seconds);
    std::vector<std::vector<float>> samples;
    for (const py::handle& clip : clips) samples.push_back(samples_of(clip, sample_rate, max_seconds));
    py::gil_scoped_release release;
    return api::fit_profile_samples(*model.file, name, settings, samples);
  });

  py::class_<api::ScoreSession>(m, "_ScoreSession")
      .def(py::init([](const ModelHandle& model, const std::string& framing, const std::string& resize,
                       const std::string& kernels, const py::object& profile_path, const py::object& profile,
                       const py::object& thresholds, const std::string& score_kind, double max_seconds) {
        api::ScoreSettings s;
        s.framing = api::parse_framing_name(framing);
        s.resize = api::parse_resize_name(resize);
        s.kernels = api::parse_kernels(kernels);
        if (!profile_path.is_none()) s.profile_path = path_string(profile_path);
        if (!profile.is_none()) s.profile = profile.cast<const api::ProfileHandle&>().file;
        if (!thresholds.is_none()) s.thresholds_path = path_string(thresholds);
        s.score_kind = score_kind;
        s.max_seconds = max_seconds;
        return std::make_unique<api::ScoreSession>(model.file, s);
      }))
      .def("score_file",
           [](api::ScoreSession& session, const py::object& path, const std::string& machine_id) {
             const std::string p = path_string(path);
             py::gil_scoped_release release;
             return session.score_file(p, machine_id);
           })
      .def("score_array",
           [](api::ScoreSession& session, const py::array& audio, double sample_rate, const std::string& label,
              const std::string& machine_id) {
             const std::vector<float> samples = api::samples_from_array(view_of(audio), sample_rate);
             py::gil_scoped_release release;
             return session.score_samples(samples, label, machine_id);
           })
      .def("score_files", [](api::ScoreSession& session, const std::vector<std::string>& paths,
                             const std::string& machine_id, int threads) {
        std::vector<api::ScoreOutcome> outcomes;
        {
          py::gil_scoped_release release;
          outcomes = session.score_files(paths, machine_id, threads);
        }
        py::list results;
        for (const api::ScoreOutcome& o : outcomes) {
          if (o.type == api::ScoreOutcome::ErrorType::kNone)
            results.append(py::str(o.json));
          else
            results.append(exception_object(o));
        }
        return results;
      });

  m.def("_expand_audio_inputs", [](const std::vector<std::string>& args) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& in : micronet_ad::host::expand_audio_inputs(args)) out.emplace_back(in.path, in.error);
    return out;
  });
  m.def("_auc", &api::auc);
  m.def("_pauc", &api::pauc);
}
