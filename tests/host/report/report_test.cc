// The HTML report: its PNG and base64 pieces decoded independently, its structure, and the
// report `eval --report` writes opened in headless Chromium (no console errors, a real screenshot).
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/io/file.h"
#include "host/io/shared_data.h"
#include "host/report/html_report.h"
#include "host/report/png.h"
#include "support/cli.h"

namespace micronet_ad::host {
namespace {

namespace fs = std::filesystem;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct DecodedPng {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // width x height x 3
};

// Full decode with libpng's simplified API: what a browser would show.
DecodedPng decode_png(const std::vector<std::uint8_t>& bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  DecodedPng out;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    ADD_FAILURE() << "not a PNG: " << image.message;
    return out;
  }
  image.format = PNG_FORMAT_RGB;
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
    ADD_FAILURE() << "PNG decode failed: " << image.message;
    return out;
  }
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  return out;
}

// Width and height from a PNG file's IHDR chunk (bytes 16..23, big-endian), after its signature.
std::pair<std::uint32_t, std::uint32_t> png_file_size(const std::string& bytes) {
  static const std::string kSignature = "\x89PNG\r\n\x1a\n";
  if (bytes.size() < 24 || bytes.compare(0, 8, kSignature) != 0 || bytes.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()), encoded) << plain;
  }
  const std::vector<std::uint8_t> high = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(base64_encode(high), "+/+/");
}

TEST(Png, IndexedImageDecodesToItsPaletteColours) {
  const std::vector<Rgb> palette = {{{0, 0, 0}}, {{255, 0, 0}}, {{10, 200, 30}}};
  const std::vector<std::uint8_t> pixels = {0, 1, 2, 2, 1, 0};  // 3 x 2
  const DecodedPng png = decode_png(encode_indexed_png(3, 2, pixels, palette));
  ASSERT_EQ(png.width, 3);
  ASSERT_EQ(png.height, 2);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(png.rgb[i * 3 + c], palette[pixels[i]][c]) << i;
  }
  EXPECT_THROW(encode_indexed_png(3, 3, pixels, palette), std::invalid_argument);
  EXPECT_THROW(encode_indexed_png(3, 2, {0, 1, 2, 3, 1, 0}, palette), std::invalid_argument);
}

// A 10-hour clip (1.1 million frames) made libpng refuse the image ("Invalid IHDR data"); the
// picture is squeezed to kSpectrogramMaxColumns columns, each the mean of its frames.
TEST(Png, LongSpectrogramIsDownsampledByAveraging) {
  const std::size_t frames = 1125000;
  std::vector<std::array<float, kMelBands>> logmel(frames);
  for (std::size_t t = 0; t < frames; ++t) logmel[t].fill(t < frames / 2 ? -80.0f : 0.0f);  // dark, then loud
  const DecodedPng png = decode_png(spectrogram_png(logmel));
  ASSERT_EQ(png.width, static_cast<int>(kSpectrogramMaxColumns));
  ASSERT_EQ(png.height, kMelBands);
  const std::vector<Rgb> palette = magma_palette();
  auto pixel = [&](int x) { return Rgb{png.rgb[3 * x], png.rgb[3 * x + 1], png.rgb[3 * x + 2]}; };
  EXPECT_EQ(pixel(0), palette[0]);
  EXPECT_EQ(pixel(png.width - 1), palette[255]);
  EXPECT_EQ(spectrogram_columns(100), 100u);  // short clips keep a column per frame
}

TEST(Png, SpectrogramHasHighBandsOnTopAndAnEightyDbScale) {
  // 5 frames; frame 2 band 63 is the loudest (0 dB); band 0 is at -40 dB, the rest far below.
  std::vector<std::array<float, kMelBands>> logmel(5);
  for (auto& frame : logmel) frame.fill(-200.0f);
  for (auto& frame : logmel) frame[0] = -40.0f;
  logmel[2][63] = 0.0f;
  const DecodedPng png = decode_png(spectrogram_png(logmel));
  ASSERT_EQ(png.width, 5);
  ASSERT_EQ(png.height, kMelBands);
  const std::vector<Rgb> palette = magma_palette();
  auto pixel = [&](int x, int y) {
    const std::size_t at = (static_cast<std::size_t>(y) * 5 + x) * 3;
    return Rgb{png.rgb[at], png.rgb[at + 1], png.rgb[at + 2]};
  };
  EXPECT_EQ(pixel(2, 0), palette[255]);              // top row = band 63, the maximum
  EXPECT_EQ(pixel(0, 0), palette[0]);                // below max - 80 dB: the darkest colour
  EXPECT_EQ(pixel(3, kMelBands - 1), palette[128]);  // bottom row = band 0: -40 dB is half way
  // The palette runs from dark to bright.
  auto brightness = [](const Rgb& c) { return c[0] + c[1] + c[2]; };
  for (int i = 1; i < 256; ++i) EXPECT_LE(brightness(palette[i - 1]), brightness(palette[i]) + 2) << i;
}

ReportData synthetic_report() {
  ReportData data;
  data.title = "test <report>";
  data.score_label = "score";
  for (int i = 0; i < 4; ++i) {
    ReportClip clip;
    clip.name = (i == 0 ? "anomaly" : "normal") + std::string("_id_00_0000000") + std::to_string(i) + ".wav";
    clip.anomalous = i == 0;
    clip.score = i == 0 ? -0.1 : -0.9 - 0.01 * i;
    clip.window_scores = {clip.score, clip.score + 0.01};
    clip.frames = 84;
    clip.spectrogram_png = spectrogram_png(std::vector<std::array<float, kMelBands>>(84));
    data.clips.push_back(clip);
  }
  ReportClip odd;
  odd.name = "normal_id_02_<&>.wav";
  odd.anomalous = false;
  odd.window_scores = {0.0};
  data.clips.push_back(odd);
  ReportMachine a;
  a.title = "slider id_00";
  a.clips = {0, 1, 2, 3};
  a.metrics = {"id_00", 3, 1, 1.0, 1.0};
  a.decisions = IdDecisions{-0.5, {}, {}};
  ReportMachine b;
  b.title = "slider id_02";
  b.clips = {4};
  b.metrics = {"id_02", 1, 0, std::nullopt, std::nullopt};
  data.machines = {a, b};
  return data;
}

TEST(HtmlReport, OneRocPerIdWithBothClassesAndNothingExternal) {
  const std::string html = render_html_report(synthetic_report());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<svg class=\"roc\""), 1u);
  EXPECT_EQ(count(html, "class=\"roc-undefined\""), 1u);
  EXPECT_EQ(count(html, "<svg class=\"histogram\""), 2u);
  EXPECT_EQ(count(html, "<img class=\"spectrogram\""), 4u);  // the fifth clip has none
  EXPECT_EQ(count(html, "<svg class=\"windows\""), 5u);
  EXPECT_EQ(count(html, "class=\"threshold\""), 1u);  // only id_00 has a threshold
  EXPECT_EQ(count(html, "<section class=\"machine\""), 2u);
  EXPECT_GE(count(html, ">undefined</span>"), 2u);
  // Names are escaped; no scripts, no network.
  EXPECT_NE(html.find("normal_id_02_&lt;&amp;&gt;.wav"), std::string::npos);
  EXPECT_NE(html.find("test &lt;report&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  for (const char* external : {"src=\"http", "href=\"http", "url(http", "@import", "<link"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  ReportData broken = synthetic_report();
  broken.machines[0].clips.push_back(99);
  EXPECT_THROW(render_html_report(broken), std::invalid_argument);
}

// Chromium, a real browser; console messages are logged to stderr as "CONSOLE".
struct Browser {
  int exit_code = -1;
  std::string log;
};
Browser screenshot(const std::string& html_path, const std::string& png_path) {
  const std::string log = png_path + ".log";
  const std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
      "--enable-logging=stderr --v=0 --window-size=1200,1600 --screenshot=" +
      png_path + " file://" + html_path + " >" + log + " 2>&1 </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::slurp(log)};
}

TEST(HtmlReport, ConsoleErrorsAreDetected) {
  // The check below must be able to fail: a page that logs an error is caught.
  const std::string page = test::temp_dir() + "/console_error.html";
  const std::string page_text = "<!DOCTYPE html><title>x</title><script>console.error('report-test-error')</script>";
  host::write_file(page, page_text.data(), page_text.size());
  const Browser b = screenshot(page, test::temp_dir() + "/console_error.png");
  ASSERT_EQ(b.exit_code, 0) << b.log;
  EXPECT_NE(b.log.find("CONSOLE"), std::string::npos) << b.log;
  EXPECT_NE(b.log.find("report-test-error"), std::string::npos) << b.log;
}

TEST(HtmlReport, EvalReportOpensInChromiumWithoutConsoleErrors) {
  // A DCASE tree of two machine types, one ID each: slider (the shared pair and 3 training
  // normals) and fan (its pair).
  const fs::path root = fs::path(test::temp_dir()) / "report_tree";
  fs::remove_all(root);
  const std::string data = shared_path("data/dcase2020_task2");
  auto link = [&](const std::string& from, const std::string& type, const std::string& name) {
    fs::create_directories(root / type / "test");
    fs::create_symlink(data + "/" + from, root / type / "test" / name);
  };
  link("slider/test/normal_id_00_00000000.wav", "slider", "normal_id_00_00000000.wav");
  link("slider/test/anomaly_id_00_00000000.wav", "slider", "anomaly_id_00_00000000.wav");
  for (int k = 0; k < 3; ++k) {
    link("slider/train/normal_id_00_0000000" + std::to_string(k) + ".wav", "slider",
         "normal_id_00_0000010" + std::to_string(k) + ".wav");
  }
  link("fan/test/normal_id_00_00000000.wav", "fan", "normal_id_00_00000000.wav");
  link("fan/test/anomaly_id_00_00000000.wav", "fan", "anomaly_id_00_00000000.wav");
  const std::string html_path = test::temp_dir() + "/report.html";
  ::unsetenv("MICRONET_AD_MODEL");
  const auto r =
      test::run_cli("eval --out " + test::temp_dir() + "/report_out --report " + html_path + " " + root.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = test::slurp(html_path);
  EXPECT_EQ(count(html, "<svg class=\"roc\""), 2u);  // one ROC per ID
  EXPECT_EQ(count(html, "<img class=\"spectrogram\" width=\"313\" height=\"64\""), 7u);
  EXPECT_EQ(count(html, "<svg class=\"windows\""), 7u);
  EXPECT_NE(html.find("<td>fan/id_00</td>"), std::string::npos);
  EXPECT_LT(html.size(), 7u * 40000u) << "spectrograms should stay around 25 KB a clip";

  const std::string shot = test::temp_dir() + "/report.png";
  const Browser b = screenshot(html_path, shot);
  ASSERT_EQ(b.exit_code, 0) << b.log;
  EXPECT_EQ(b.log.find("CONSOLE"), std::string::npos) << b.log;
  const std::string png = test::slurp(shot);
  const auto [width, height] = png_file_size(png);
  EXPECT_EQ(width, 1200u);
  EXPECT_EQ(height, 1600u);
  // A blank page compresses to a few KB; charts and spectrograms do not.
  EXPECT_GT(png.size(), 50000u);
}

TEST(HtmlReport, ScoreReportGroupsByMachineId) {
  const std::string html_path = test::temp_dir() + "/score_report.html";
  const auto r = test::run_cli("score --report " + html_path + " " + shared_path("data/dcase2020_task2/slider/test"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = test::slurp(html_path);
  EXPECT_EQ(count(html, "<section class=\"machine\""), 1u);
  EXPECT_EQ(count(html, "<svg class=\"roc\""), 1u);
  EXPECT_EQ(count(html, "<img class=\"spectrogram\""), 2u);
}

}  // namespace
}  // namespace micronet_ad::host
