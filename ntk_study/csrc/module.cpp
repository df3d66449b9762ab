// The Python module of the compiled training loops (chapter 03b_training), built by torch.utils.cpp_extension.load.
#include <torch/extension.h>

torch::Tensor nn1_epoch(torch::Tensor E0, torch::Tensor b0, torch::Tensor E1, torch::Tensor b1, torch::Tensor X,
                        torch::Tensor y, torch::Tensor owner, torch::Tensor coef, int64_t B, double lr_, double s0sq_,
                        double s1sq_);
torch::Tensor hidden_forward(torch::Tensor H, torch::Tensor E);
torch::Tensor hidden_backward_update(torch::Tensor H, torch::Tensor G, torch::Tensor E, double c_);

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
    m.def("nn1_epoch", &nn1_epoch, "SGD epochs of depth-1 NTK networks (15 inputs, batches of at most 8 rows)");
    m.def("hidden_forward", &hidden_forward, "Z = H @ E for a wide hidden layer (8 batch rows)");
    m.def("hidden_backward_update", &hidden_backward_update,
          "P = (G @ E^T) masked by H > 0, then E -= c H^T G, in one pass over E");
}
