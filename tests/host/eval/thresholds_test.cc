// The thresholds JSON file: round trip, validation, and refusal for another model or score.
#include "host/eval/thresholds.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/io/file.h"

namespace micronet_ad::host {
namespace {

using nlohmann::json;

const std::string kMediumSha1 = "c54a0f0ddac24f2e62b48f26d8bee664d58c49b8";

ThresholdSet sample_set() {
  ThresholdSet set;
  set.model_sha1 = kMediumSha1;
  set.score_kind = ScoreMethod::kNegSoftmax;
  set.method = ThresholdMethod::kGamma;
  set.quantile = 0.9;
  set.machines["id_00"] = MachineThreshold{-0.1 - 0.2 / 3, 75, GammaDistribution{3.25, -1.0000001, 0.0712}};
  set.machines["id_02"] = MachineThreshold{-0.5, 12, std::nullopt};
  return set;
}

std::string error_of(const std::string& text) {
  try {
    parse_thresholds_json(text, "t.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of(const json& document) { return error_of(document.dump()); }

json sample_json() { return json::parse(thresholds_to_json(sample_set())); }

TEST(Thresholds, RoundTripIsExact) {
  const ThresholdSet set = sample_set();
  const ThresholdSet back = parse_thresholds_json(thresholds_to_json(set), "t.json");
  EXPECT_EQ(back.model_sha1, set.model_sha1);
  EXPECT_EQ(back.score_kind, set.score_kind);
  EXPECT_EQ(back.method, set.method);
  EXPECT_EQ(back.quantile, set.quantile);
  ASSERT_EQ(back.machines.size(), 2u);
  const MachineThreshold& id00 = back.machines.at("id_00");
  EXPECT_EQ(id00.threshold, set.machines.at("id_00").threshold);
  EXPECT_EQ(id00.clips, 75u);
  ASSERT_TRUE(id00.gamma.has_value());
  EXPECT_EQ(id00.gamma->shape, 3.25);
  EXPECT_EQ(id00.gamma->loc, -1.0000001);
  EXPECT_EQ(id00.gamma->scale, 0.0712);
  EXPECT_FALSE(back.machines.at("id_02").gamma.has_value());
}

TEST(Thresholds, FileRoundTripAndLoadChecks) {
  const std::string path = ::testing::TempDir() + "/thresholds_test.json";
  write_thresholds(path, sample_set());
  EXPECT_EQ(load_thresholds(path, kMediumSha1, ScoreMethod::kNegSoftmax).machines.size(), 2u);
  // SHA-1 compares without regard to case.
  EXPECT_NO_THROW(load_thresholds(path, "C54A0F0DDAC24F2E62B48F26D8BEE664D58C49B8", ScoreMethod::kNegSoftmax));
  try {
    load_thresholds(path, "6dc73515caea226065c3408d82d857b9908e3ffa", ScoreMethod::kNegSoftmax);
    FAIL();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos);
    EXPECT_NE(what.find("6dc73515caea226065c3408d82d857b9908e3ffa"), std::string::npos);
    EXPECT_NE(what.find("recalibrate"), std::string::npos);
  }
  try {
    load_thresholds(path, kMediumSha1, ScoreMethod::kNll);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'neg_softmax' scores, not on 'nll'"), std::string::npos);
  }
  std::remove(path.c_str());
  EXPECT_THROW(load_thresholds(path, kMediumSha1, ScoreMethod::kNll), std::runtime_error);
}

TEST(Thresholds, RejectsInvalidJson) {
  EXPECT_NE(error_of(std::string("{\"format\": ")).find("t.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(std::string("[1, 2]")).find("not a JSON object"), std::string::npos);
}

// A file merged by hand may name a machine twice; JSON parsers keep the last silently.
TEST(Thresholds, RejectsDuplicateKeys) {
  std::string text = sample_json().dump();
  const std::string id02 = "\"id_02\":";
  const std::size_t at = text.find(id02);
  ASSERT_NE(at, std::string::npos) << text;
  text.insert(at, "\"id_02\":{\"threshold\":-9,\"clips\":1},");  // the same machine twice
  EXPECT_NE(error_of(text).find("t.json: key 'id_02' appears twice"), std::string::npos) << error_of(text);
  std::string top = sample_json().dump();
  top.insert(1, "\"quantile\":0.5,");
  EXPECT_NE(error_of(top).find("key 'quantile' appears twice"), std::string::npos) << error_of(top);
}

TEST(Thresholds, RejectsEachMissingField) {
  for (const char* field : {"format", "version", "model_sha1", "score_kind", "method", "quantile", "machines"}) {
    json document = sample_json();
    document.erase(field);
    EXPECT_NE(error_of(document).find(std::string("missing field '") + field + "'"), std::string::npos) << field;
  }
  for (const char* field : {"threshold", "clips"}) {
    json document = sample_json();
    document["machines"]["id_02"].erase(field);
    EXPECT_EQ(error_of(document), std::string("t.json: machines.id_02: missing field '") + field + "'");
  }
  json document = sample_json();
  document["machines"]["id_00"]["gamma"].erase("scale");
  EXPECT_EQ(error_of(document), "t.json: machines.id_00.gamma: missing field 'scale'");
}

TEST(Thresholds, RejectsWrongValues) {
  const auto with = [](const json::json_pointer& where, json value) {
    json document = sample_json();
    document[where] = std::move(value);
    return error_of(document);
  };
  EXPECT_NE(with(json::json_pointer("/format"), "something-else").find("'format'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/version"), 2).find("unsupported 'version'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/model_sha1"), "c54a0f0d").find("40 hexadecimal"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/model_sha1"), 12).find("must be a string"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/score_kind"), "softmax").find("score kind 'softmax'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/method"), "mean").find("method 'mean'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/quantile"), 1.0).find("'quantile' must be in (0, 1)"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/quantile"), "0.9").find("finite number"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines"), json::object()).find("non-empty"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/00"), {{"threshold", 1}, {"clips", 1}}).find("machine '00'"),
            std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_02/clips"), 0).find("'clips' must be a whole number"),
            std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_02/clips"), -3).find("'clips'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_02/clips"), 2.5).find("'clips'"), std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_02/threshold"), nullptr).find("'threshold' must be a finite"),
            std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_00/gamma/shape"), -1).find("'shape' must be positive"),
            std::string::npos);
  EXPECT_NE(with(json::json_pointer("/machines/id_02"), 5).find("machines.id_02 is not a JSON object"),
            std::string::npos);
}

TEST(Thresholds, RefusesToWriteAnInvalidSet) {
  ThresholdSet set = sample_set();
  set.model_sha1 = "not-a-sha1";
  EXPECT_THROW(thresholds_to_json(set), std::invalid_argument);
  set = sample_set();
  set.machines["id_00"].threshold = std::nan("");
  EXPECT_THROW(thresholds_to_json(set), std::invalid_argument);
  set = sample_set();
  set.machines.clear();
  EXPECT_THROW(thresholds_to_json(set), std::invalid_argument);
}

TEST(Thresholds, ScoreMethodNames) {
  EXPECT_EQ(to_string(ScoreMethod::kNegSoftmax), "neg_softmax");
  EXPECT_EQ(parse_score_kind("nll"), ScoreMethod::kNll);
  EXPECT_THROW(parse_score_kind("NLL"), std::invalid_argument);
}

}  // namespace
}  // namespace micronet_ad::host
