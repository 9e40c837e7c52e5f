// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The digits of scikit-learn (digits.csv.gz): reading, resizing and the seeded stratified split.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/random.h"
#include "measure/training/trainer.h"

namespace sonar {
namespace {

constexpr int kSide = 8;                // the file's images are 8x8
constexpr int kPixels = kSide * kSide;  // 64 values, then the label
constexpr int kClasses = 10;
constexpr double kMaxPixel = 16;                   // values are 0..16
constexpr size_t kMaxFileBytes = size_t{1} << 28;  // 256 MiB uncompressed: not a digits file

Status LineError(const std::string& path, int64_t line, const std::string& reason) {
  return InvalidArgumentError(path + ": line " + std::to_string(line) + ": " + reason);
}

// Reads the whole file through zlib (gzread reads plain files as they are). A read error (a
// truncated or corrupt gzip stream) names the line the data stopped in.
Status ReadAll(const std::string& path, std::string* text) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    return NotFoundError("cannot open the digits file " + path + " (" +
                         std::generic_category().message(errno) + ")");
  }
  std::array<char, 1 << 16> buf;
  Status status;
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n > 0) {
      text->append(buf.data(), static_cast<size_t>(n));
      if (text->size() > kMaxFileBytes) {
        status = InvalidArgumentError(path + ": more than " + std::to_string(kMaxFileBytes >> 20) +
                                      " MiB of text; not a digits file");
        break;
      }
      continue;
    }
    // A truncated stream ends like a whole one (0) but leaves Z_BUF_ERROR; corruption is -1.
    int code = Z_OK;
    const char* why = gzerror(f, &code);
    if (n < 0 || code != Z_OK) {
      const int64_t line = std::count(text->begin(), text->end(), '\n') + 1;
      std::string_view message = why != nullptr ? why : "unknown error";
      if (message.substr(0, path.size() + 2) == path + ": ") message.remove_prefix(path.size() + 2);
      status = LineError(
          path, line, "the gzip data is truncated or corrupt (zlib: " + std::string(message) + ")");
    }
    break;
  }
  gzclose(f);
  return status;
}

// Parses one field (surrounding blanks allowed) as a finite number.
bool ParseNumber(std::string_view field, double* value) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  if (field.empty()) return false;
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, *value);
  return ec == std::errc() && ptr == end && std::isfinite(*value);
}

// Bilinear resize of an 8x8 image to height x width with half-pixel centres (the sample of
// output pixel (y, x) is at source (y + 0.5) * 8 / height - 0.5, clamped to the image), so an
// 8x8 "resize" is the identity.
std::vector<float> Resize(const std::array<float, kPixels>& src, int height, int width) {
  std::vector<float> out(static_cast<size_t>(height) * static_cast<size_t>(width));
  for (int y = 0; y < height; ++y) {
    const double sy =
        std::clamp((y + 0.5) * kSide / height - 0.5, 0.0, static_cast<double>(kSide - 1));
    const int y0 = static_cast<int>(sy);
    const int y1 = std::min(y0 + 1, kSide - 1);
    const double fy = sy - y0;
    for (int x = 0; x < width; ++x) {
      const double sx =
          std::clamp((x + 0.5) * kSide / width - 0.5, 0.0, static_cast<double>(kSide - 1));
      const int x0 = static_cast<int>(sx);
      const int x1 = std::min(x0 + 1, kSide - 1);
      const double fx = sx - x0;
      const double top = src[y0 * kSide + x0] * (1 - fx) + src[y0 * kSide + x1] * fx;
      const double bottom = src[y1 * kSide + x0] * (1 - fx) + src[y1 * kSide + x1] * fx;
      out[static_cast<size_t>(y) * width + x] = static_cast<float>(top * (1 - fy) + bottom * fy);
    }
  }
  return out;
}

// Fisher-Yates with Sonar's own UniformInt (std::shuffle differs across standard libraries).
void Shuffle(std::vector<size_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[static_cast<size_t>(UniformInt(rng, 0, static_cast<int64_t>(i) - 1))]);
  }
}

}  // namespace

Status DigitsOptions::Validate() const {
  if (height < kSide || height > 64 || width < kSide || width > 64) {
    return InvalidArgumentError("DigitsOptions: height and width must be in 8..64, got " +
                                std::to_string(height) + "x" + std::to_string(width));
  }
  if (!(validation_fraction > 0 && validation_fraction < 1)) {
    return InvalidArgumentError("DigitsOptions: validation_fraction must be in (0, 1), got " +
                                std::to_string(validation_fraction));
  }
  return OkStatus();
}

std::string FindDigitsCsv() {
  namespace fs = std::filesystem;
  const fs::path rel = fs::path("sklearn") / "datasets" / "data" / "digits.csv.gz";
  // Debian's python3-sklearn first, then any python3.* dist-packages / site-packages (pip).
  std::vector<fs::path> dirs = {"/usr/lib/python3/dist-packages"};
  for (const char* root : {"/usr/lib", "/usr/local/lib", "/usr/lib64", "/usr/local/lib64"}) {
    std::error_code ec;
    std::vector<fs::path> pythons;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.rfind("python3", 0) == 0) pythons.push_back(it->path());
    }
    std::sort(pythons.begin(), pythons.end());  // directory order is not stable
    for (const fs::path& p : pythons) {
      dirs.push_back(p / "dist-packages");
      dirs.push_back(p / "site-packages");
    }
  }
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    const fs::path file = dir / rel;
    if (fs::is_regular_file(file, ec)) return file.string();
  }
  return "";
}

StatusOr<DigitsData> LoadDigits(const DigitsOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  std::string path = options.path;
  if (path.empty()) path = FindDigitsCsv();
  if (path.empty()) {
    return NotFoundError(
        "no digits file: install scikit-learn's data (Debian: apt-get install python3-sklearn, "
        "which ships sklearn/datasets/data/digits.csv.gz), or name the file with --data");
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFoundError("the digits file " + path +
                         " does not exist (install python3-sklearn, or fix --data)");
  }
  std::string text;
  SONAR_RETURN_IF_ERROR(ReadAll(path, &text));

  std::vector<std::vector<float>> images;
  std::vector<int> labels;
  std::array<size_t, kClasses> count{};
  std::string_view rest = text;
  int64_t line_no = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    const int64_t columns = std::count(line.begin(), line.end(), ',') + 1;
    if (columns != kPixels + 1) {
      return LineError(path, line_no,
                       std::to_string(columns) +
                           " columns, expected 65 (64 pixel values 0..16, then the label 0..9)");
    }
    std::array<float, kPixels> pixels{};
    int label = -1;
    for (int column = 0; column <= kPixels; ++column) {
      const size_t comma = line.find(',');
      const std::string_view field = line.substr(0, comma);
      line.remove_prefix(comma == std::string_view::npos ? line.size() : comma + 1);
      double v = 0;
      if (!ParseNumber(field, &v)) {
        return LineError(path, line_no,
                         "column " + std::to_string(column + 1) + ": '" + std::string(field) +
                             "' is not a number");
      }
      if (column < kPixels) {
        if (v < 0 || v > kMaxPixel) {
          return LineError(path, line_no,
                           "column " + std::to_string(column + 1) + ": pixel value " +
                               std::string(field) + " is outside 0..16");
        }
        pixels[column] = static_cast<float>(v / kMaxPixel);
      } else if (v != std::floor(v) || v < 0 || v >= kClasses) {
        return LineError(path, line_no,
                         "column 65: label " + std::string(field) + " is not an integer 0..9");
      } else {
        label = static_cast<int>(v);
      }
    }
    images.push_back(Resize(pixels, options.height, options.width));
    labels.push_back(label);
    ++count[static_cast<size_t>(label)];
  }
  for (int c = 0; c < kClasses; ++c) {
    if (count[static_cast<size_t>(c)] < 2) {
      return InvalidArgumentError(path + ": class " + std::to_string(c) + " has " +
                                  std::to_string(count[static_cast<size_t>(c)]) +
                                  " images; every digit 0..9 needs at least 2 (one to train, one "
                                  "to validate)");
    }
  }

  // Stratified split: ceil(n * fraction) validation images (as scikit-learn's
  // train_test_split), shared among the classes in proportion to their sizes (largest remainder,
  // ties to the smaller class), each class keeping at least one image on either side.
  const size_t n = images.size();
  const size_t n_val = std::clamp<size_t>(
      static_cast<size_t>(std::ceil(static_cast<double>(n) * options.validation_fraction)),
      kClasses, n - kClasses);
  std::array<size_t, kClasses> val_count{};
  std::array<double, kClasses> remainder{};
  size_t assigned = 0;
  for (int c = 0; c < kClasses; ++c) {
    const double exact = static_cast<double>(n_val) * static_cast<double>(count[c]) / n;
    val_count[c] = static_cast<size_t>(exact);
    remainder[c] = exact - static_cast<double>(val_count[c]);
    assigned += val_count[c];
  }
  std::array<int, kClasses> order;
  for (int c = 0; c < kClasses; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; assigned < n_val; i = (i + 1) % kClasses) {
    ++val_count[order[i]];
    ++assigned;
  }
  for (int c = 0; c < kClasses; ++c) {
    val_count[c] = std::clamp<size_t>(val_count[c], 1, count[c] - 1);
  }

  std::array<std::vector<size_t>, kClasses> by_class;
  for (size_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(i);
  Rng rng = MakeRng(options.split_seed, /*stream=*/0x6469676974);  // "digit"
  std::vector<bool> is_validation(n, false);
  for (int c = 0; c < kClasses; ++c) {
    Shuffle(by_class[c], rng);
    for (size_t i = 0; i < val_count[c]; ++i) is_validation[by_class[c][i]] = true;
  }

  DigitsData data;
  data.height = options.height;
  data.width = options.width;
  data.source = path;
  for (size_t i = 0; i < n; ++i) {  // both sets in file order
    if (is_validation[i]) {
      data.validation_images.push_back(std::move(images[i]));
      data.validation_labels.push_back(labels[i]);
    } else {
      data.train_images.push_back(std::move(images[i]));
      data.train_labels.push_back(labels[i]);
    }
  }
  return data;
}

}  // namespace sonar
