#include "host/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "host/eval/roc.h"
#include "host/io/file.h"
#include "host/report/png.h"

namespace micronet_ad::host {
namespace {

constexpr int kHistogramBins = 24;
constexpr const char* kNormalColour = "#2b6cb0";
constexpr const char* kAnomalyColour = "#dd6b20";
constexpr const char* kUnlabelledColour = "#718096";
constexpr const char* kThresholdColour = "#c53030";

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string value_or_undefined(const std::optional<double>& value) {
  return value ? fmt::format("{:.6f}", *value) : "<span class=\"undefined\">undefined</span>";
}

// Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten.
std::vector<double> ticks(double lo, double hi) {
  const double range = hi - lo;
  if (!(range > 0.0) || !std::isfinite(range)) return {lo};
  const double rough = range / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double step = magnitude;
  for (double m : {2.0, 5.0, 10.0}) {
    if (step >= rough) break;
    step = m * magnitude;
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

// [lo, hi] of the values, widened when they are all equal so that a scale can be drawn.
std::pair<double, double> padded_range(std::vector<double> values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) return {0.0, 1.0};
  const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(std::abs(lo) * 0.05, 1e-3);
  return {lo - pad, hi + pad};
}

// A chart's data ranges mapped onto an SVG canvas with margins for the axes.
struct Plot {
  double x0, x1, y0, y1;
  int width, height;
  int left = 52, right = 12, top = 12, bottom = 40;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (width - left - right); }
  double py(double y) const { return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom); }
};

std::string axes(const Plot& p, const std::string& x_label, const std::string& y_label) {
  std::string svg =
      fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#4a5568\"/>\n", p.left,
                  p.top, p.width - p.left - p.right, p.height - p.top - p.bottom);
  for (double t : ticks(p.x0, p.x1)) {
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{:g}</text>\n", p.px(t),
                       p.height - p.bottom + 14, t);
  }
  for (double t : ticks(p.y0, p.y1)) {
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{:g}</text>\n", p.left - 4,
                       p.py(t) + 4, t);
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"label\" text-anchor=\"middle\">{}</text>\n",
                     (p.left + p.width - p.right) / 2.0, p.height - 6, escape(x_label));
  svg += fmt::format(
      "<text x=\"12\" y=\"{:.1f}\" class=\"label\" text-anchor=\"middle\" transform=\"rotate(-90 12 "
      "{:.1f})\">{}</text>\n",
      (p.top + p.height - p.bottom) / 2.0, (p.top + p.height - p.bottom) / 2.0, escape(y_label));
  return svg;
}

struct Labelled {
  std::vector<bool> anomalous;
  std::vector<double> scores;
};

Labelled labelled_scores(const ReportData& data, const ReportMachine& machine) {
  Labelled out;
  for (std::size_t index : machine.clips) {
    const ReportClip& clip = data.clips[index];
    if (!clip.anomalous) continue;
    out.anomalous.push_back(*clip.anomalous);
    out.scores.push_back(clip.score);
  }
  return out;
}

std::string roc_chart(const ReportData& data, const ReportMachine& machine) {
  const Labelled labelled = labelled_scores(data, machine);
  const auto anomalies =
      static_cast<std::size_t>(std::count(labelled.anomalous.begin(), labelled.anomalous.end(), true));
  if (anomalies == 0 || anomalies == labelled.anomalous.size()) {
    return fmt::format(
        "<div class=\"roc-undefined\">ROC undefined for {}: {} normal and {} anomalous labelled clips (both are "
        "needed)</div>\n",
        escape(machine.title), labelled.anomalous.size() - anomalies, anomalies);
  }
  const RocCurve roc = roc_curve(labelled.anomalous, labelled.scores);
  const Plot p{0.0, 1.0, 0.0, 1.0, 300, 300};
  std::string svg = fmt::format(
      "<svg class=\"roc\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"ROC curve of "
      "{}\">\n<title>ROC curve of {}</title>\n",
      p.width, p.height, p.width, p.height, escape(machine.title), escape(machine.title));
  // The pAUC region: false positive rates up to the DCASE limit.
  svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#fefcbf\"/>\n", p.px(0),
                     p.py(1), p.px(kDcaseMaxFpr) - p.px(0), p.py(0) - p.py(1));
  svg += fmt::format(
      "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#a0aec0\" stroke-dasharray=\"4 4\"/>\n",
      p.px(0), p.py(0), p.px(1), p.py(1));
  std::string points;
  for (std::size_t i = 0; i < roc.fpr.size(); ++i)
    points += fmt::format("{:.2f},{:.2f} ", p.px(roc.fpr[i]), p.py(roc.tpr[i]));
  svg += axes(p, "false positive rate", "true positive rate");
  svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", points,
                     kAnomalyColour);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">AUC {} · pAUC {}</text>\n",
                     p.px(1) - 6, p.py(0) - 8, machine.metrics.auc ? fmt::format("{:.3f}", *machine.metrics.auc) : "-",
                     machine.metrics.pauc ? fmt::format("{:.3f}", *machine.metrics.pauc) : "-");
  return svg + "</svg>\n";
}

std::string histogram_chart(const ReportData& data, const ReportMachine& machine) {
  std::vector<double> all;
  for (std::size_t index : machine.clips) all.push_back(data.clips[index].score);
  if (machine.decisions) all.push_back(machine.decisions->threshold);
  const auto [lo, hi] = padded_range(all);
  const double bin_width = (hi - lo) / kHistogramBins;
  // Counts per bin for normal, anomalous and unlabelled clips.
  std::vector<std::array<int, 3>> counts(kHistogramBins, {0, 0, 0});
  for (std::size_t index : machine.clips) {
    const ReportClip& clip = data.clips[index];
    const int bin = std::clamp(static_cast<int>((clip.score - lo) / bin_width), 0, kHistogramBins - 1);
    ++counts[bin][clip.anomalous ? (*clip.anomalous ? 1 : 0) : 2];
  }
  int tallest = 1;
  for (const auto& c : counts) tallest = std::max({tallest, c[0], c[1], c[2]});
  const Plot p{lo, hi, 0.0, tallest * 1.1, 420, 300};
  std::string svg = fmt::format(
      "<svg class=\"histogram\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"score "
      "histogram of {}\">\n<title>Scores of {}: normal vs anomalous</title>\n",
      p.width, p.height, p.width, p.height, escape(machine.title), escape(machine.title));
  const char* colours[3] = {kNormalColour, kAnomalyColour, kUnlabelledColour};
  for (int series = 0; series < 3; ++series) {
    for (int b = 0; b < kHistogramBins; ++b) {
      if (counts[b][series] == 0) continue;
      const double x = p.px(lo + b * bin_width);
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" fill-opacity=\"0.55\"/>\n", x,
          p.py(counts[b][series]), p.px(lo + (b + 1) * bin_width) - x, p.py(0) - p.py(counts[b][series]),
          colours[series]);
    }
  }
  if (machine.decisions) {
    const double x = p.px(machine.decisions->threshold);
    svg += fmt::format(
        "<line class=\"threshold\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"2\" "
        "stroke-dasharray=\"6 3\"/>\n<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" fill=\"{}\">threshold</text>\n",
        x, p.top, x, p.py(0), kThresholdColour, x + 3, p.top + 12, kThresholdColour);
  }
  svg += axes(p, data.score_label, "clips");
  return svg + "</svg>\n";
}

std::string results_table(const ReportData& data) {
  bool with_decisions = false;
  std::vector<IdMetrics> ids;
  std::vector<IdDecisions> decisions;
  for (const ReportMachine& m : data.machines) {
    ids.push_back(m.metrics);
    with_decisions |= m.decisions.has_value();
    if (m.decisions) decisions.push_back(*m.decisions);
  }
  std::string html =
      "<table class=\"results\">\n<thead><tr><th>id</th><th>normal</th><th>anomaly</th><th>AUC</th><th>pAUC</th>";
  if (with_decisions) html += "<th>threshold</th><th>precision</th><th>recall</th><th>F1</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const ReportMachine& m : data.machines) {
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>", escape(m.metrics.machine_id),
                        m.metrics.n_normal, m.metrics.n_anomaly, value_or_undefined(m.metrics.auc),
                        value_or_undefined(m.metrics.pauc));
    if (with_decisions) {
      if (m.decisions) {
        html +=
            fmt::format("<td>{:.6f}</td><td>{}</td><td>{}</td><td>{}</td>", m.decisions->threshold,
                        value_or_undefined(m.decisions->metrics.precision),
                        value_or_undefined(m.decisions->metrics.recall), value_or_undefined(m.decisions->metrics.f1));
      } else {
        html += "<td colspan=\"4\">no threshold</td>";
      }
    }
    html += "</tr>\n";
  }
  const AverageMetrics average = average_metrics(ids);
  html += fmt::format("<tr class=\"average\"><td>Average</td><td></td><td></td><td>{}</td><td>{}</td>",
                      value_or_undefined(average.auc), value_or_undefined(average.pauc));
  if (with_decisions) {
    const DecisionMetrics d = average_decisions(decisions);
    html += fmt::format("<td></td><td>{}</td><td>{}</td><td>{}</td>", value_or_undefined(d.precision),
                        value_or_undefined(d.recall), value_or_undefined(d.f1));
  }
  return html + "</tr>\n</tbody>\n</table>\n";
}

// Per-window scores under the spectrogram, on the same time axis (frames), so each point sits
// under the middle of its window. `lo`/`hi` are shared by the machine's clips.
std::string window_strip(const ReportClip& clip, const std::optional<double>& threshold, double lo, double hi) {
  const double frames = static_cast<double>(std::max<std::size_t>(clip.frames, kWindowFrames));
  constexpr double kHeight = 100.0;
  const auto y = [&](double v) { return kHeight - (v - lo) / (hi - lo) * kHeight; };
  std::string points;
  for (std::size_t k = 0; k < clip.window_scores.size(); ++k) {
    const double centre = static_cast<double>(k * kWindowStride) + kWindowFrames / 2.0;
    points += fmt::format("{:.1f},{:.2f} ", centre, y(clip.window_scores[k]));
  }
  std::string svg = fmt::format(
      "<svg class=\"windows\" viewBox=\"0 0 {:.0f} {:.0f}\" preserveAspectRatio=\"none\" role=\"img\" "
      "aria-label=\"window scores\">\n<title>{} window scores</title>\n",
      frames, kHeight, clip.window_scores.size());
  if (threshold) {
    svg += fmt::format(
        "<line x1=\"0\" y1=\"{:.2f}\" x2=\"{:.0f}\" y2=\"{:.2f}\" stroke=\"{}\" stroke-dasharray=\"6 3\" "
        "vector-effect=\"non-scaling-stroke\"/>\n",
        y(*threshold), frames, y(*threshold), kThresholdColour);
  }
  svg += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"#2d3748\" stroke-width=\"2\" "
      "vector-effect=\"non-scaling-stroke\"/>\n",
      points);
  return svg + "</svg>\n";
}

std::string clip_section(const ReportClip& clip, const std::optional<double>& threshold, double lo, double hi) {
  std::string label = "unlabelled";
  if (clip.anomalous) label = *clip.anomalous ? "anomaly" : "normal";
  std::string html = fmt::format("<section class=\"clip {}\">\n<h4>{} <span class=\"tag\">{}</span> score {:.6f}",
                                 label, escape(clip.name), label, clip.score);
  if (clip.decision) html += *clip.decision ? " <span class=\"alarm\">decided anomalous</span>" : " · decided normal";
  html += "</h4>\n";
  if (!clip.spectrogram_png.empty()) {
    html += fmt::format(
        "<img class=\"spectrogram\" width=\"{}\" height=\"{}\" alt=\"log-mel spectrogram of {}\" "
        "src=\"data:image/png;base64,{}\">\n",
        spectrogram_columns(clip.frames), kMelBands, escape(clip.name), base64_encode(clip.spectrogram_png));
  }
  html += window_strip(clip, threshold, lo, hi);
  html += fmt::format(
      "<p class=\"note\">{} windows of {} frames, every {} frames; window scores from {:.4f} (bottom) to "
      "{:.4f} (top)</p>\n</section>\n",
      clip.window_scores.size(), kWindowFrames, kWindowStride, lo, hi);
  return html;
}

std::string machine_section(const ReportData& data, const ReportMachine& machine) {
  std::string html =
      fmt::format("<section class=\"machine\">\n<h2>{}</h2>\n<div class=\"charts\">\n", escape(machine.title));
  html += roc_chart(data, machine);
  html += histogram_chart(data, machine);
  html += "</div>\n";
  std::optional<double> threshold;
  if (machine.decisions) threshold = machine.decisions->threshold;
  std::vector<double> window_values;
  for (std::size_t index : machine.clips) {
    const auto& w = data.clips[index].window_scores;
    window_values.insert(window_values.end(), w.begin(), w.end());
  }
  if (threshold) window_values.push_back(*threshold);
  const auto [lo, hi] = padded_range(window_values);
  // Most anomalous first: that is where a reader looks.
  std::vector<std::size_t> order = machine.clips;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return data.clips[a].score > data.clips[b].score; });
  html += fmt::format("<h3>Clips ({}), highest score first</h3>\n", order.size());
  for (std::size_t index : order) html += clip_section(data.clips[index], threshold, lo, hi);
  return html + "</section>\n";
}

constexpr const char* kStyle = R"(body{font-family:"DejaVu Sans",sans-serif;margin:24px;color:#1a202c;max-width:1100px}
table.results{border-collapse:collapse;margin:12px 0}
table.results th,table.results td{border:1px solid #cbd5e0;padding:4px 10px;text-align:right}
table.results td:first-child{text-align:left}
tr.average{font-weight:bold}
.undefined{color:#a0aec0;font-style:italic}
.charts{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.roc-undefined{width:300px;padding:12px;border:1px dashed #a0aec0;color:#4a5568}
svg text.tick{font-size:11px;fill:#2d3748}
svg text.label{font-size:12px;fill:#1a202c}
section.clip{margin:14px 0;padding:6px 0;border-top:1px solid #e2e8f0}
section.clip h4{margin:4px 0;font-weight:normal}
.tag{padding:1px 6px;border-radius:4px;background:#edf2f7}
.anomaly .tag{background:#feebc8}
.alarm{color:#c53030;font-weight:bold}
img.spectrogram{display:block;width:100%;height:128px;image-rendering:pixelated}
svg.windows{display:block;width:100%;height:60px;background:#f7fafc}
p.note{font-size:11px;color:#718096;margin:2px 0}
.legend span{display:inline-block;margin-right:16px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
)";

// The log-mel squeezed to `columns` columns: column c is the mean of the finite values of frames
// [c·n/columns, (c+1)·n/columns) per band, NaN when there are none. With one frame a column the
// values are the frames' own.
std::vector<std::array<double, kMelBands>> column_means(const std::vector<std::array<float, kMelBands>>& logmel,
                                                        std::size_t columns) {
  std::vector<std::array<double, kMelBands>> means(columns);
  const std::size_t n = logmel.size();
  for (std::size_t c = 0; c < columns; ++c) {
    const std::size_t first = c * n / columns, last = (c + 1) * n / columns;
    for (int band = 0; band < kMelBands; ++band) {
      double sum = 0.0;
      std::size_t finite = 0;
      for (std::size_t t = first; t < last; ++t) {
        if (std::isfinite(logmel[t][band])) sum += logmel[t][band], ++finite;
      }
      means[c][band] = finite > 0 ? sum / static_cast<double>(finite) : std::numeric_limits<double>::quiet_NaN();
    }
  }
  return means;
}

}  // namespace

std::vector<std::uint8_t> spectrogram_png(const std::vector<std::array<float, kMelBands>>& logmel) {
  if (logmel.empty()) throw std::invalid_argument("spectrogram_png: no frames");
  float top = -std::numeric_limits<float>::infinity();
  for (const auto& frame : logmel) {
    for (float v : frame) {
      if (std::isfinite(v)) top = std::max(top, v);
    }
  }
  if (!std::isfinite(top)) top = 0.0f;
  const double bottom = top - kSpectrogramRangeDb;
  const std::vector<std::array<double, kMelBands>> columns = column_means(logmel, spectrogram_columns(logmel.size()));
  const int width = static_cast<int>(columns.size());
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * kMelBands);
  for (int row = 0; row < kMelBands; ++row) {
    const int band = kMelBands - 1 - row;  // low frequencies at the bottom
    for (int t = 0; t < width; ++t) {
      const double v = columns[t][band];
      const double level = std::isfinite(v) ? std::clamp((v - bottom) / kSpectrogramRangeDb, 0.0, 1.0) : 0.0;
      pixels[static_cast<std::size_t>(row) * width + t] = static_cast<std::uint8_t>(std::lround(level * 255.0));
    }
  }
  return encode_indexed_png(width, kMelBands, pixels, magma_palette());
}

std::string render_html_report(const ReportData& data) {
  for (const ReportMachine& m : data.machines) {
    for (std::size_t index : m.clips) {
      if (index >= data.clips.size()) throw std::invalid_argument("render_html_report: machine names a missing clip");
    }
  }
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}</style>\n"
      "</head>\n<body>\n<h1>{}</h1>\n<ul class=\"facts\">\n",
      escape(data.title), kStyle, escape(data.title));
  for (const auto& [name, value] : data.facts) html += fmt::format("<li>{}: {}</li>\n", escape(name), escape(value));
  html += "</ul>\n<h2>Results</h2>\n";
  html += results_table(data);
  html += fmt::format(
      "<p class=\"legend\"><span><span class=\"swatch\" style=\"background:{}\"></span>normal</span><span><span "
      "class=\"swatch\" style=\"background:{}\"></span>anomaly</span><span><span class=\"swatch\" "
      "style=\"background:{}\"></span>unlabelled</span><span><span class=\"swatch\" style=\"background:{}\"></span>"
      "threshold</span> · ROC: shaded band = FPR up to {} (pAUC) · spectrograms: 64 mel bands (low at the bottom), "
      "{:g} dB range per clip</p>\n",
      kNormalColour, kAnomalyColour, kUnlabelledColour, kThresholdColour, kDcaseMaxFpr, kSpectrogramRangeDb);
  for (const ReportMachine& m : data.machines) html += machine_section(data, m);
  return html + "</body>\n</html>\n";
}

void write_html_report(const std::string& path, const ReportData& data) {
  const std::string html = render_html_report(data);
  write_file(path, html.data(), html.size());
}

}  // namespace micronet_ad::host
