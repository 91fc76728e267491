// An empty libcudnn for the CUDA emulator (see CMakeLists.txt here): it loads,
// and lacks every entry point, so Onyx's cuDNN loader reports which.
namespace onyx_emu {
int cudnn_is_not_emulated = 0;
}  // namespace onyx_emu
