// A model's description as JSON: what `inspect --json` prints and what the HTTP service's
// GET /v1/model answers, built in one place so both stay the same.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "host/io/model_file.h"

namespace micronet_ad::host {

// [1,32,32,1] (a JSON integer array, as model_info_json gives shapes) and back to "[1,32,32,1]".
nlohmann::json shape_json(const Shape& shape);
std::string dims_string(const nlohmann::json& shape);

// Shapes are integer arrays (shape_json).
// {path, bytes, sha1, schema_version, input, output, operators[], total_macs, parameter_bytes,
//  parameters, arena_bytes, arena_lower_bound_bytes, interpreter_memory_bytes(_optimized)}
nlohmann::json model_info_json(const ModelFile& file);

// SHA-1 of the model's bytes (what thresholds files are tied to).
std::string model_sha1(const ModelFile& file);

}  // namespace micronet_ad::host
