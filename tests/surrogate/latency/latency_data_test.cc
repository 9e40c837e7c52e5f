// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of the latency data layer: the three encoders on known architectures, the CSV loader
// (join on arch_idx, absent values, errors) and reference-latency descriptors.
#include "surrogate/latency/latency_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/surrogate/latency/latency_testing.h"
#include "tests/testing/test_records.h"

namespace sonar {
namespace {

using testing::DatasetsDir;
using testing::ScratchDir;
using testing::WriteFile;

TEST(LatencySpace, NamesRoundTrip) {
  for (LatencySpace s : {LatencySpace::kNasBench201, LatencySpace::kFbnet, LatencySpace::kOfa}) {
    LatencySpace back = LatencySpace::kOfa;
    ASSERT_TRUE(StringToLatencySpace(LatencySpaceToString(s), &back));
    EXPECT_EQ(back, s);
  }
  LatencySpace x;
  EXPECT_FALSE(StringToLatencySpace("darts", &x));
}

TEST(EncodeNasBench201, PutsOneOpPerEdgeInEdgeOrder) {
  // arch 0 of HELP's table: edges 1<-0 avg_pool, 2<-0 conv1x1, 2<-1 skip, 3<-0 conv1x1,
  // 3<-1 skip, 3<-2 skip. Ops: none 0, skip 1, conv1x1 2, conv3x3 3, avg_pool 4.
  StatusOr<Eigen::VectorXd> x = EncodeNasBench201(
      "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
      "skip_connect~2|");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  ASSERT_EQ(x->size(), 30);
  EXPECT_EQ(x->sum(), 6);
  for (int hot : {0 * 5 + 4, 1 * 5 + 2, 2 * 5 + 1, 3 * 5 + 2, 4 * 5 + 1, 5 * 5 + 1}) {
    EXPECT_EQ((*x)(hot), 1) << hot;
  }
}

TEST(EncodeNasBench201, RejectsMalformedCells) {
  EXPECT_FALSE(EncodeNasBench201("").ok());
  EXPECT_FALSE(EncodeNasBench201("|none~0|+|none~0|none~1|").ok());  // 2 nodes
  EXPECT_FALSE(EncodeNasBench201("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|").ok());
  EXPECT_FALSE(EncodeNasBench201("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|").ok());
  StatusOr<Eigen::VectorXd> bad = EncodeNasBench201("|none~0|+|none~0|+|none~0|none~1|none~2|");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("inputs"), std::string::npos);
}

TEST(EncodeFbnet, OneHotPerBlock) {
  StatusOr<Eigen::VectorXd> x =
      EncodeFbnet("7-8-1-8-4-8-8-8-7-4-1-4-7-3-2-7-3-2-4-2-4-5");  // arch 0 of HELP's table
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  ASSERT_EQ(x->size(), 198);
  EXPECT_EQ(x->sum(), 22);
  EXPECT_EQ((*x)(0 * 9 + 7), 1);
  EXPECT_EQ((*x)(1 * 9 + 8), 1);
  EXPECT_EQ((*x)(21 * 9 + 5), 1);
  EXPECT_FALSE(EncodeFbnet("7-8-1").ok());                                        // 3 blocks
  EXPECT_FALSE(EncodeFbnet("9-8-1-8-4-8-8-8-7-4-1-4-7-3-2-7-3-2-4-2-4-5").ok());  // op 9
  EXPECT_FALSE(EncodeFbnet("a-8-1-8-4-8-8-8-7-4-1-4-7-3-2-7-3-2-4-2-4-5").ok());
}

TEST(EncodeOfa, MasksInactiveLayersAndEncodesResolution) {
  // arch 0 of HELP's OFA table.
  StatusOr<Eigen::VectorXd> x =
      EncodeOfa("7-5-5-5-7-7-5-7-5-7-3-7-5-3-7-3-5-3-5-3",
                "6-4-4-6-6-3-4-3-3-6-3-3-3-6-3-4-6-4-3-6", "2-2-2-2-3", 204);
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  ASSERT_EQ(x->size(), LatencyEncodingSize(LatencySpace::kOfa));
  // Stage 0: layers 0 and 1 active (ks 7, 5; e 6, 4), layers 2 and 3 inactive.
  EXPECT_EQ((*x)(0 * 6 + 2), 1);      // ks 7
  EXPECT_EQ((*x)(0 * 6 + 3 + 2), 1);  // e 6
  EXPECT_EQ((*x)(1 * 6 + 1), 1);      // ks 5
  EXPECT_EQ((*x)(1 * 6 + 3 + 1), 1);  // e 4
  EXPECT_EQ(x->segment(2 * 6, 12).sum(), 0);
  // Stage 4 has depth 3: layer 19 inactive, layer 18 active.
  EXPECT_EQ(x->segment(19 * 6, 6).sum(), 0);
  EXPECT_EQ(x->segment(18 * 6, 6).sum(), 2);
  // Depth one-hots and resolution.
  EXPECT_EQ((*x)(120 + 0 * 3 + 0), 1);  // d=2
  EXPECT_EQ((*x)(120 + 4 * 3 + 1), 1);  // d=3
  EXPECT_EQ((*x)(135 + (204 - 128) / 4), 1);
  EXPECT_NEAR((*x)(160), (204.0 / 224) * (204.0 / 224), 1e-12);
  EXPECT_FALSE(EncodeOfa("7-5", "6-4", "2-2-2-2-3", 204).ok());
  EXPECT_FALSE(EncodeOfa("7-5-5-5-7-7-5-7-5-7-3-7-5-3-7-3-5-3-5-3",
                         "6-4-4-6-6-3-4-3-3-6-3-3-3-6-3-4-6-4-3-6", "2-2-2-2-5", 204)
                   .ok());
}

TEST(LoadLatencyTable, JoinsFilesOnArchIdxAndKeepsAbsentValuesAsNaN) {
  ScratchDir dir;
  const std::string c0 = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
  const std::string c1 = "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|";
  const std::string c2 = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|";
  WriteFile(dir.File("a.csv"), "arch_idx,arch_str,gpu,cpu\n0," + c0 + ",1.5,2\n1," + c1 +
                                   ",2.5,nan\n2," + c2 + ",3.5,4\n");
  WriteFile(dir.File("b.csv"), "arch_idx,arch_str,phone\n2," + c2 + ",40\n0," + c0 + ",\n");
  StatusOr<LatencyTable> t =
      LoadLatencyTable({dir.File("a.csv"), dir.File("b.csv")}, LatencySpace::kNasBench201);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_archs(), 2);  // arch 1 is not in b.csv
  EXPECT_EQ(t->devices, (std::vector<std::string>{"gpu", "cpu", "phone"}));
  EXPECT_EQ(t->arch_idx, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(t->latency_ms(1, 2), 40);
  EXPECT_TRUE(std::isnan(t->latency_ms(0, 2)));
  EXPECT_EQ(t->encodings(1, 3), 1);  // arch 2: conv3x3 on edge 0
  HardwareDescriptor hw = t->Descriptor(t->DeviceColumn("cpu"), {2, 0, 99});
  EXPECT_EQ(hw.source, "reference_latencies");
  EXPECT_EQ(hw.feature_names,
            (std::vector<std::string>{"ref_arch_2", "ref_arch_0", "ref_arch_99"}));
  EXPECT_EQ(hw.feature_sources[0], "reference_arch");
  EXPECT_NEAR(hw.features(0), std::log(4.0), 1e-12);
  EXPECT_NEAR(hw.features(1), std::log(2.0), 1e-12);
  EXPECT_TRUE(std::isnan(hw.features(2)));  // not in the table
  EXPECT_EQ(ReferenceFeatureArchIndex("ref_arch_2"), 2);
  EXPECT_EQ(ReferenceFeatureArchIndex("probe_fma_gflops"), -1);
}

TEST(LoadLatencyTable, ReportsMalformedInputWithFileAndLine) {
  ScratchDir dir;
  WriteFile(dir.File("bad.csv"),
            "arch_idx,arch_str,gpu\n0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,abc\n");
  StatusOr<LatencyTable> t = LoadLatencyTable({dir.File("bad.csv")}, LatencySpace::kNasBench201);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("bad.csv:2"), std::string::npos) << t.status().ToString();
  EXPECT_EQ(LoadLatencyTable({dir.File("absent.csv")}, LatencySpace::kNasBench201).status().code(),
            StatusCode::kNotFound);
  WriteFile(dir.File("fb.csv"), "arch_idx,op_idx_list,gpu\n0,1-2,3\n");
  EXPECT_FALSE(LoadLatencyTable({dir.File("fb.csv")}, LatencySpace::kNasBench201).ok());
  EXPECT_FALSE(LoadLatencyTable({dir.File("fb.csv")}, LatencySpace::kFbnet).ok());  // 2 blocks
}

TEST(LoadLatencyTable, ReadsHelpsTablesInPlace) {
  SONAR_SKIP_WITHOUT_DATASETS();
  const std::string dir = DatasetsDir() + "/help_latency/";
  StatusOr<LatencyTable> nb =
      LoadLatencyTable({dir + "nasbench201_latency_ms.csv"}, LatencySpace::kNasBench201);
  ASSERT_TRUE(nb.ok()) << nb.status().ToString();
  EXPECT_EQ(nb->num_archs(), 15625);
  EXPECT_EQ(nb->num_devices(), 25);  // gold_6226 and pixel2 are held out of the data set
  EXPECT_GE(nb->DeviceColumn("fpga"), 0);
  StatusOr<std::vector<int64_t>> refs =
      ReadReferenceArchIndices(dir + "nasbench201_hardware_embedding_index.txt");
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(refs->size(), 10u);
  StatusOr<LatencyTable> ofa = LoadLatencyTable({dir + "ofa_latency_ms.csv"}, LatencySpace::kOfa);
  ASSERT_TRUE(ofa.ok()) << ofa.status().ToString();
  EXPECT_EQ(ofa->num_archs(), 5000);
  EXPECT_EQ(ofa->num_devices(), 9);
}

}  // namespace
}  // namespace sonar
