// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Kernel Tuner's convolution caches are transfer sources for the GPU conv2d template: the
// transfer encoder matches every knob of a cache record to a column of the template's layout.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "measure/cuda/cuda_operators.h"
#include "measure/history_io.h"
#include "tuner/transfer.h"

namespace sonar {
namespace {

TEST(CudaTransfer, KernelTunerConvolutionRecordsEncodeAgainstTheTemplate) {
  StatusOr<Task> task = MakeCudaOperatorTask("conv2d", {4096, 4096, 15, 15}, "cuda-test");
  ASSERT_TRUE(task.ok());
  StatusOr<TransferEncoder> encoder = TransferEncoder::Make(*task, /*seed=*/0);
  ASSERT_TRUE(encoder.ok()) << encoder.status().message();
  const std::string path =
      std::string(SONAR_SHARED_DIR) + "/datasets/kernel_tuner_cache/convolution_milo__A100.json.gz";
  ImportReport report;
  StatusOr<std::vector<Record>> records = ImportHistoryFile(path, {}, &report);
  if (!records.ok()) GTEST_SKIP() << "no Kernel Tuner cache: " << records.status().message();
  int encoded = 0;
  Eigen::RowVectorXd row;
  for (size_t i = 0; i < records->size() && i < 200; ++i) {
    encoded += encoder->EncodeRecord((*records)[i], &row);
  }
  EXPECT_EQ(encoded, std::min<int>(200, static_cast<int>(records->size())));
  // Two records that differ in block_size_x encode to different rows.
  Eigen::RowVectorXd a, b;
  ASSERT_TRUE(encoder->EncodeRecord((*records)[0], &a));
  size_t j = 1;
  while (j < records->size() &&
         (*records)[j].config.values[0].ints == (*records)[0].config.values[0].ints) {
    ++j;
  }
  ASSERT_LT(j, records->size());
  ASSERT_TRUE(encoder->EncodeRecord((*records)[j], &b));
  EXPECT_GT((a - b).norm(), 0);
}

}  // namespace
}  // namespace sonar
