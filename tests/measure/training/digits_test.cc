// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include <gtest/gtest.h>
#include <zlib.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "measure/training/trainer.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::ScratchDir;
using testing::WriteFile;

// A line of the digits file: 64 pixel values ((pixel + i) % 17 for pixel i), then the label.
std::string Line(int label, int pixel = 3) {
  std::string s;
  for (int i = 0; i < 64; ++i) s += std::to_string((pixel + i) % 17) + ",";
  return s + std::to_string(label) + "\n";
}

// `per_class` lines of every digit, in class order.
std::string ValidText(int per_class) {
  std::string s;
  for (int c = 0; c < 10; ++c) {
    for (int i = 0; i < per_class; ++i) s += Line(c, c + i);
  }
  return s;
}

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

StatusOr<DigitsData> LoadFile(const std::string& path) {
  DigitsOptions o;
  o.path = path;
  return LoadDigits(o);
}

// The real file, or skip: CI installs python3-sklearn.
#define SKIP_WITHOUT_DIGITS() \
  if (FindDigitsCsv().empty()) GTEST_SKIP() << "no digits.csv.gz: install python3-sklearn"

TEST(DigitsOptions, DefaultsAreValid) { EXPECT_TRUE(DigitsOptions{}.Validate().ok()); }

TEST(DigitsOptions, RejectsSizesAndFractionsOutOfRange) {
  DigitsOptions o;
  o.height = 7;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  o = {};
  o.width = 65;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  for (double f : {0.0, 1.0, -0.1, std::nan("")}) {
    o = {};
    o.validation_fraction = f;
    EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument) << f;
  }
}

TEST(Digits, LoadsTheInstalledFileWithAStratifiedSplit) {
  SKIP_WITHOUT_DIGITS();
  StatusOr<DigitsData> d = LoadDigits(DigitsOptions{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->source, FindDigitsCsv());
  EXPECT_EQ(d->height, 16);
  EXPECT_EQ(d->width, 16);
  // scikit-learn's train_test_split(test_size=0.2) sizes: ceil(0.2 * 1797) = 360.
  EXPECT_EQ(d->train_images.size(), 1437u);
  EXPECT_EQ(d->validation_images.size(), 360u);
  ASSERT_EQ(d->train_labels.size(), d->train_images.size());
  ASSERT_EQ(d->validation_labels.size(), d->validation_images.size());
  std::map<int, int> train, validation;
  for (int l : d->train_labels) ++train[l];
  for (int l : d->validation_labels) ++validation[l];
  ASSERT_EQ(train.size(), 10u);
  ASSERT_EQ(validation.size(), 10u);
  for (int c = 0; c < 10; ++c) {
    const double fraction = validation[c] / static_cast<double>(train[c] + validation[c]);
    EXPECT_NEAR(fraction, 0.2, 0.01) << "class " << c;
  }
  float lo = 1, hi = 0;
  for (const auto& image : d->train_images) {
    ASSERT_EQ(image.size(), 256u);
    for (float v : image) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
}

TEST(Digits, SameSeedSameSplitOtherSeedOtherSplit) {
  SKIP_WITHOUT_DIGITS();
  DigitsOptions o;
  o.height = o.width = 8;
  StatusOr<DigitsData> a = LoadDigits(o), b = LoadDigits(o);
  o.split_seed = 1;
  StatusOr<DigitsData> c = LoadDigits(o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train_images, b->train_images);
  EXPECT_EQ(a->validation_labels, b->validation_labels);
  EXPECT_EQ(a->train_images.size(), c->train_images.size());
  EXPECT_NE(a->validation_images, c->validation_images);
  // The two splits are a partition of the same images.
  std::multiset<std::vector<float>> all_a(a->train_images.begin(), a->train_images.end());
  all_a.insert(a->validation_images.begin(), a->validation_images.end());
  std::multiset<std::vector<float>> all_c(c->train_images.begin(), c->train_images.end());
  all_c.insert(c->validation_images.begin(), c->validation_images.end());
  EXPECT_EQ(all_a, all_c);
}

TEST(Digits, ResizesBilinearlyWithHalfPixelCentres) {
  ScratchDir dir;
  std::string text;  // every image is the same: pixel i is i % 17
  for (int c = 0; c < 10; ++c) text += Line(c, 0) + Line(c, 0);
  WriteFile(dir.File("d.csv"), text);
  DigitsOptions o;
  o.path = dir.File("d.csv");
  o.height = o.width = 8;
  StatusOr<DigitsData> same = LoadDigits(o);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  for (int i = 0; i < 64; ++i) EXPECT_FLOAT_EQ(same->train_images[0][i], (i % 17) / 16.0f);
  o.height = 16;
  o.width = 24;
  StatusOr<DigitsData> big = LoadDigits(o);
  ASSERT_TRUE(big.ok());
  const std::vector<float>& image = big->train_images[0];
  ASSERT_EQ(image.size(), 16u * 24u);
  EXPECT_FLOAT_EQ(image[0], 0.0f);  // the corner sample clamps to source (0, 0)
  // Output (1, 0) samples source row 0.25, column 0: 0.75 * 0 + 0.25 * 8.
  EXPECT_FLOAT_EQ(image[24], 2.0f / 16);
  // Output (1, 2) samples source (0.25, 2.5 / 3 - 0.5 = 1/3): rows 0 and 1, columns 0 and 1.
  const double top = 0 + (1.0 / 3) * 1, bottom = 8 + (1.0 / 3) * 1;
  EXPECT_NEAR(image[24 + 2], (0.75 * top + 0.25 * bottom) / 16, 1e-6);
}

TEST(Digits, ReadsPlainAndGzipFilesAlike) {
  ScratchDir dir;
  const std::string text = ValidText(4);
  WriteFile(dir.File("d.csv"), text);
  WriteGzip(dir.File("d.csv.gz"), text);
  StatusOr<DigitsData> plain = LoadFile(dir.File("d.csv"));
  StatusOr<DigitsData> gz = LoadFile(dir.File("d.csv.gz"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(gz.ok()) << gz.status().ToString();
  EXPECT_EQ(plain->train_images, gz->train_images);
  EXPECT_EQ(plain->train_images.size() + plain->validation_images.size(), 40u);
  EXPECT_EQ(plain->validation_images.size(), 10u);  // one per class: ceil(0.2 * 40) = 8 -> 10
}

TEST(Digits, MalformedLinesNameTheFileAndLine) {
  ScratchDir dir;
  struct Case {
    std::string bad_line, reason;
  };
  std::string too_few = Line(3);
  too_few.erase(too_few.find(','), 2);  // drops the first value and its comma
  const std::vector<Case> cases = {
      {too_few, "64 columns, expected 65"},
      {Line(3).substr(0, Line(3).size() - 1) + ",4\n", "66 columns, expected 65"},
      {"17," + Line(3).substr(Line(3).find(',') + 1), "column 1: pixel value 17 is outside 0..16"},
      {"x," + Line(3).substr(Line(3).find(',') + 1), "column 1: 'x' is not a number"},
      {Line(3).substr(0, Line(3).rfind(',') + 1) + "10\n", "column 65: label 10 is not"},
      {Line(3).substr(0, Line(3).rfind(',') + 1) + "2.5\n", "column 65: label 2.5 is not"},
  };
  for (const Case& c : cases) {
    const std::string text = Line(1) + Line(2) + c.bad_line + ValidText(2);
    const std::string path = dir.File("bad.csv.gz");
    WriteGzip(path, text);
    StatusOr<DigitsData> d = LoadFile(path);
    ASSERT_FALSE(d.ok()) << c.reason;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(path + ": line 3: " + c.reason), std::string::npos)
        << d.status().message();
  }
}

TEST(Digits, TruncatedGzipNamesTheLineWhereTheDataStops) {
  ScratchDir dir;
  const std::string path = dir.File("cut.csv.gz");
  WriteGzip(path, ValidText(20));
  std::string bytes = testing::ReadFile(path);
  WriteFile(path, bytes.substr(0, bytes.size() / 2));
  StatusOr<DigitsData> d = LoadFile(path);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find(path + ": line "), std::string::npos) << d.status().message();
  EXPECT_NE(d.status().message().find("truncated or corrupt"), std::string::npos)
      << d.status().message();
}

TEST(Digits, EveryDigitMustBePresent) {
  ScratchDir dir;
  std::string text;
  for (int c = 0; c < 9; ++c) text += Line(c) + Line(c, 5);
  WriteFile(dir.File("nine.csv"), text);
  StatusOr<DigitsData> d = LoadFile(dir.File("nine.csv"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("class 9 has 0 images"), std::string::npos)
      << d.status().message();
}

TEST(Digits, MissingFileIsNotFoundAndNamesTheFix) {
  StatusOr<DigitsData> d = LoadFile("/nonexistent/digits.csv.gz");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("python3-sklearn"), std::string::npos);
  EXPECT_NE(d.status().message().find("--data"), std::string::npos);
}

}  // namespace
}  // namespace sonar
