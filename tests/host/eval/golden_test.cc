// The DCASE baseline's slider scores reproduce scikit-learn 1.2.1's AUC and pAUC (docs/scores.md).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "host/eval/dcase_csv.h"
#include "host/eval/metrics.h"
#include "host/io/shared_data.h"

namespace micronet_ad::host {
namespace {

struct Expected {
  std::string file;
  std::size_t n_anomaly = 0, n_normal = 0;
  double auc = 0, pauc = 0;
};

// golden/metrics/expected_auc_pauc.csv: file,n_anomaly,n_normal,auc,pauc_p0.1_mcclish
std::vector<Expected> read_expected() {
  std::ifstream in(shared_path("golden/metrics/expected_auc_pauc.csv"));
  std::string line;
  std::getline(in, line);  // header
  std::vector<Expected> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    Expected e;
    if (!(fields >> e.file >> e.n_anomaly >> e.n_normal >> e.auc >> e.pauc)) ADD_FAILURE() << "bad row: " << line;
    rows.push_back(e);
  }
  return rows;
}

TEST(GoldenMetrics, SliderScoresMatchScikitLearn) {
  const std::vector<Expected> expected = read_expected();
  ASSERT_EQ(expected.size(), 4u);
  std::vector<IdMetrics> all;
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.file);
    const std::vector<ScoreRow> rows = read_score_csv(shared_path("golden/metrics/" + e.file));
    const std::vector<IdMetrics> ids = evaluate_by_id(rows);
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(ids[0].machine_id, parse_score_csv_name(e.file).value().machine_id);
    EXPECT_EQ(ids[0].n_anomaly, e.n_anomaly);
    EXPECT_EQ(ids[0].n_normal, e.n_normal);
    ASSERT_TRUE(ids[0].auc && ids[0].pauc);
    EXPECT_NEAR(*ids[0].auc, e.auc, 1e-9);
    EXPECT_NEAR(*ids[0].pauc, e.pauc, 1e-9);
    std::printf("%s: AUC %.12f (diff %+.2e), pAUC %.12f (diff %+.2e)\n", e.file.c_str(), *ids[0].auc,
                *ids[0].auc - e.auc, *ids[0].pauc, *ids[0].pauc - e.pauc);
    all.push_back(ids[0]);
  }
  const AverageMetrics average = average_metrics(all);
  double auc_sum = 0, pauc_sum = 0;
  for (const Expected& e : expected) auc_sum += e.auc, pauc_sum += e.pauc;
  EXPECT_NEAR(average.auc.value(), auc_sum / 4, 1e-9);
  EXPECT_NEAR(average.pauc.value(), pauc_sum / 4, 1e-9);
}

}  // namespace
}  // namespace micronet_ad::host
